package messaging

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
	settlementCount
)

var settlementNames = [settlementCount]string{"none", "ack", "nack", "reconsume_later", "abandoned"}

// String is the settlement's name as recorded on spans and metrics.
func (s Settlement) String() string {
	if s < settlementCount {
		return settlementNames[s]
	}
	return "unknown"
}
