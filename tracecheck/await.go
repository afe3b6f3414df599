package tracecheck

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Defaults of [Await].
const (
	DefaultTimeout      = 30 * time.Second
	DefaultSettle       = 2 * time.Second
	DefaultPollInterval = 250 * time.Millisecond
)

// AwaitOption configures [Await] and [AssertEventually].
type AwaitOption interface {
	applyAwait(*awaitConfig)
}

type awaitConfig struct {
	timeout, settle, interval time.Duration
}

type awaitOptionFunc func(*awaitConfig)

func (f awaitOptionFunc) applyAwait(c *awaitConfig) { f(c) }

// WithTimeout bounds how long [Await] waits for the trace in all
// (DefaultTimeout by default). A deadline of the context given to Await
// applies as well.
func WithTimeout(d time.Duration) AwaitOption {
	if d <= 0 {
		panic(fmt.Sprintf("tracecheck.WithTimeout: timeout must be positive, got %v", d))
	}
	return awaitOptionFunc(func(c *awaitConfig) { c.timeout = d })
}

// WithSettle sets how long the trace must stay unchanged before [Await]
// takes it as complete and reports how it differs from the expectation
// (DefaultSettle by default). Spans reach a backend in batches, some
// seconds apart; a longer settle time suits slow pipelines.
func WithSettle(d time.Duration) AwaitOption {
	if d <= 0 {
		panic(fmt.Sprintf("tracecheck.WithSettle: settle time must be positive, got %v", d))
	}
	return awaitOptionFunc(func(c *awaitConfig) { c.settle = d })
}

// WithPollInterval sets the pause between two reads of the source
// (DefaultPollInterval by default).
func WithPollInterval(d time.Duration) AwaitOption {
	if d <= 0 {
		panic(fmt.Sprintf("tracecheck.WithPollInterval: interval must be positive, got %v", d))
	}
	return awaitOptionFunc(func(c *awaitConfig) { c.interval = d })
}

// Await reads the trace traceID from src until it matches want, or until
// it has stopped changing for the settle time (see [WithSettle]), or until
// the timeout. It returns the spans last read and the result of [Check] on
// them; when the source could never be read, the last read error. A
// trace the source does not hold counts as no spans, so that
// Await(ctx, src, id, [Nothing]()) succeeds once the settle time has passed
// without any span of the trace showing up. For the same reason Nothing is
// never accepted before the settle time.
//
// want.TraceID, when empty, is set to traceID. When want has spans that
// start traces of their own with a link (written "a ~> b"), Await also
// collects the traces linking into the trace, from a [Recorder], an OTLP
// file, or Jaeger (by searching the linked spans' services since the trace
// started); Tempo sources return the trace by id only.
func Await(ctx context.Context, src Source, traceID string, want Expectation, opts ...AwaitOption) ([]Span, error) {
	if src == nil {
		panic("tracecheck.Await: src is nil")
	}
	cfg := awaitConfig{timeout: DefaultTimeout, settle: DefaultSettle, interval: DefaultPollInterval}
	for _, o := range opts {
		if o != nil {
			o.applyAwait(&cfg)
		}
	}
	id, err := ParseTraceID(traceID)
	if err != nil {
		return nil, err
	}
	if !want.nothing {
		if want.TraceID == "" {
			want.TraceID = id
		}
		if err := want.validate(); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	linked := want.linkedServices()

	var (
		spans     []Span
		checkErr  error
		readErr   error
		read      bool
		signature string
		since     time.Time
		timer     = time.NewTimer(0)
	)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if !read {
				if readErr == nil {
					readErr = ctx.Err()
				}
				return nil, fmt.Errorf("tracecheck: trace %s from %s: %w", id, describeSource(src), readErr)
			}
			return spans, checkErr
		case <-timer.C:
		}
		got, err := src.Trace(ctx, id)
		if f, ok := src.(linkFollower); ok && err == nil && len(got) > 0 && len(linked) > 0 {
			var more []Span
			if more, err = f.followLinks(ctx, got, linked); err == nil {
				got = append(got, more...)
			}
		}
		switch {
		case err == nil, errors.Is(err, ErrTraceNotFound):
			now := time.Now()
			if sig := spanSignature(got); !read || sig != signature {
				signature, since = sig, now
			}
			read, spans, readErr = true, got, nil
			checkErr = Check(spans, want)
			if checkErr == nil && !want.nothing {
				return spans, nil
			}
			if now.Sub(since) >= cfg.settle {
				return spans, checkErr
			}
		case ctx.Err() != nil:
			// The read was cut short by the timeout; the loop reports.
		default:
			readErr = err
		}
		timer.Reset(cfg.interval)
	}
}

// spanSignature identifies a set of spans, so that Await sees when a trace
// changes.
func spanSignature(spans []Span) string {
	keys := make([]string, len(spans))
	for i, s := range spans {
		keys[i] = fmt.Sprintf("%s/%s/%d/%d", s.TraceID, s.SpanID, s.Duration, len(s.Attributes))
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func describeSource(src Source) string {
	if s, ok := src.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", src)
}

// TestingT is the part of testing.TB that [Assert] and [AssertEventually]
// use; *testing.T and *testing.B satisfy it. Taking this rather than
// testing.TB keeps the testing package out of programs that use the
// package only for its exporter or readers.
type TestingT interface {
	Helper()
	Errorf(format string, args ...any)
	// Context ends just before the test's cleanup runs.
	Context() context.Context
}

// Assert checks spans against want with [Check] and, on a mismatch, marks
// the test failed with the list of problems, the expected tree and the
// tree that was found. It reports whether the spans matched.
func Assert(tb TestingT, spans []Span, want Expectation) bool {
	tb.Helper()
	if err := Check(spans, want); err != nil {
		tb.Errorf("%v", err)
		return false
	}
	return true
}

// AssertEventually waits with [Await] until the trace traceID in src
// matches want and, if it does not in time, marks the test failed with the
// problems and both trees. It reports whether the trace matched. Use it
// when spans end on other goroutines or reach a backend later.
func AssertEventually(tb TestingT, src Source, traceID string, want Expectation, opts ...AwaitOption) bool {
	tb.Helper()
	if _, err := Await(tb.Context(), src, traceID, want, opts...); err != nil {
		tb.Errorf("trace %s: %v", traceID, err)
		return false
	}
	return true
}
