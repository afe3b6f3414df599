//go:build unix

package pubsubtrace_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process has used so far,
// across all its goroutines: the fake server's, the client's and ours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
