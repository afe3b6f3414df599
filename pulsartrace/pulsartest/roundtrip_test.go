package pulsartest_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name        string
		batching    bool
		compression pulsar.CompressionType
	}{
		{"no-batching", false, pulsar.NoCompression},
		{"batching", true, pulsar.NoCompression},
		{"batching-lz4", true, pulsar.LZ4},
		{"no-batching-zstd", false, pulsar.ZSTD},
		{"batching-zlib", true, pulsar.ZLib},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			client := newClient(t, srv)
			topic := "roundtrip-" + tc.name
			cons, err := client.Subscribe(pulsar.ConsumerOptions{
				Topic:            topic,
				SubscriptionName: "sub",
				Type:             pulsar.Exclusive,
			})
			if err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			defer cons.Close()
			prod, err := client.CreateProducer(pulsar.ProducerOptions{
				Topic:                   topic,
				DisableBatching:         !tc.batching,
				BatchingMaxPublishDelay: 5 * time.Millisecond,
				CompressionType:         tc.compression,
			})
			if err != nil {
				t.Fatalf("CreateProducer: %v", err)
			}
			defer prod.Close()

			const n = 1000
			ctx := ctxT(t, 30*time.Second)
			errs := make(chan error, n)
			for i := range n {
				msg := &pulsar.ProducerMessage{
					Payload:    bytes.Repeat([]byte{byte(i)}, i%50+1),
					Key:        "key-" + strconv.Itoa(i%7),
					Properties: map[string]string{"i": strconv.Itoa(i), "traceparent": fmt.Sprintf("00-%032x-%016x-01", i+1, i+1)},
				}
				prod.SendAsync(ctx, msg, func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) { errs <- err })
			}
			if err := prod.FlushWithCtx(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			for range n {
				if err := <-errs; err != nil {
					t.Fatalf("send: %v", err)
				}
			}

			got := receive(t, cons, n, 30*time.Second)
			for i, m := range got {
				want := bytes.Repeat([]byte{byte(i)}, i%50+1)
				if !bytes.Equal(m.Payload(), want) {
					t.Fatalf("message %d: payload %x, want %x", i, m.Payload(), want)
				}
				if m.Key() != "key-"+strconv.Itoa(i%7) {
					t.Fatalf("message %d: key %q", i, m.Key())
				}
				props := m.Properties()
				if props["i"] != strconv.Itoa(i) || props["traceparent"] != fmt.Sprintf("00-%032x-%016x-01", i+1, i+1) || len(props) != 2 {
					t.Fatalf("message %d: properties %v", i, props)
				}
				if err := cons.Ack(m); err != nil {
					t.Fatalf("Ack: %v", err)
				}
			}

			stored := srv.Messages(topic)
			if len(stored) != n {
				t.Fatalf("stored %d messages, want %d", len(stored), n)
			}
			for i, m := range stored {
				if m.Err != nil || m.Properties["i"] != strconv.Itoa(i) ||
					!bytes.Equal(m.Payload, bytes.Repeat([]byte{byte(i)}, i%50+1)) {
					t.Fatalf("stored message %d: %+v", i, m)
				}
				if tc.batching != (m.BatchSize > 0) {
					t.Fatalf("stored message %d: batch size %d with batching=%v", i, m.BatchSize, tc.batching)
				}
				if m.ProducerName != prod.Name() || m.PublishTime.IsZero() {
					t.Fatalf("stored message %d: producer %q publish time %v", i, m.ProducerName, m.PublishTime)
				}
			}
			if tc.compression != pulsar.NoCompression && stored[0].Compression == "NONE" {
				t.Fatalf("stored compression %q", stored[0].Compression)
			}
			eventually(t, 5*time.Second, "backlog to drain", func() bool {
				b, ok := srv.Backlog(topic, "sub")
				return ok && b == 0
			})
		})
	}
}
