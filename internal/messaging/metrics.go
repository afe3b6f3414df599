package messaging

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/messagingconv"
)

// durationBoundaries are the advisory bucket boundaries, in seconds, that the
// messaging conventions give for their duration histograms. The generated
// semconv helpers do not set them, and the SDK's default buckets (meant for
// milliseconds) would put every message in the first two.
var durationBoundaries = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// instruments are the messaging metrics of the semantic conventions. Every
// instrument checks Enabled before doing any work, so with no meter provider
// installed recording costs nothing.
type instruments struct {
	operationDuration messagingconv.ClientOperationDuration
	sent              messagingconv.ClientSentMessages
	consumed          messagingconv.ClientConsumedMessages
	processDuration   messagingconv.ProcessDuration
}

func newInstruments(mp metric.MeterProvider, scope string) instruments {
	m := mp.Meter(scope, metric.WithInstrumentationVersion(Version))
	var ins instruments
	var err error
	if ins.operationDuration, err = messagingconv.NewClientOperationDuration(m, metric.WithExplicitBucketBoundaries(durationBoundaries...)); err != nil {
		otel.Handle(err)
	}
	if ins.sent, err = messagingconv.NewClientSentMessages(m); err != nil {
		otel.Handle(err)
	}
	if ins.consumed, err = messagingconv.NewClientConsumedMessages(m); err != nil {
		otel.Handle(err)
	}
	if ins.processDuration, err = messagingconv.NewProcessDuration(m, metric.WithExplicitBucketBoundaries(durationBoundaries...)); err != nil {
		otel.Handle(err)
	}
	return ins
}

func seconds(since time.Time) float64 { return time.Since(since).Seconds() }

func (ins *instruments) recordSend(ctx context.Context, d *Destination, start time.Time, err error) {
	if !ins.sent.Enabled(ctx) && !ins.operationDuration.Enabled(ctx) {
		return
	}
	set := d.sendSet
	if err != nil {
		set = withError(d.sendAttrs, err)
	}
	ins.sent.AddSet(ctx, 1, set)
	ins.operationDuration.RecordSet(ctx, seconds(start), set)
}

func (ins *instruments) recordConsumed(ctx context.Context, d *Destination) {
	ins.consumed.AddSet(ctx, 1, d.consumeSet)
}

func (ins *instruments) recordProcess(ctx context.Context, d *Destination, start time.Time, err error) {
	if !ins.processDuration.Enabled(ctx) {
		return
	}
	set := d.processSet
	if err != nil {
		set = withError(d.processAttrs, err)
	}
	ins.processDuration.RecordSet(ctx, seconds(start), set)
}

func (ins *instruments) recordReceive(ctx context.Context, d *Destination, start time.Time, err error) {
	if !ins.operationDuration.Enabled(ctx) {
		return
	}
	set := d.receiveSet
	if err != nil {
		set = withError(d.receiveAttrs, err)
	}
	ins.operationDuration.RecordSet(ctx, seconds(start), set)
}

func (ins *instruments) recordSettle(ctx context.Context, d *Destination, s Settlement, start time.Time, err error) {
	if !ins.operationDuration.Enabled(ctx) || s >= settlementCount {
		return
	}
	set := d.settleSets[s]
	if err != nil {
		set = attribute.NewSet(append(set.ToSlice(), errorTypeAttribute(err))...)
	}
	ins.operationDuration.RecordSet(ctx, seconds(start), set)
}
