package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/tracecheck"
)

// stderr receives the logs of the broker clients and of the example itself.
var stderr io.Writer = os.Stderr

// shutdownTimeout bounds stopping the services and flushing their spans.
const shutdownTimeout = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout))
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, out io.Writer) int {
	cfg, err := parseConfig(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "pipeline:", err)
		return 2
	}
	if cfg.role == roleAll && os.Getenv("OTEL_SERVICE_NAME") != "" {
		fmt.Fprintln(stderr, "pipeline: OTEL_SERVICE_NAME gives all four services one name in a single process; run them apart with --role")
	}
	switch {
	case cfg.role != roleAll:
		err = runRole(ctx, cfg, out)
	case cfg.serve:
		err = serve(ctx, cfg, out)
	default:
		err = runOnce(ctx, cfg, out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "pipeline:", err)
		return 1
	}
	return 0
}

// result is what one job through the single-process pipeline produced.
type result struct {
	submitted  submitted
	completion completion
	spans      []tracecheck.Span
}

// runOnce starts the pipeline, sends one job, waits for it and prints its
// trace.
func runOnce(ctx context.Context, cfg config, out io.Writer) error {
	_, err := processOne(ctx, cfg, out)
	return err
}

func processOne(ctx context.Context, cfg config, out io.Writer) (res result, err error) {
	p, err := startPipeline(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if closeErr := p.Close(closeCtx); closeErr != nil {
			err = errors.Join(err, fmt.Errorf("stopping: %w", closeErr))
		}
	}()

	res.submitted, err = submit(ctx, p.gatewayURL, cfg.input)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "POST %s/v1/process -> job %s, traceresponse %s\n", p.gatewayURL, res.submitted.JobID, res.submitted.TraceResponse)

	// The job has --timeout from its acceptance to complete and end its spans.
	waitCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	res.completion, err = p.wait(waitCtx, res.submitted.JobID)
	traceID, _ := trace.TraceIDFromHex(res.submitted.TraceID)
	if err != nil {
		// Show whatever arrived, so that the missing hop is easy to see.
		now, cancel := context.WithCancel(context.Background())
		cancel() // take what ended so far, without waiting
		spans, _ := p.collector.Take(now, traceID)
		res.spans = tracecheck.FromSDK(spans)
		printTrace(out, res.spans)
		return res, fmt.Errorf("job %s did not complete within %s (%w); the spans above are what was recorded", res.submitted.JobID, cfg.timeout, err)
	}
	fmt.Fprintf(out, "job %s completed by %s\n\n", res.completion.JobID, cfg.topo.NotifierService)
	spans, complete := p.collector.Take(waitCtx, traceID)
	res.spans = tracecheck.FromSDK(spans)
	printTrace(out, res.spans)
	if !complete {
		return res, fmt.Errorf("spans of trace %s were still open after %s", res.submitted.TraceID, cfg.timeout)
	}
	return res, nil
}

// printTrace renders spans, or says that there are none.
func printTrace(out io.Writer, spans []tracecheck.Span) {
	if len(spans) == 0 {
		fmt.Fprintln(out, "no spans recorded (the trace was not sampled)")
		return
	}
	if err := tracecheck.Render(out, spans); err != nil {
		fmt.Fprintln(out, "rendering the trace:", err)
	}
}

// serve runs the pipeline until ctx ends and prints the trace of every job.
func serve(ctx context.Context, cfg config, out io.Writer) (err error) {
	p, err := startPipeline(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		err = errors.Join(err, p.Close(closeCtx))
	}()
	fmt.Fprintf(out, "pipeline listening on %s; send a job with\n\n  curl -i -X POST -d '{\"input\":\"hello\"}' %s/v1/process\n\nCtrl-C stops.\n", p.gatewayURL, p.gatewayURL)
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-p.completions:
			traceID, _ := trace.TraceIDFromHex(c.TraceID)
			takeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			spans, _ := p.collector.Take(takeCtx, traceID)
			cancel()
			fmt.Fprintf(out, "\njob %s completed\n", c.JobID)
			printTrace(out, tracecheck.FromSDK(spans))
		}
	}
}
