package tracecheck

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptedSource answers each call with the next step of a script, then
// repeats the last step.
type scriptedSource struct {
	mu    sync.Mutex
	steps []func() ([]Span, error)
	calls int
}

func (s *scriptedSource) Trace(context.Context, string) ([]Span, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	step := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	return step()
}

func (s *scriptedSource) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func spansStep(spans []Span) func() ([]Span, error) {
	return func() ([]Span, error) { return spans, nil }
}

func errStep(err error) func() ([]Span, error) {
	return func() ([]Span, error) { return nil, err }
}

var fastPoll = WithPollInterval(time.Millisecond)

func TestAwaitReturnsOnceMatched(t *testing.T) {
	full := orderTrace()
	src := &scriptedSource{steps: []func() ([]Span, error){
		errStep(errors.New("connection refused")), // backend still starting
		errStep(ErrTraceNotFound),                 // no span stored yet
		spansStep(full[:2]),
		spansStep(full),
	}}
	spans, err := Await(context.Background(), src, tid, orderExpectation(), WithSettle(time.Hour), fastPoll)
	if err != nil {
		t.Fatalf("Await:\n%v", err)
	}
	if len(spans) != len(full) || src.callCount() != 4 {
		t.Errorf("Await: %d spans after %d calls", len(spans), src.callCount())
	}
}

func TestAwaitReportsASettledMismatch(t *testing.T) {
	broken := orderTrace()[1:]
	src := &scriptedSource{steps: []func() ([]Span, error){spansStep(broken)}}
	spans, err := Await(context.Background(), src, tid, orderExpectation(), WithSettle(time.Nanosecond), fastPoll, WithTimeout(time.Hour))
	var me *MismatchError
	if !errors.As(err, &me) || len(spans) != len(broken) {
		t.Fatalf("Await = %d spans, %v; want the broken trace and a mismatch", len(spans), err)
	}
	// The trace is compared with its id set from the argument.
	want := orderExpectation()
	want.TraceID = tid2
	if _, err := Await(context.Background(), &scriptedSource{steps: []func() ([]Span, error){spansStep(orderTrace())}}, tid, want,
		WithSettle(time.Nanosecond), fastPoll); err == nil {
		t.Error("Await accepted a trace other than want.TraceID")
	}
}

func TestAwaitTimesOut(t *testing.T) {
	src := &scriptedSource{steps: []func() ([]Span, error){errStep(errors.New("connection refused"))}}
	_, err := Await(context.Background(), src, tid, orderExpectation(), WithTimeout(20*time.Millisecond), fastPoll)
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), tid) {
		t.Errorf("Await = %v, want the read error", err)
	}
	// A trace that keeps changing until the timeout is reported as last seen.
	var n int
	var mu sync.Mutex
	changing := &scriptedSource{steps: []func() ([]Span, error){func() ([]Span, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		spans := orderTrace()[1:]
		spans[0].Duration = time.Duration(n)
		return spans, nil
	}}}
	spans, err := Await(context.Background(), changing, tid, orderExpectation(), WithTimeout(20*time.Millisecond), WithSettle(time.Hour), fastPoll)
	var me *MismatchError
	if !errors.As(err, &me) || len(spans) != 4 {
		t.Errorf("Await = %d spans, %v", len(spans), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Await(ctx, src, tid, orderExpectation()); !errors.Is(err, context.Canceled) {
		t.Errorf("Await with a cancelled context = %v", err)
	}
}

func TestAwaitNothing(t *testing.T) {
	empty := &scriptedSource{steps: []func() ([]Span, error){errStep(ErrTraceNotFound), spansStep(nil)}}
	if _, err := Await(context.Background(), empty, tid, Nothing(), WithSettle(5*time.Millisecond), fastPoll); err != nil {
		t.Errorf("Await(Nothing) on an empty source: %v", err)
	}
	if empty.callCount() < 2 {
		t.Errorf("Await(Nothing) decided after %d reads, before the settle time", empty.callCount())
	}
	late := &scriptedSource{steps: []func() ([]Span, error){spansStep(nil), spansStep(nil), spansStep(orderTrace()[:1])}}
	if _, err := Await(context.Background(), late, tid, Nothing(), WithSettle(time.Hour), WithTimeout(50*time.Millisecond), fastPoll); err == nil {
		t.Error("Await(Nothing) missed a span that showed up late")
	}
}

func TestAwaitRejectsBadInput(t *testing.T) {
	src := &scriptedSource{steps: []func() ([]Span, error){spansStep(nil)}}
	if _, err := Await(context.Background(), src, "nope", orderExpectation()); err == nil {
		t.Error("Await accepted an invalid trace id")
	}
	if _, err := Await(context.Background(), src, tid, Expectation{}); !errors.Is(err, ErrInvalidExpectation) {
		t.Errorf("Await with an empty expectation = %v", err)
	}
	if src.callCount() != 0 {
		t.Errorf("Await read the source %d times for invalid input", src.callCount())
	}
	for name, f := range map[string]func(){
		"tracecheck.Await: src is nil":        func() { _, _ = Await(context.Background(), nil, tid, orderExpectation()) },
		"tracecheck.WithTimeout: timeout":     func() { WithTimeout(0) },
		"tracecheck.WithSettle: settle":       func() { WithSettle(-1) },
		"tracecheck.WithPollInterval: interv": func() { WithPollInterval(0) },
		"tracecheck.WithHTTPClient: client":   func() { WithHTTPClient(nil) },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, name) {
					t.Errorf("panic = %q, want it to start with %q", r, name)
				}
			}()
			f()
		}()
	}
}

func TestAssertEventuallyWithRecorder(t *testing.T) {
	w := newHopWorld(t)
	id := w.request(context.Background(), hop{})
	if !AssertEventually(t, w.rec, id, MustParse(hopChain), fastPoll) {
		t.Fatal("AssertEventually failed on the intact chain")
	}
	tb := &fakeTB{TB: t}
	if AssertEventually(tb, w.rec, id, MustParse("gateway:POST /v1/process > worker:process jobs"), WithSettle(time.Millisecond), fastPoll) {
		t.Fatal("AssertEventually accepted a wrong expectation")
	}
	if len(tb.msgs) != 1 || !strings.Contains(tb.msgs[0], "trace "+id+": trace does not match") || !strings.Contains(tb.msgs[0], "found:\n") {
		t.Errorf("messages = %q", tb.msgs)
	}
}
