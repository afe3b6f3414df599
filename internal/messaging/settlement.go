package messaging

import "go.opentelemetry.io/otel/attribute"

// Settlement is how the consumer settled a processed message.
type Settlement uint8

// The settlements adapters report. SettleNone means the adapter does not
// know (the handler returned and the broker client settles on its own).
const (
	SettleNone Settlement = iota
	SettleAck
	SettleNack
	// SettleReconsumeLater is Pulsar's ReconsumeLater: the message is
	// acknowledged and re-published to a retry topic.
	SettleReconsumeLater
	// SettleAbandoned marks a message whose span was ended because its
	// consumer closed before the message was settled.
	SettleAbandoned
	// SettleCumulativeAck is an acknowledgement of a message and every
	// earlier one of its partition (Pulsar's AckCumulative).
	SettleCumulativeAck
	// SettleAckTimeout marks a message the client redelivers because it
	// was not acknowledged in time.
	SettleAckTimeout
	settlementCount
)

var settlementNames = [settlementCount]string{"none", "ack", "nack", "reconsume_later", "abandoned", "cumulative_ack", "ack_timeout"}

// String is the settlement's name as recorded on spans and metrics
// (messaging.operation.name of settle spans and metrics).
func (s Settlement) String() string {
	if s < settlementCount {
		return settlementNames[s]
	}
	return "unknown"
}

// Vocabulary is how an adapter records the settlement on a process span:
// one attribute key, and the value for each settlement. Adapters whose
// broker already has a key for the fact use it (Pulsar's Java client writes
// messaging.pulsar.acknowledgment.type), so that one fact has one key.
type Vocabulary struct {
	Key attribute.Key
	// Values maps a settlement to its value; a settlement missing from it
	// is recorded under its String name.
	Values map[Settlement]string
}

// DefaultVocabulary records the settlement under SettlementKey with the
// settlements' own names.
var DefaultVocabulary = Vocabulary{Key: SettlementKey}

// PulsarVocabulary records the settlement under the Pulsar Java client's
// key and values; the settlements that client does not know (reconsume
// later, abandoned) keep their own names under the same key.
var PulsarVocabulary = Vocabulary{
	Key: PulsarAcknowledgmentTypeKey,
	Values: map[Settlement]string{
		SettleAck:           "acknowledge",
		SettleCumulativeAck: "cumulative_acknowledge",
		SettleNack:          "negative_acknowledge",
		SettleAckTimeout:    "ack_timeout",
	},
}

func (v Vocabulary) attributes() [settlementCount]attribute.KeyValue {
	var out [settlementCount]attribute.KeyValue
	key := v.Key
	if key == "" {
		key = SettlementKey
	}
	for s := range settlementCount {
		name := Settlement(s).String()
		if val, ok := v.Values[Settlement(s)]; ok {
			name = val
		}
		out[s] = key.String(name)
	}
	return out
}

// Value is the value recorded for s.
func (v Vocabulary) Value(s Settlement) string {
	a := v.attributes()
	if s < settlementCount {
		return a[s].Value.AsString()
	}
	return "unknown"
}
