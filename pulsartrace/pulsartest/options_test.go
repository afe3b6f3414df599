package pulsartest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestMaxMessageSizeIsAnnouncedAndEnforced(t *testing.T) {
	srv := newServer(t, pulsartest.WithMaxMessageSize(1024))
	client := newClient(t, srv)
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "small", DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx := ctxT(t, 10*time.Second)
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: make([]byte, 512)}); err != nil {
		t.Fatalf("send below the limit: %v", err)
	}
	// The client learns the limit from CONNECTED and refuses the message
	// itself.
	_, err = prod.Send(ctx, &pulsar.ProducerMessage{Payload: make([]byte, 2048)})
	if !errors.Is(err, pulsar.ErrMessageTooLarge) {
		t.Fatalf("send above the limit: %v, want ErrMessageTooLarge", err)
	}
	if n := len(srv.Messages("small")); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
}

func TestListenAddresses(t *testing.T) {
	srv := newServer(t, pulsartest.WithListenAddress("127.0.0.1:0"), pulsartest.WithAdminAddress("localhost:0"))
	if !strings.HasPrefix(srv.URL(), "pulsar://127.0.0.1:") || strings.HasSuffix(srv.URL(), ":0") {
		t.Fatalf("URL = %s", srv.URL())
	}
	if !strings.HasPrefix(srv.AdminURL(), "http://127.0.0.1:") || srv.AdminAddr() == srv.Addr() {
		t.Fatalf("AdminURL = %s, Addr = %s, AdminAddr = %s", srv.AdminURL(), srv.Addr(), srv.AdminAddr())
	}
	// A taken port is an error, not a panic.
	if other, err := pulsartest.Start(pulsartest.WithListenAddress(srv.Addr())); err == nil {
		_ = other.Close()
		t.Fatal("Start on a port in use succeeded")
	}
}

func TestOptionMisusePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"size":      func() { pulsartest.WithMaxMessageSize(0) },
		"address":   func() { pulsartest.WithListenAddress("nonsense") },
		"admin":     func() { pulsartest.WithAdminAddress("") },
		"keepalive": func() { pulsartest.WithKeepAliveInterval(-time.Second) },
		"logger":    func() { pulsartest.WithLogger(nil) },
		"partition": func() { pulsartest.WithPartitionedTopic("t", 0) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil || !strings.HasPrefix(p.(string), "pulsartest.With") {
					t.Fatalf("recovered %v", p)
				}
			}()
			f()
		})
	}
	// Nil options are ignored.
	srv := newServer(t, nil)
	_ = srv.URL()
}
