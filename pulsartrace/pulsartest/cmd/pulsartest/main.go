// Command pulsartest runs the in-memory Pulsar broker of package pulsartest
// as a standalone process, for local development and for tests written in
// other languages:
//
//	go run github.com/asynctrace/asynctrace/pulsartrace/pulsartest/cmd/pulsartest
//
// It serves the Pulsar binary protocol on --listen (default
// 127.0.0.1:6650) and the admin REST API with the HTTP lookup on --admin
// (default 127.0.0.1:8080), prints both URLs, and stops on SIGINT or
// SIGTERM. Everything is kept in memory and lost when it stops.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pulsartest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:6650", "`address` of the Pulsar binary protocol")
	admin := fs.String("admin", "127.0.0.1:8080", "`address` of the admin REST API and HTTP lookup")
	maxSize := fs.Int("max-message-size", pulsartest.DefaultMaxMessageSize, "largest message accepted, in `bytes`")
	keepAlive := fs.Duration("keepalive", 30*time.Second, "interval of keepalive pings to clients")
	verbose := fs.Bool("v", false, "log protocol events to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pulsartest: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *maxSize <= 0 || *maxSize > 1<<30 {
		fmt.Fprintf(stderr, "pulsartest: -max-message-size must be between 1 and %d, got %d\n", 1<<30, *maxSize)
		return 2
	}
	if *keepAlive <= 0 {
		fmt.Fprintf(stderr, "pulsartest: -keepalive must be positive, got %v\n", *keepAlive)
		return 2
	}
	opts := []pulsartest.Option{
		pulsartest.WithMaxMessageSize(*maxSize),
		pulsartest.WithKeepAliveInterval(*keepAlive),
	}
	for _, a := range []struct {
		name, value string
		opt         func(string) pulsartest.Option
	}{{"listen", *listen, pulsartest.WithListenAddress}, {"admin", *admin, pulsartest.WithAdminAddress}} {
		opt, err := safeOption(a.opt, a.value)
		if err != nil {
			fmt.Fprintf(stderr, "pulsartest: -%s: %v\n", a.name, err)
			return 2
		}
		opts = append(opts, opt)
	}
	if *verbose {
		opts = append(opts, pulsartest.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := pulsartest.Start(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "pulsartest: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "pulsar broker: %s\nadmin API:     %s\n", srv.URL(), srv.AdminURL())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "pulsartest: close: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "stopped")
	return 0
}

// safeOption turns an invalid address, which the option rejects with a
// panic meant for programming errors, into an error for the command line.
func safeOption(f func(string) pulsartest.Option, v string) (opt pulsartest.Option, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return f(v), nil
}
