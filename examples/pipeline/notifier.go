package main

import (
	"context"
	"fmt"
	"log/slog"

	"cloud.google.com/go/pubsub/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/pubsubtrace"
)

// tracerName is the instrumentation scope of the spans the example's own
// code starts.
const tracerName = "github.com/asynctrace/asynctrace/examples/pipeline"

// jobIDKey is the example's own attribute for the job a span worked on.
const jobIDKey = attribute.Key("app.job.id")

// notifier is the last service: it receives notifications from Pub/Sub and
// completes the job.
type notifier struct {
	tracer   trace.Tracer
	onDone   func(completion)
	cancel   context.CancelFunc
	received chan error
}

// startNotifier receives from the notifications subscription with client
// and calls onDone for every completed job.
func startNotifier(ctx context.Context, tel telemetry, client *pubsub.Client, topo topology, onDone func(completion)) (*notifier, error) {
	if err := ensurePubSub(ctx, client, topo, true); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n := &notifier{
		tracer:   tel.TracerProvider().Tracer(tracerName),
		onDone:   onDone,
		cancel:   cancel,
		received: make(chan error, 1),
	}
	sub := client.Subscriber(pubsubSubscriptionName(topo))
	go func() {
		n.received <- sub.Receive(runCtx, pubsubtrace.WrapHandler(sub, n.handle, tel.messagingOptions()...))
	}()
	return n, nil
}

// handle runs inside the process span WrapHandler started: ctx carries it.
func (n *notifier) handle(ctx context.Context, m *pubsub.Message) {
	var note notification
	if err := decodeJSON(m.Data, &note, func() string { return note.JobID }); err != nil {
		slog.WarnContext(ctx, "dropping notification", "message", m.ID, "error", err)
		pubsubtrace.Ack(ctx, m)
		return
	}
	_, span := n.tracer.Start(ctx, "complete job", trace.WithAttributes(jobIDKey.String(note.JobID)))
	sc := span.SpanContext()
	n.onDone(completion{JobID: note.JobID, TraceID: sc.TraceID().String(), Sampled: sc.IsSampled()})
	span.End()
	// Ack through pubsubtrace with the handler's ctx records the settlement
	// on the process span.
	pubsubtrace.Ack(ctx, m)
}

// Close stops receiving and waits until every running handler returned.
func (n *notifier) Close(ctx context.Context) error {
	n.cancel()
	select {
	case err := <-n.received:
		return err
	case <-ctx.Done():
		return fmt.Errorf("notifier: Receive did not return: %w", ctx.Err())
	}
}
