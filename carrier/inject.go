package carrier

import (
	"context"
	"maps"
	"sync"

	"go.opentelemetry.io/otel/propagation"

	"github.com/asynctrace/asynctrace/internal/propagators"
)

// Injector writes the context of a send into a copy of a message's map.
// The zero value uses the global propagator and no limits. An Injector is
// safe for concurrent use.
type Injector struct {
	// Propagator encodes the context; nil means the global propagator at the
	// time of each call, or W3C Trace Context and Baggage while none is
	// installed.
	Propagator propagation.TextMapPropagator
	// Limits bounds what is written.
	Limits Limits
	// KeyPrefix is put before every key the propagator writes, for readers
	// that expect prefixed keys: GoogleClientPrefix writes the context where
	// the Pub/Sub client's built-in tracing looks for it.
	KeyPrefix string
}

// Inject returns props plus the context of ctx as encoded by the propagator.
// props is never modified: when the propagator writes anything, the result is
// a new map holding props' entries and the injected ones; when it writes
// nothing (no span, no baggage) props itself is returned, nil included.
func (in Injector) Inject(ctx context.Context, props map[string]string) map[string]string {
	prop := in.Propagator
	if prop == nil {
		prop = propagators.Global()
	}
	w := writerPool.Get().(*copyOnWrite)
	w.src, w.limits, w.prefix = props, in.Limits, in.KeyPrefix
	prop.Inject(ctx, w)
	out := w.dst
	if out == nil {
		out = props
	} else if w.wroteParent && !w.wroteState {
		// A tracestate copied from props belongs to the trace the message
		// came from, not to the one just written.
		delete(out, in.KeyPrefix+tracestateKey)
	}
	*w = copyOnWrite{}
	writerPool.Put(w)
	return out
}

// Inject is Injector{}.Inject: it uses the global propagator and no limits.
func Inject(ctx context.Context, props map[string]string) map[string]string {
	return Injector{}.Inject(ctx, props)
}

// writerPool recycles the carrier handed to the propagator. Handing a value
// to an interface method makes it escape; pooling keeps a send that injects
// nothing (tracing disabled) free of allocations.
var writerPool = sync.Pool{New: func() any { return new(copyOnWrite) }}

// copyOnWrite reads from src and copies it to dst on the first Set, so the
// caller's map is never written and an untraced send costs no copy.
type copyOnWrite struct {
	src, dst    map[string]string
	limits      Limits
	prefix      string
	wroteParent bool
	wroteState  bool
}

const tracestateKey = "tracestate"

// injectedKeysHint sizes the copy for the keys a W3C propagator writes
// (traceparent, tracestate, baggage) so it does not grow while injecting.
const injectedKeysHint = 3

func (w *copyOnWrite) current() map[string]string {
	if w.dst != nil {
		return w.dst
	}
	return w.src
}

func (w *copyOnWrite) Get(key string) string { return w.current()[w.prefix+key] }

func (w *copyOnWrite) Set(key, value string) {
	k := key
	if w.prefix != "" {
		k = w.prefix + key
	}
	cur := w.current()
	_, replacing := cur[k]
	if !w.limits.admits(k, value, len(cur), replacing) {
		return
	}
	if w.dst == nil {
		w.dst = make(map[string]string, len(w.src)+injectedKeysHint)
		maps.Copy(w.dst, w.src)
	}
	w.dst[k] = value
	switch key {
	case traceparentKey:
		w.wroteParent = true
	case tracestateKey:
		w.wroteState = true
	}
}

func (w *copyOnWrite) Keys() []string { return Map(w.current()).Keys() }
