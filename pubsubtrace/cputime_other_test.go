//go:build !unix

package pubsubtrace_test

import "time"

// processCPU is unknown on this platform; the cpu-ns/op metric reads 0.
func processCPU() time.Duration { return 0 }
