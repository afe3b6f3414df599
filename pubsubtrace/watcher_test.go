package pubsubtrace

import (
	"sync"
	"testing"
)

// Concurrent Shutdowns that both give up close the watcher with abandon at
// the same time; that must not close the abandon channel twice.
func TestWatcherConcurrentAbandon(t *testing.T) {
	for range 2000 {
		w := newWatcher()
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				<-start
				<-w.close(true)
			})
		}
		close(start)
		wg.Wait()
	}
}
