package carrier

import (
	"fmt"

	"go.opentelemetry.io/otel"
)

// Limits bounds what an [Injector] writes into a message. A zero field means
// no limit. Only the injected entries are ever left out: the entries a
// message already has are counted but never removed.
type Limits struct {
	// MaxEntries is the most entries the resulting map may hold, counting
	// the entries the message already had.
	MaxEntries int
	// MaxKeyBytes is the longest key that is written.
	MaxKeyBytes int
	// MaxValueBytes is the longest value that is written.
	MaxValueBytes int
	// MaxTotalBytes is the most bytes the whole map may take as the broker
	// encodes it, estimated as the sum over its entries of the key's
	// length, the value's length and EntryOverheadBytes. Brokers that bound
	// a message's headers as a whole (NATS) need it.
	MaxTotalBytes int
	// MaxMessageBytes is the most bytes the map, counted as for
	// MaxTotalBytes, and the payload may take together. The payload's size
	// is the one given to [Injector.InjectSized]; [Injector.Inject] counts
	// none. Brokers that bound a whole message (Pulsar, Kafka) need it.
	MaxMessageBytes int
	// EntryOverheadBytes is what the broker's encoding adds to each entry
	// besides its key and value: separators, length prefixes, type tags.
	// It counts toward MaxTotalBytes and MaxMessageBytes.
	EntryOverheadBytes int
}

// PubSubLimits are Google Cloud Pub/Sub's limits on message attributes:
// at most 100 attributes, keys of at most 256 bytes, values of at most
// 1024 bytes.
var PubSubLimits = Limits{MaxEntries: 100, MaxKeyBytes: 256, MaxValueBytes: 1024}

// NATSLimits are the limits of NATS on a message's headers. JetStream
// stores the length of a message's header block in 16 bits, so the block,
// encoded as the "NATS/1.0" line, one "key: value\r\n" line per entry and a
// closing empty line, may take at most 65,535 bytes; headers and payload
// together must fit in the server's max_payload, 1 MiB unless the server is
// configured otherwise.
var NATSLimits = Limits{
	MaxTotalBytes:      1<<16 - 1 - len("NATS/1.0\r\n\r\n"),
	MaxMessageBytes:    1<<20 - len("NATS/1.0\r\n\r\n"),
	EntryOverheadBytes: len(": \r\n"),
}

// AMQPLimits are the limits of AMQP 0-9-1 (RabbitMQ) on a message's header
// table: keys are short strings of at most 255 bytes, and the table, with
// the message's other properties, is sent in one frame, whose size RabbitMQ
// bounds at 128 KiB by default (frame_max). An entry costs its key and
// value plus a length byte, a type byte and a four-byte length; 1 KiB of
// the frame is left to the frame header and the other properties.
var AMQPLimits = Limits{
	MaxKeyBytes:        255,
	MaxTotalBytes:      128<<10 - 1<<10,
	EntryOverheadBytes: 6,
}

// KafkaLimits are the limits of Kafka on a record: headers, key and value
// must fit together in the producer's max message bytes (1,000,000 in the
// common clients; the broker's message.max.bytes is slightly larger). A
// header costs its key and value plus two variable-length integers; 1 KiB
// is left to the record's framing and key.
var KafkaLimits = Limits{
	MaxMessageBytes:    1_000_000 - 1<<10,
	EntryOverheadBytes: 10,
}

// PulsarLimits are the limits of Pulsar on a message: properties and
// payload are sent together with the rest of the message's metadata, and
// the client fails a send whose payload and metadata exceed the broker's
// maxMessageSize, 5 MiB unless the broker is configured otherwise. A
// property costs its key and value plus protobuf tags and lengths; 1 KiB is
// left to the other metadata (producer name, sequence id, key, times).
var PulsarLimits = Limits{
	MaxMessageBytes:    5<<20 - 1<<10,
	EntryOverheadBytes: 15,
}

// LimitError reports an entry that was left out because it would have broken
// a broker limit. It is passed to otel.Handle, never returned to the sender.
type LimitError struct {
	Key    string
	Reason string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("asynctrace/carrier: %q not propagated: %s", e.Key, e.Reason)
}

// sized reports whether l bounds the encoded size of a map.
func (l Limits) sized() bool { return l.MaxTotalBytes > 0 || l.MaxMessageBytes > 0 }

// entryBytes is the estimated encoded size of one entry.
func (l Limits) entryBytes(key, value string) int {
	return len(key) + len(value) + l.EntryOverheadBytes
}

// mapBytes is the estimated encoded size of m.
func (l Limits) mapBytes(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += l.entryBytes(k, v)
	}
	return n
}

// admits reports whether key=value may be added to a map that holds n
// entries, of which the key is already one when replacing is true.
func (l Limits) admits(key, value string, n int, replacing bool) bool {
	var reason string
	switch {
	case l.MaxKeyBytes > 0 && len(key) > l.MaxKeyBytes:
		reason = fmt.Sprintf("key is %d bytes, limit %d", len(key), l.MaxKeyBytes)
	case l.MaxValueBytes > 0 && len(value) > l.MaxValueBytes:
		reason = fmt.Sprintf("value is %d bytes, limit %d", len(value), l.MaxValueBytes)
	case l.MaxEntries > 0 && !replacing && n >= l.MaxEntries:
		reason = fmt.Sprintf("message already has %d entries, limit %d", n, l.MaxEntries)
	default:
		return true
	}
	otel.Handle(&LimitError{Key: key, Reason: reason})
	return false
}

// fits reports whether growing a map of size bytes (payload bytes beside
// it) by delta bytes keeps it within l, reporting the entry key otherwise.
func (l Limits) fits(key string, size, payload, delta int) bool {
	var reason string
	switch {
	case l.MaxTotalBytes > 0 && size+delta > l.MaxTotalBytes:
		reason = fmt.Sprintf("%d more bytes would bring the message's entries to %d, limit %d", delta, size+delta, l.MaxTotalBytes)
	case l.MaxMessageBytes > 0 && size+payload+delta > l.MaxMessageBytes:
		reason = fmt.Sprintf("%d more bytes would bring the message with its %d-byte payload to %d, limit %d", delta, payload, size+payload+delta, l.MaxMessageBytes)
	default:
		return true
	}
	otel.Handle(&LimitError{Key: key, Reason: reason})
	return false
}
