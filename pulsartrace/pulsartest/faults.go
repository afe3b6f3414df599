package pulsartest

import (
	"sync"
	"time"
)

// faults holds injected failures. Its own lock lets the send delay be read
// without the server lock.
type faults struct {
	mu        sync.Mutex
	failSends int
	refusals  map[string]int // "topic\x00producer" → pending refusals
	sendDelay time.Duration
}

func (f *faults) takeSendFailure() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSends <= 0 {
		return false
	}
	f.failSends--
	return true
}

func (f *faults) refuseProducer(topic, producer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refusals == nil {
		f.refusals = map[string]int{}
	}
	f.refusals[topic+"\x00"+producer]++
}

func (f *faults) takeProducerRefusal(topic, producer string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := topic + "\x00" + producer
	if f.refusals[k] <= 0 {
		return false
	}
	f.refusals[k]--
	if f.refusals[k] == 0 {
		delete(f.refusals, k)
	}
	return true
}

// forgetProducer drops pending refusals of a producer that closed for good,
// so that a later producer reusing its name is not refused.
func (f *faults) forgetProducer(topic, producer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.refusals, topic+"\x00"+producer)
}

// sleepSendDelay waits for the configured send delay; it returns false if
// the server or connection closed meanwhile.
func (f *faults) sleepSendDelay(serverDone, connDone <-chan struct{}) bool {
	f.mu.Lock()
	d := f.sendDelay
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-serverDone:
		return false
	case <-connDone:
		return false
	}
}

// DropConnections closes every client connection at once, as a broker
// restart or a network cut would, and returns how many were closed. Stored
// messages and subscriptions survive; unacknowledged messages are delivered
// again when consumers reconnect. The client reconnects on its own.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.log.Info("pulsartest: dropped connections", "count", len(conns))
	return len(conns)
}

// FailNextSends makes the next n SEND commands (a batch is one SEND) fail
// without storing anything. The broker answers such a send with a
// persistence error, which makes the client drop the connection; when the
// producer comes back, the broker refuses it once with
// ProducerBlockedQuotaExceededException, which makes pulsar-client-go fail
// every send still pending on that producer (Send returns an error wrapping
// pulsar.ErrProducerBlockedQuotaExceeded) before it reconnects for good.
// Messages whose Send failed are never stored. n <= 0 clears the fault.
func (s *Server) FailNextSends(n int) {
	s.faults.mu.Lock()
	s.faults.failSends = max(n, 0)
	s.faults.mu.Unlock()
}

// SetSendDelay makes the broker wait d before handling each SEND, holding
// back everything else the same connection sent after it, like a slow
// disk. Use it to exercise producer send timeouts. Zero disables the delay.
func (s *Server) SetSendDelay(d time.Duration) {
	s.faults.mu.Lock()
	s.faults.sendDelay = max(d, 0)
	s.faults.mu.Unlock()
}
