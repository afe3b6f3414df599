package messaging

import (
	"errors"
	"fmt"
)

// ErrHandlerExited ends the span of a message whose handler called
// runtime.Goexit (t.FailNow, log.Fatal's cousins in tests) instead of
// returning.
var ErrHandlerExited = errors.New("asynctrace: handler exited without returning")

// Guard runs handler. If it panics, or calls runtime.Goexit, instead of
// returning, abort is called with the error to record (the panic value, or
// [ErrHandlerExited]) so that the adapter can end the message's span and
// settle the message; then the panic goes on, or the goroutine goes on
// exiting. A handler that returns normally is not touched.
func Guard(handler func(), abort func(error)) {
	returned := false
	defer func() {
		if returned {
			return
		}
		r := recover()
		if r == nil {
			// runtime.Goexit: re-panicking would turn it into a panic.
			abort(ErrHandlerExited)
			return
		}
		abort(fmt.Errorf("asynctrace: handler panicked: %v", r))
		panic(r)
	}()
	handler()
	returned = true
}
