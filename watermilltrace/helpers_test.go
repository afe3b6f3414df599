package watermilltrace_test

import (
	"errors"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// failingPublisher fails every Publish call.
type failingPublisher struct {
	mu    sync.Mutex
	calls int
}

var errBrokerDown = errors.New("broker down")

func (p *failingPublisher) Publish(string, ...*message.Message) error {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	return errBrokerDown
}

func (p *failingPublisher) Close() error { return nil }
