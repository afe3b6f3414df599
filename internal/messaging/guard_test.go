package messaging_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

func TestGuardLeavesAReturningHandlerAlone(t *testing.T) {
	ran, aborted := false, false
	messaging.Guard(func() { ran = true }, func(error) { aborted = true })
	if !ran || aborted {
		t.Fatalf("ran=%v aborted=%v, want the handler run and no abort", ran, aborted)
	}
}

func TestGuardRecordsAPanicAndLetsItGoOn(t *testing.T) {
	var got error
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the handler's own panic value", r)
			}
		}()
		messaging.Guard(func() { panic("boom") }, func(err error) { got = err })
	}()
	if got == nil || !strings.Contains(got.Error(), "asynctrace: handler panicked: boom") {
		t.Fatalf("abort got %v, want the panic recorded", got)
	}
}

func TestGuardRecordsGoexit(t *testing.T) {
	var got error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		messaging.Guard(func() { runtimeGoexit() }, func(err error) { got = err })
		t.Error("the goroutine went on after runtime.Goexit")
	}()
	wg.Wait()
	if !errors.Is(got, messaging.ErrHandlerExited) {
		t.Fatalf("abort got %v, want ErrHandlerExited", got)
	}
}

func runtimeGoexit() { runtime.Goexit() }
