// Command tracecheck verifies that a request left one unbroken trace in a
// trace backend, shaped as expected, so that CI jobs can prove it without
// writing Go:
//
//	go run github.com/asynctrace/asynctrace/cmd/tracecheck \
//	    --jaeger http://localhost:16686 \
//	    --trace "$traceresponse" \
//	    --expect 'gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer)'
//
// It reads the trace from exactly one of Jaeger's query API (--jaeger),
// Grafana Tempo's HTTP API (--tempo) or a file the OpenTelemetry
// Collector's file exporter writes in JSON (--otlp-file). --trace takes a
// trace id or the value of a traceparent or traceresponse header.
//
// --expect takes the chain syntax of the tracecheck package (see
// tracecheck.Parse): service:name spans joined by ">" (child), ">>" (any
// spans in between) and "~>" (linked, in a trace of its own), an optional
// "(kind, error)" and "{attribute=value}" after each span, several chains
// separated by ";" that branch from a span named before, and "..." to
// allow spans not named. --expect may be given several times; the chains
// add up. "--expect nothing" requires that the request left no span, as
// for a request that was not sampled.
//
// The trace is read until it matches, or until it has not changed for
// --settle, or until --timeout. tracecheck prints the trace as a tree and,
// if it does not match, each difference and the expected tree with every
// span marked ok, WRONG or MISSING.
//
// Exit status: 0 when the trace matches, 1 when it does not or cannot be
// read, 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/asynctrace/asynctrace/tracecheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK       = 0
	exitMismatch = 1
	exitUsage    = 2
)

// multiFlag collects a flag given several times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// run is the command: it parses args, checks the trace, writes the report
// to stdout and problems with the invocation or the backend to stderr, and
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tracecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		jaegerURL = fs.String("jaeger", "", "base `URL` of Jaeger's query API, e.g. http://localhost:16686")
		tempoURL  = fs.String("tempo", "", "base `URL` of Grafana Tempo's HTTP API, e.g. http://localhost:3200")
		otlpFile  = fs.String("otlp-file", "", "`path` of a file written by the OpenTelemetry Collector's file exporter (JSON)")
		traceArg  = fs.String("trace", "", "trace `id`, or a traceparent/traceresponse header value")
		expects   multiFlag
		services  = fs.String("services", "", "comma-separated `list` of the services that must, and alone may, take part")
		extra     = fs.Bool("allow-extra", false, "accept spans the expectation does not name (same as a \"...\" chain)")
		timeout   = fs.Duration("timeout", tracecheck.DefaultTimeout, "give up after this `duration`")
		settle    = fs.Duration("settle", tracecheck.DefaultSettle, "take the trace as complete once unchanged for this `duration`")
		poll      = fs.Duration("poll", tracecheck.DefaultPollInterval, "pause between two reads of the backend")
	)
	fs.Var(&expects, "expect", "expected trace in the chain `syntax`, e.g. 'gw:POST /x > gw:send q > wk:process q'; repeatable")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: tracecheck (--jaeger URL | --tempo URL | --otlp-file PATH) --trace ID --expect CHAIN [flags]\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nexit status: 0 the trace matches, 1 it does not or cannot be read, 2 usage error\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tracecheck: "+format+"\n", a...)
		fmt.Fprintf(stderr, "run tracecheck -h for help\n")
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}

	var src tracecheck.Source
	var backends []string
	if *jaegerURL != "" {
		src, backends = tracecheck.NewJaegerSource(*jaegerURL), append(backends, "--jaeger")
	}
	if *tempoURL != "" {
		src, backends = tracecheck.NewTempoSource(*tempoURL), append(backends, "--tempo")
	}
	if *otlpFile != "" {
		src, backends = tracecheck.NewOTLPFileSource(*otlpFile), append(backends, "--otlp-file")
	}
	switch {
	case len(backends) == 0:
		return usage("name the backend with --jaeger, --tempo or --otlp-file")
	case len(backends) > 1:
		return usage("name one backend, not %s", strings.Join(backends, " and "))
	case *jaegerURL != "" && !isHTTPURL(*jaegerURL):
		return usage("--jaeger %q: want an http:// or https:// URL", *jaegerURL)
	case *tempoURL != "" && !isHTTPURL(*tempoURL):
		return usage("--tempo %q: want an http:// or https:// URL", *tempoURL)
	case *traceArg == "":
		return usage("--trace is required")
	case len(expects) == 0:
		return usage("--expect is required")
	case *timeout <= 0 || *settle <= 0 || *poll <= 0:
		return usage("--timeout, --settle and --poll must be positive")
	}
	traceID, err := tracecheck.ParseTraceID(*traceArg)
	if err != nil {
		return usage("--trace: %v", strings.TrimPrefix(err.Error(), "tracecheck: "))
	}
	want, err := tracecheck.Parse(strings.Join(expects, "\n"))
	if err != nil {
		return usage("--expect: %v", strings.TrimPrefix(err.Error(), "tracecheck: "))
	}
	if !want.IsNothing() {
		want.TraceID = traceID
		want.AllowExtra = want.AllowExtra || *extra
		if *services != "" {
			for _, s := range strings.Split(*services, ",") {
				if s = strings.TrimSpace(s); s != "" {
					want.Services = append(want.Services, s)
				}
			}
		}
	} else if *services != "" || *extra {
		return usage("--services and --allow-extra do not apply to --expect nothing")
	}

	fmt.Fprintf(stdout, "trace %s in %s\n", traceID, sourceName(src))
	fmt.Fprintf(stdout, "expect: %s\n", want)
	if notSampled(*traceArg) && !want.IsNothing() {
		fmt.Fprintf(stdout, "note: the header's flags say the request was not sampled; a request that was not sampled leaves nothing (--expect nothing)\n")
	}
	spans, err := tracecheck.Await(ctx, src, traceID, want,
		tracecheck.WithTimeout(*timeout), tracecheck.WithSettle(*settle), tracecheck.WithPollInterval(*poll))
	var mismatch *tracecheck.MismatchError
	switch {
	case err == nil:
		if want.IsNothing() {
			fmt.Fprintf(stdout, "ok: the request left no spans\n")
			return exitOK
		}
		fmt.Fprintln(stdout)
		_ = tracecheck.Render(stdout, spans)
		fmt.Fprintf(stdout, "\nok: %d spans in %d %s match the expectation\n", len(spans), countServices(spans), plural(countServices(spans), "service", "services"))
		return exitOK
	case errors.As(err, &mismatch):
		fmt.Fprintf(stdout, "\n%v\n", err)
		fmt.Fprintf(stdout, "\nFAIL: trace %s does not match the expectation\n", traceID)
		return exitMismatch
	default:
		fmt.Fprintln(stderr, err)
		fmt.Fprintf(stdout, "FAIL: trace %s could not be read\n", traceID)
		return exitMismatch
	}
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func sourceName(src tracecheck.Source) string {
	if s, ok := src.(fmt.Stringer); ok {
		return s.String()
	}
	return "the backend"
}

// notSampled reports whether s is a trace context header value whose flags
// say the request was not sampled.
func notSampled(s string) bool {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 4 || len(parts[3]) != 2 {
		return false
	}
	var flags byte
	if _, err := fmt.Sscanf(parts[3], "%02x", &flags); err != nil {
		return false
	}
	return flags&1 == 0
}

func countServices(spans []tracecheck.Span) int {
	seen := make(map[string]bool)
	for _, s := range spans {
		seen[s.Service] = true
	}
	return len(seen)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
