package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// worker is job-worker: it consumes jobs from Pulsar, does the work and
// announces the result as a Watermill event.
type worker struct {
	client    pulsar.Client
	consumer  pulsar.Consumer
	publisher message.Publisher
	topic     string
	cancel    context.CancelFunc
	handled   chan error
}

// startWorker consumes from Pulsar at pulsarURL and publishes through pub,
// which it closes on Close. watermillSystem names the broker behind pub.
func startWorker(tel telemetry, pulsarURL string, pub message.Publisher, watermillSystem string, topo topology) (*worker, error) {
	client, err := newPulsarClient(pulsarURL)
	if err != nil {
		return nil, err
	}
	consumer, err := client.Subscribe(pulsar.ConsumerOptions{
		Topic:            topo.JobsTopic,
		SubscriptionName: topo.JobsSubscription,
		Type:             pulsar.Shared,
		// Jobs sent before this service subscribed are processed too.
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
		NackRedeliveryDelay:         time.Second,
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("subscribing to Pulsar topic %q: %w", topo.JobsTopic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{
		client:    client,
		consumer:  pulsartrace.WrapConsumer(consumer, tel.messagingOptions(pulsartrace.WithServiceURL(pulsarURL))...),
		publisher: watermilltrace.WrapPublisher(pub, tel.messagingOptions(messagingSystem(watermillSystem)...)...),
		topic:     topo.EventsTopic,
		cancel:    cancel,
		handled:   make(chan error, 1),
	}
	go func() { w.handled <- pulsartrace.Handle(ctx, w.consumer, w.handle) }()
	return w, nil
}

// handle runs inside the process span of the Pulsar message: ctx carries it,
// and the Watermill message built with ctx continues the trace.
func (w *worker) handle(ctx context.Context, msg pulsar.Message) error {
	var j job
	if err := decodeJSON(msg.Payload(), &j, func() string { return j.ID }); err != nil {
		// Redelivering a message that can never be decoded would loop
		// forever: log it and acknowledge it.
		slog.WarnContext(ctx, "dropping job", "message", msg.ID().String(), "error", err)
		return nil
	}
	body, err := json.Marshal(jobProcessed{ID: j.ID, Result: strings.ToUpper(j.Input)})
	if err != nil {
		return err
	}
	return w.publisher.Publish(w.topic, message.NewMessageWithContext(ctx, watermill.NewUUID(), body))
}

// Close stops consuming, waits for the message in hand, and closes the
// consumer, the publisher and the client.
func (w *worker) Close(ctx context.Context) error {
	w.cancel()
	var err error
	select {
	case err = <-w.handled:
	case <-ctx.Done():
		err = fmt.Errorf("job-worker: the handler did not return: %w", ctx.Err())
	}
	w.consumer.Close()
	err = errors.Join(err, w.publisher.Close())
	w.client.Close()
	return err
}
