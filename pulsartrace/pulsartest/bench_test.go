package pulsartest_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// BenchmarkProduceConsume measures messages per second through the broker:
// one producer sending asynchronously and one consumer receiving and
// acknowledging, over loopback TCP with the real client.
func BenchmarkProduceConsume(b *testing.B) {
	for _, bc := range []struct {
		name     string
		batching bool
	}{{"batching", true}, {"no-batching", false}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := newServer(b)
			client := newClient(b, srv)
			cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "bench", SubscriptionName: "sub"})
			if err != nil {
				b.Fatal(err)
			}
			defer cons.Close()
			prod, err := client.CreateProducer(pulsar.ProducerOptions{
				Topic: "bench", DisableBatching: !bc.batching, BatchingMaxPublishDelay: time.Millisecond,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer prod.Close()
			payload := make([]byte, 256)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			done := make(chan error, 1)
			go func() {
				for range b.N {
					m, err := cons.Receive(ctx)
					if err != nil {
						done <- err
						return
					}
					_ = cons.Ack(m)
				}
				done <- nil
			}()
			for range b.N {
				prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: payload}, nil)
			}
			if err := prod.FlushWithCtx(ctx); err != nil {
				b.Fatal(err)
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
