package pulsartrace

import (
	"strconv"

	"github.com/apache/pulsar-client-go/pulsar"
)

// formatMessageID formats id for messaging.message.id as
// ledger:entry:partition, plus :batchIndex for a message that travelled in
// a batch. The client's own MessageID.String leaves the batch index out,
// which would give every message of a batch the same id; with it the
// format is the one the Java client prints.
func formatMessageID(id pulsar.MessageID) string {
	var buf [4*20 + 3]byte
	b := strconv.AppendInt(buf[:0], id.LedgerID(), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, id.EntryID(), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(id.PartitionIdx()), 10)
	if batch := id.BatchIdx(); batch >= 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(batch), 10)
	}
	return string(b)
}
