package pulsartrace

import (
	"context"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// reader is a pulsar.Reader that starts a process span for every message
// Next returns.
type reader struct {
	pulsar.Reader
	in *messaging.Instrumenter

	// release, when set, tells the client that made r that r is closed.
	release func()

	mu       sync.Mutex
	current  messaging.Process // the span of the message Next returned last
	isClosed bool              // Close was called
	closed   sync.Once
}

var _ pulsar.Reader = (*reader)(nil)

// WrapReader returns a pulsar.Reader that reads through r and traces every
// message, as a consumer does: each message Next returns gets a CONSUMER
// span "process <topic>", a child of the producer's send span, whose
// context [ContextFromMessage] returns. A reader acknowledges nothing, so
// the span covers the reader's work on the message: it ends when Next is
// called again, or on Seek, SeekByTime or Close. Messages a reader hands to
// ReaderOptions.MessageChannel bypass the wrapper and are not traced.
//
// Wrapping an already wrapped reader returns it unchanged. It panics if r
// is nil.
func WrapReader(r pulsar.Reader, opts ...asynctrace.Option) pulsar.Reader {
	if r == nil {
		panic("pulsartrace.WrapReader: reader is nil")
	}
	cfg, _ := resolve("WrapReader", opts)
	if w, ok := r.(*reader); ok {
		return w
	}
	return newReader(r, newInstrumenter(cfg))
}

func newReader(r pulsar.Reader, in *messaging.Instrumenter) *reader {
	return &reader{Reader: r, in: in}
}

// Next ends the span of the previous message and waits for the next one,
// whose process span it starts. As with Receive, ctx bounds only the wait;
// with asynctrace.WithReceiveSpans the wait gets a span "receive <topic>".
func (r *reader) Next(ctx context.Context) (pulsar.Message, error) {
	r.endCurrent()
	start := r.in.Now(ctx)
	m, err := r.Reader.Next(ctx)
	if err == nil && m == nil {
		err = errNoMessage
	}
	if err != nil {
		r.in.Received(ctx, r.in.Destination(destinationName(r.Reader.Topic()), "", ""), start, nil, "", err)
		return nil, err
	}
	topic := m.Topic()
	d := r.in.DestinationFor(messaging.Target{Name: destinationName(topic), Partition: partitionOf(topic)})
	base := ctx
	if ctx.Done() != nil {
		base = context.WithoutCancel(ctx)
	}
	if r.in.ReceiveSpans() {
		base = r.in.Received(base, d, start, m.Properties(), messageIDOf(m), nil)
	} else {
		r.in.Received(ctx, d, start, nil, "", nil)
	}
	_, proc := r.in.StartProcessAt(base, d, m.Properties(), "", len(m.Payload()), m.PublishTime())
	setProcessAttributes(proc, m)
	r.mu.Lock()
	prev := r.current
	if r.isClosed {
		// Close ran while this Next waited: nothing would end the span.
		prev, r.current = proc, messaging.Process{}
	} else {
		r.current = proc
	}
	r.mu.Unlock()
	// Another goroutine's Next may have started a span in between.
	prev.End(messaging.SettleNone, nil)
	return &tracedMessage{Message: m, dl: delivery{proc: proc, d: d}}, nil
}

// Seek ends the span of the last message read and moves the reader.
func (r *reader) Seek(id pulsar.MessageID) error {
	r.endCurrent()
	return r.Reader.Seek(id)
}

// SeekByTime ends the span of the last message read and moves the reader.
func (r *reader) SeekByTime(t time.Time) error {
	r.endCurrent()
	return r.Reader.SeekByTime(t)
}

// Close ends the span of the last message read and closes the reader.
func (r *reader) Close() {
	r.mu.Lock()
	r.isClosed = true
	r.mu.Unlock()
	r.endCurrent()
	r.closed.Do(func() {
		r.Reader.Close()
		if r.release != nil {
			r.release()
		}
	})
}

func (r *reader) endCurrent() {
	r.mu.Lock()
	p := r.current
	r.current = messaging.Process{}
	r.mu.Unlock()
	p.End(messaging.SettleNone, nil)
}
