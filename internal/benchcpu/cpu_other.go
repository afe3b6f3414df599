//go:build !unix

package benchcpu

import "time"

// processCPU is unknown here: no cpu-ns/op is reported.
func processCPU() time.Duration { return 0 }
