package pulsartrace

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// broker is where the integration tests send: an in-process pulsartest
// server, or the real broker at $PULSAR_URL when that is set.
type broker struct {
	url string
	// srv is nil against a real broker; tests that inject faults or
	// inspect broker state skip then.
	srv *pulsartest.Server
}

func newBroker(t testing.TB) *broker {
	t.Helper()
	if u := os.Getenv("PULSAR_URL"); u != "" {
		return &broker{url: u}
	}
	srv := pulsartest.NewServer(t)
	return &broker{url: srv.URL(), srv: srv}
}

// needServer skips a test that needs pulsartest's fault injection or
// inspection when it runs against a real broker.
func (b *broker) needServer(t testing.TB) *pulsartest.Server {
	t.Helper()
	if b.srv == nil {
		t.Skip("needs pulsartest (fault injection or broker inspection); PULSAR_URL points at a real broker")
	}
	return b.srv
}

func (b *broker) client(t testing.TB) pulsar.Client {
	t.Helper()
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               b.url,
		OperationTimeout:  10 * time.Second,
		ConnectionTimeout: 5 * time.Second,
		Logger:            plog.DefaultNopLogger(),
	})
	if err != nil {
		t.Fatalf("NewClient(%s): %v", b.url, err)
	}
	t.Cleanup(c.Close)
	return c
}

// topic is a topic name no other test (or earlier run against a real
// broker) uses.
func topic(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-", "=", "-").Replace(t.Name())
	return fmt.Sprintf("asynctrace-%s-%08x", strings.ToLower(name), rand.Uint32())
}

func subscribe(t testing.TB, client pulsar.Client, opts pulsar.ConsumerOptions) pulsar.Consumer {
	t.Helper()
	if opts.SubscriptionName == "" {
		opts.SubscriptionName = "sub"
	}
	if opts.Type == pulsar.Exclusive {
		opts.Type = pulsar.Shared
	}
	opts.SubscriptionInitialPosition = pulsar.SubscriptionPositionEarliest
	if opts.NackRedeliveryDelay == 0 {
		opts.NackRedeliveryDelay = 50 * time.Millisecond
	}
	c, err := client.Subscribe(opts)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", opts.Topic, err)
	}
	t.Cleanup(c.Close)
	return c
}

func createProducer(t testing.TB, client pulsar.Client, opts pulsar.ProducerOptions) pulsar.Producer {
	t.Helper()
	p, err := client.CreateProducer(opts)
	if err != nil {
		t.Fatalf("CreateProducer(%s): %v", opts.Topic, err)
	}
	t.Cleanup(p.Close)
	return p
}

// waitFor polls cond until it holds or fails the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
