// Command otlpsink receives OTLP/HTTP on a loopback port and decodes every
// request, as a collector would, in a process of its own, so that the
// export benchmarks pay for encoding and sending spans but not for
// receiving them. It prints its URL on the first line of its output and
// runs until its standard input is closed. What it receives is dropped
// every second.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/asynctrace/asynctrace/internal/otlptest"
)

func main() {
	srv := otlptest.NewServer()
	defer srv.Close()
	fmt.Println(srv.URL())
	go func() {
		for range time.Tick(time.Second) {
			srv.Reset()
		}
	}()
	_, _ = io.Copy(io.Discard, os.Stdin)
}
