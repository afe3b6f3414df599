package pulsartest

// KnownClientGoroutines lists the top functions of goroutines that
// pulsar-client-go v0.19.0 leaves running after Producer.Close and
// Client.Close. Pass each to goleak.IgnoreTopFunction in a TestMain.
//
// The producer's send-timeout watcher only notices that its producer closed
// when its timer next fires, up to ProducerOptions.SendTimeout (30 s by
// default) after Close, so goroutine-leak checks at the end of a test
// binary see it although it ends on its own.
func KnownClientGoroutines() []string {
	return []string{
		"github.com/apache/pulsar-client-go/pulsar.(*partitionProducer).failTimeoutMessages",
	}
}
