package pulsartrace

import "strings"

// defaultNamespacePrefix is what the client puts in front of a short topic
// name: "orders" and "persistent://public/default/orders" are one topic.
const defaultNamespacePrefix = "persistent://public/default/"

// partitionSuffix separates a partitioned topic's name from the partition
// number in the names of its partitions ("orders-partition-3").
const partitionSuffix = "-partition-"

// destinationName is the messaging.destination.name of a topic: the topic a
// user names in ProducerOptions.Topic or ConsumerOptions.Topic, not the
// partition a message travelled through. The partition suffix is removed,
// and a topic in the default tenant and namespace is shortened to the short
// name the client accepts for it, so that the producer (which reports the
// name it was configured with) and the consumer (which sees the broker's
// fully qualified partition name) name the same destination alike. Topics in
// other namespaces, and non-persistent ones, keep their full name.
func destinationName(topic string) string {
	if i := strings.LastIndex(topic, partitionSuffix); i > 0 && isDigits(topic[i+len(partitionSuffix):]) {
		topic = topic[:i]
	}
	if short, ok := strings.CutPrefix(topic, defaultNamespacePrefix); ok && short != "" {
		return short
	}
	if short, ok := strings.CutPrefix(topic, "public/default/"); ok && short != "" && !strings.Contains(short, "/") {
		return short
	}
	return topic
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// partitionOf is the partition number in the name of a partition of a
// partitioned topic ("orders-partition-3" is "3"), or "" for a topic that
// is not partitioned.
func partitionOf(topic string) string {
	if i := strings.LastIndex(topic, partitionSuffix); i > 0 && isDigits(topic[i+len(partitionSuffix):]) {
		return topic[i+len(partitionSuffix):]
	}
	return ""
}
