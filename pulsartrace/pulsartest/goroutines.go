package pulsartest

// KnownClientGoroutines lists the top functions of goroutines that
// pulsar-client-go v0.19.0 leaves running after Close. Each ends on its own
// when a timer fires, but usually after a test binary's goroutine-leak
// check. Pass each to goleak.IgnoreTopFunction in a TestMain:
//
//   - a producer's send-timeout watcher notices that the producer closed
//     only when its timer next fires, up to ProducerOptions.SendTimeout (30 s
//     by default) after Close;
//   - a consumer starts one goroutine per chunked message it receives,
//     which sleeps ConsumerOptions.ExpireTimeOfIncompleteChunk (one minute
//     by default) even when the message was complete.
func KnownClientGoroutines() []string {
	return []string{
		"github.com/apache/pulsar-client-go/pulsar.(*partitionProducer).failTimeoutMessages",
		"github.com/apache/pulsar-client-go/pulsar.(*chunkedMsgCtxMap).discardChunkIfExpire",
	}
}
