package carrier

import (
	"fmt"

	"go.opentelemetry.io/otel"
)

// Limits bounds what an [Injector] writes into a message. A zero field means
// no limit.
type Limits struct {
	// MaxEntries is the most entries the resulting map may hold, counting
	// the entries the message already had.
	MaxEntries int
	// MaxKeyBytes is the longest key that is written.
	MaxKeyBytes int
	// MaxValueBytes is the longest value that is written.
	MaxValueBytes int
}

// PubSubLimits are Google Cloud Pub/Sub's limits on message attributes:
// at most 100 attributes, keys of at most 256 bytes, values of at most
// 1024 bytes.
var PubSubLimits = Limits{MaxEntries: 100, MaxKeyBytes: 256, MaxValueBytes: 1024}

// LimitError reports an entry that was left out because it would have broken
// a broker limit. It is passed to otel.Handle, never returned to the sender.
type LimitError struct {
	Key    string
	Reason string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("asynctrace/carrier: %q not propagated: %s", e.Key, e.Reason)
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
