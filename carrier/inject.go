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
//
// Entries that would break the Limits are left out, each reported to
// otel.Handle as a [*LimitError]; the message is still sent, only without
// them. When not everything fits, traceparent is kept first and baggage
// given up first, so that the consumer can still continue the trace.
func (in Injector) Inject(ctx context.Context, props map[string]string) map[string]string {
	return in.InjectSized(ctx, props, 0)
}

// InjectSized is Inject for a message whose payload is payloadBytes long,
// which counts toward Limits.MaxMessageBytes.
func (in Injector) InjectSized(ctx context.Context, props map[string]string, payloadBytes int) map[string]string {
	prop := in.Propagator
	if prop == nil {
		prop = propagators.Global()
	}
	w := writerPool.Get().(*copyOnWrite)
	w.src, w.prefix = props, in.KeyPrefix
	prop.Inject(ctx, w)
	var out map[string]string
	if len(w.pending) > 0 {
		out = w.commit(in.Limits, payloadBytes)
	}
	if out == nil {
		out = props
	}
	clear(w.pending)
	*w = copyOnWrite{pending: w.pending[:0]}
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

// copyOnWrite collects what the propagator writes, then copies src and adds
// what fits, so the caller's map is never written and an untraced send costs
// no copy. Collecting first lets the entries that matter most claim the room
// whatever order the propagator writes them in.
type copyOnWrite struct {
	src     map[string]string
	prefix  string
	pending []entry
}

// entry is one key the propagator wrote: name as written, key as stored.
type entry struct {
	name, key, value string
}

const (
	tracestateKey = "tracestate"
	baggageKey    = "baggage"
)

// injectedKeysHint sizes the copy for the keys a W3C propagator writes
// (traceparent, tracestate, baggage) so it does not grow while injecting.
const injectedKeysHint = 3

func (w *copyOnWrite) Get(key string) string { return w.src[w.prefix+key] }

func (w *copyOnWrite) Set(key, value string) {
	k := key
	if w.prefix != "" {
		k = w.prefix + key
	}
	w.pending = append(w.pending, entry{name: key, key: k, value: value})
}

func (w *copyOnWrite) Keys() []string { return Map(w.src).Keys() }

// priority orders the written entries: traceparent claims room first, as
// without it nothing else is of use; baggage, which can be large and only
// rides along, last.
func priority(name string) int {
	switch name {
	case traceparentKey:
		return 0
	case baggageKey:
		return 2
	}
	return 1
}

// commit returns a copy of src with the pending entries that fit within l,
// or nil when none does.
func (w *copyOnWrite) commit(l Limits, payload int) map[string]string {
	var dst map[string]string
	size := -1
	var wroteParent, wroteState bool
	for p := 0; p <= 2; p++ {
		for _, e := range w.pending {
			if priority(e.name) != p {
				continue
			}
			cur := dst
			if cur == nil {
				cur = w.src
			}
			old, replacing := cur[e.key]
			if !l.admits(e.key, e.value, len(cur), replacing) {
				continue
			}
			if l.sized() {
				if size < 0 {
					size = l.mapBytes(w.src)
				}
				delta := l.entryBytes(e.key, e.value)
				if replacing {
					delta -= l.entryBytes(e.key, old)
				}
				if !l.fits(e.key, size, payload, delta) {
					continue
				}
				size += delta
			}
			if dst == nil {
				dst = make(map[string]string, len(w.src)+injectedKeysHint)
				maps.Copy(dst, w.src)
			}
			dst[e.key] = e.value
			switch e.name {
			case traceparentKey:
				wroteParent = true
			case tracestateKey:
				wroteState = true
			}
		}
	}
	if wroteParent && !wroteState {
		// A tracestate copied from src belongs to the trace the message
		// came from, not to the one just written.
		delete(dst, w.prefix+tracestateKey)
	}
	return dst
}
