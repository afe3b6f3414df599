package messaging

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
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

// seconds is the time since start. A zero start means the clock was not
// read when the operation began, because no meter recorded durations then
// (a provider installed while the operation ran): no duration is recorded
// rather than one since year 1.
func seconds(since time.Time) float64 { return time.Since(since).Seconds() }

func (ins *instruments) sendEnabled(ctx context.Context) bool {
	return ins.sent.Inst().Enabled(ctx) || ins.operationDuration.Inst().Enabled(ctx)
}

func (ins *instruments) recordSend(ctx context.Context, d *Destination, start time.Time, err error) {
	if !ins.sendEnabled(ctx) {
		return
	}
	m := d.send.outcome(err)
	ins.sent.Inst().Add(ctx, 1, m.add...)
	if !start.IsZero() {
		ins.operationDuration.Inst().Record(ctx, seconds(start), m.record...)
	}
}

func (ins *instruments) recordConsumed(ctx context.Context, d *Destination) {
	if c := ins.consumed.Inst(); c.Enabled(ctx) {
		c.Add(ctx, 1, d.consume.add...)
	}
}

func (ins *instruments) recordProcess(ctx context.Context, d *Destination, start time.Time, err error) {
	if h := ins.processDuration.Inst(); !start.IsZero() && h.Enabled(ctx) {
		h.Record(ctx, seconds(start), d.process.outcome(err).record...)
	}
}

func (ins *instruments) recordReceive(ctx context.Context, d *Destination, start time.Time, err error) {
	if h := ins.operationDuration.Inst(); !start.IsZero() && h.Enabled(ctx) {
		h.Record(ctx, seconds(start), d.receive.outcome(err).record...)
	}
}

func (ins *instruments) recordSettle(ctx context.Context, d *Destination, s Settlement, start time.Time, err error) {
	if h := ins.operationDuration.Inst(); !start.IsZero() && h.Enabled(ctx) && s < settlementCount {
		h.Record(ctx, seconds(start), d.settle[s].outcome(err).record...)
	}
}
