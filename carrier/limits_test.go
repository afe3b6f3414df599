package carrier_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"

	"github.com/asynctrace/asynctrace/carrier"
)

// traceparentEntry is what a traceparent costs with a 4-byte overhead.
const traceparentEntry = len("traceparent") + len(parentHdr) + 4

func droppedKeys(t *testing.T, errs []error) []string {
	t.Helper()
	var keys []string
	for _, err := range errs {
		var le *carrier.LimitError
		require.True(t, errors.As(err, &le), "%v is not a LimitError", err)
		keys = append(keys, le.Key)
	}
	return keys
}

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestInjectTotalBytesKeepsTraceparentFirst(t *testing.T) {
	// Baggage is written first here, yet traceparent gets the room.
	baggageFirst := propagation.NewCompositeTextMapPropagator(propagation.Baggage{}, propagation.TraceContext{})
	props := map[string]string{"k": strings.Repeat("v", 95)} // 100 bytes with overhead
	limits := carrier.Limits{MaxTotalBytes: 100 + traceparentEntry, EntryOverheadBytes: 4}
	errs := captureOtelErrors(t)

	out := carrier.Injector{Propagator: baggageFirst, Limits: limits}.Inject(withBaggage(t, sampledContext(t), "tenant=acme"), props)

	assert.Equal(t, parentHdr, out["traceparent"])
	assert.NotContains(t, out, "baggage")
	assert.Equal(t, props["k"], out["k"])
	assert.Len(t, props, 1, "the caller's map must not be written")
	assert.Equal(t, []string{"baggage"}, droppedKeys(t, *errs))
	assert.Contains(t, (*errs)[0].Error(), "limit 170")
}

func TestInjectTotalBytesNothingFitsReturnsProps(t *testing.T) {
	props := map[string]string{"k": strings.Repeat("v", 95)}
	limits := carrier.Limits{MaxTotalBytes: 100 + traceparentEntry - 1, EntryOverheadBytes: 4}
	errs := captureOtelErrors(t)

	out := carrier.Injector{Propagator: w3c, Limits: limits}.Inject(withBaggage(t, sampledContext(t), "tenant="+strings.Repeat("a", 80)), props)

	assert.True(t, sameMap(props, out), "with nothing injected, props itself comes back")
	assert.ElementsMatch(t, []string{"traceparent", "baggage"}, droppedKeys(t, *errs))
}

func TestInjectTotalBytesCountsReplacedEntryOnce(t *testing.T) {
	// The message already carries a traceparent of the same length (a
	// message published again): replacing it costs nothing.
	props := map[string]string{"traceparent": "00-" + strings.Repeat("1", 32) + "-" + strings.Repeat("2", 16) + "-01"}
	limits := carrier.Limits{MaxTotalBytes: traceparentEntry, EntryOverheadBytes: 4}
	captureOtelErrors(t)

	out := carrier.Injector{Propagator: w3c, Limits: limits}.Inject(sampledContext(t), props)

	assert.Equal(t, parentHdr, out["traceparent"])
}

func TestInjectSizedCountsPayloadTowardMessageBytes(t *testing.T) {
	limits := carrier.Limits{MaxMessageBytes: 1000, EntryOverheadBytes: 4}
	in := carrier.Injector{Propagator: w3c, Limits: limits}
	errs := captureOtelErrors(t)

	fits := in.InjectSized(sampledContext(t), nil, 1000-traceparentEntry)
	assert.Equal(t, parentHdr, fits["traceparent"])
	assert.Empty(t, *errs)

	full := in.InjectSized(sampledContext(t), nil, 1000-traceparentEntry+1)
	assert.Empty(t, full)
	assert.Equal(t, []string{"traceparent"}, droppedKeys(t, *errs))
	assert.Contains(t, (*errs)[0].Error(), "payload")

	assert.Equal(t, parentHdr, in.Inject(sampledContext(t), nil)["traceparent"], "Inject counts no payload")
}

// NATSLimits follow the encoding of a NATS header block: "NATS/1.0\r\n",
// one "key: value\r\n" per entry, "\r\n", 65,535 bytes at most.
func TestNATSLimitsMatchHeaderBlock(t *testing.T) {
	captureOtelErrors(t)
	in := carrier.Injector{Propagator: w3c, Limits: carrier.NATSLimits}
	block := func(m map[string]string) int {
		n := len("NATS/1.0\r\n\r\n")
		for k, v := range m {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
		return n
	}
	for _, valueLen := range []int{65448, 65449} {
		props := map[string]string{"k": strings.Repeat("v", valueLen)}
		out := in.Inject(sampledContext(t), props)
		_, injected := out["traceparent"]
		assert.Equal(t, block(out) <= 1<<16-1, injected || block(out) == block(props),
			"value of %d bytes: block of %d bytes, traceparent injected: %v", valueLen, block(out), injected)
		assert.LessOrEqual(t, block(out), 1<<16-1)
		assert.Equal(t, valueLen == 65448, injected, "value of %d bytes", valueLen)
	}
}

func TestPresetsBoundSize(t *testing.T) {
	for name, l := range map[string]carrier.Limits{
		"NATS": carrier.NATSLimits, "AMQP": carrier.AMQPLimits,
		"Kafka": carrier.KafkaLimits, "Pulsar": carrier.PulsarLimits,
	} {
		assert.True(t, l.MaxTotalBytes > 0 || l.MaxMessageBytes > 0, "%s bounds no size", name)
		assert.Positive(t, l.EntryOverheadBytes, "%s has no entry overhead", name)
	}
}
