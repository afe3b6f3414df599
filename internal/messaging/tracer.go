package messaging

import (
	"reflect"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerSource yields the tracer of the configured provider or, without one,
// of the global provider as it is at the time of each message, so that an
// adapter created before the service installed its provider picks it up, and
// one running with the no-op provider (OTEL_SDK_DISABLED) skips span work.
type tracerSource struct {
	scope   string
	fixed   *tracerState // set when a provider was configured
	current atomic.Pointer[tracerState]
}

type tracerState struct {
	tp     trace.TracerProvider
	tracer trace.Tracer
	// off is set for the no-op provider: even a no-op Start allocates a
	// context, so spans are skipped altogether while context still flows.
	off bool
	// comparable tells whether tp can be compared with ==; a provider of a
	// non-comparable type, or a value of a comparable type that holds a
	// non-comparable one in an interface field, is asked for its tracer on
	// every message.
	comparable bool
}

func newTracerState(tp trace.TracerProvider, scope string) *tracerState {
	_, off := tp.(noop.TracerProvider)
	return &tracerState{
		tp:         tp,
		tracer:     tp.Tracer(scope, trace.WithInstrumentationVersion(Version)),
		off:        off,
		comparable: reflect.ValueOf(tp).Comparable(),
	}
}

func newTracerSource(tp trace.TracerProvider, scope string) *tracerSource {
	s := &tracerSource{scope: scope}
	if tp != nil {
		s.fixed = newTracerState(tp, scope)
	}
	return s
}

func (s *tracerSource) get() *tracerState {
	if s.fixed != nil {
		return s.fixed
	}
	tp := otel.GetTracerProvider()
	if st := s.current.Load(); st != nil && st.comparable && st.tp == tp {
		return st
	}
	st := newTracerState(tp, s.scope)
	s.current.Store(st)
	return st
}
