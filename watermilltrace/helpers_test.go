package watermilltrace_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

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

// publishFunc is a publisher made of one function.
type publishFunc func(topic string, msgs ...*message.Message) error

func (f publishFunc) Publish(topic string, msgs ...*message.Message) error { return f(topic, msgs...) }
func (publishFunc) Close() error                                           { return nil }

// wantPanic fails unless f panics with exactly want.
func wantPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want %q", want)
			return
		}
		if got := fmt.Sprint(r); got != want {
			t.Errorf("panicked with %q, want %q", got, want)
		}
	}()
	f()
}
