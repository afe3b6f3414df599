package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/asynctrace/asynctrace/pubsubtrace"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// eventRouter is event-router: a Watermill router whose handler turns each
// job event into a notification on Pub/Sub.
type eventRouter struct {
	router    *message.Router
	publisher *pubsubtrace.Publisher
	ran       chan error
}

// startRouter consumes events from sub, which the router closes, and
// publishes notifications with client. watermillSystem names the broker
// behind sub.
func startRouter(ctx context.Context, tel telemetry, sub message.Subscriber, watermillSystem string, client *pubsub.Client, topo topology) (*eventRouter, error) {
	if err := ensurePubSub(ctx, client, topo, false); err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermillLogger())
	if err != nil {
		return nil, err
	}
	raw := client.Publisher(pubsubTopicName(topo))
	raw.PublishSettings.DelayThreshold = time.Millisecond // one message at a time: no batching wait
	r := &eventRouter{
		router:    router,
		publisher: pubsubtrace.WrapPublisher(raw, tel.messagingOptions()...),
		ran:       make(chan error, 1),
	}
	// First middleware, so that everything after it runs inside the span.
	router.AddMiddleware(watermilltrace.NewMiddleware(tel.messagingOptions(messagingSystem(watermillSystem)...)...))
	router.AddConsumerHandler(topo.RouterHandler, topo.EventsTopic, sub, r.handle)

	go func() { r.ran <- router.Run(context.Background()) }()
	select {
	case <-router.Running():
		return r, nil
	case err := <-r.ran:
		r.publisher.Stop()
		return nil, fmt.Errorf("event-router stopped at start: %w", err)
	case <-ctx.Done():
		_ = router.Close()
		<-r.ran
		r.publisher.Stop()
		return nil, ctx.Err()
	}
}

// handle runs inside the process span the middleware started; msg.Context()
// carries it, so the Pub/Sub send span is its child.
func (r *eventRouter) handle(msg *message.Message) error {
	ctx := msg.Context()
	var ev jobProcessed
	if err := decodeJSON(msg.Payload, &ev, func() string { return ev.ID }); err != nil {
		slog.WarnContext(ctx, "dropping event", "uuid", msg.UUID, "error", err)
		return nil
	}
	body, err := json.Marshal(notification{JobID: ev.ID, Message: "job " + ev.ID + " done: " + ev.Result})
	if err != nil {
		return err
	}
	res := r.publisher.Publish(ctx, &pubsub.Message{Data: body, Attributes: map[string]string{"job_id": ev.ID}})
	// Returning the publish error nacks the event, so Watermill retries it.
	_, err = res.Get(ctx)
	return err
}

// Close stops the router, which waits for running handlers and closes the
// subscriber, then flushes the Pub/Sub publisher.
func (r *eventRouter) Close(ctx context.Context) error {
	err := r.router.Close()
	select {
	case runErr := <-r.ran:
		err = errors.Join(err, runErr)
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("event-router did not stop: %w", ctx.Err()))
	}
	return errors.Join(err, r.publisher.Shutdown(ctx))
}
