package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/provider"
)

// pipeline is every service of the example running in one process, each
// with its own OpenTelemetry provider (and so its own service.name), all of
// them recording into one in-memory collector.
type pipeline struct {
	cfg         config
	collector   *collector
	completions chan completion
	gatewayURL  string
	closers     []func(context.Context) error // in the order they run
}

// startPipeline starts the brokers and the services, consumers before
// producers so that nothing is published before it can be received.
func startPipeline(ctx context.Context, cfg config) (_ *pipeline, err error) {
	p := &pipeline{
		cfg:         cfg,
		collector:   newCollector(),
		completions: make(chan completion, 64),
	}
	// On a failed start, stop what already runs.
	defer func() {
		if err != nil {
			closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = errors.Join(err, p.Close(closeCtx))
		}
	}()
	var deferred []func(context.Context) error // telemetry and brokers stop last
	defer func() { p.closers = append(p.closers, deferred...) }()

	brokers, err := startEmbeddedBrokers(cfg.pulsarURL, cfg.pubsubEmulator)
	if err != nil {
		return p, err
	}
	deferred = append(deferred, func(context.Context) error { return brokers.Close() })
	pulsarURL := brokers.PulsarURL(cfg.pulsarURL)
	pubsubAddr := brokers.PubSubAddr(cfg.pubsubEmulator)

	tel := map[string]telemetry{}
	for _, svc := range []string{cfg.topo.GatewayService, cfg.topo.WorkerService, cfg.topo.RouterService, cfg.topo.NotifierService} {
		opts := []provider.Option{provider.WithSpanProcessor(p.collector)}
		if svc == cfg.topo.GatewayService {
			opts = append(opts, provider.WithSampleRatio(cfg.gatewaySampleRatio))
		}
		t, err := startTelemetry(ctx, svc, false, opts...)
		if err != nil {
			return p, fmt.Errorf("%s: %w", svc, err)
		}
		tel[svc] = t
		// Spans end before telemetry stops: every service is closed by then.
		deferred = append([]func(context.Context) error{t.Shutdown}, deferred...)
	}

	// Watermill: a GoChannel in this process, or Redis Streams.
	var (
		wmPub    message.Publisher
		wmSub    message.Subscriber
		wmSystem string
	)
	if cfg.redisAddr == "" {
		// PreserveContext stays false, as between processes: the trace has to
		// travel in the message metadata.
		g := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, watermillLogger())
		// The router closes the GoChannel with its subscriber; job-worker
		// closing it first would stop the router before it drained.
		wmPub, wmSub = sharedPublisher{g}, g
	} else {
		if wmSub, err = newRedisSubscriber(ctx, cfg.redisAddr, cfg.topo.EventsGroup); err != nil {
			return p, err
		}
		if wmPub, err = newRedisPublisher(ctx, cfg.redisAddr); err != nil {
			_ = wmSub.Close()
			return p, err
		}
		wmSystem = "redis"
	}

	ps, err := newPubSubClient(ctx, cfg.topo.PubSubProject, pubsubAddr)
	if err != nil {
		_, _ = wmPub.Close(), wmSub.Close()
		return p, err
	}
	deferred = append([]func(context.Context) error{func(context.Context) error { return ps.Close() }}, deferred...)

	n, err := startNotifier(ctx, tel[cfg.topo.NotifierService], ps, cfg.topo, func(c completion) {
		select {
		case p.completions <- c:
		default: // nobody is reading: --serve prints traces as fast as it can
		}
	})
	if err != nil {
		_, _ = wmPub.Close(), wmSub.Close()
		return p, err
	}
	p.closers = append([]func(context.Context) error{n.Close}, p.closers...)

	r, err := startRouter(ctx, tel[cfg.topo.RouterService], wmSub, wmSystem, ps, cfg.topo)
	if err != nil {
		_, _ = wmPub.Close(), wmSub.Close()
		return p, err
	}
	p.closers = append([]func(context.Context) error{r.Close}, p.closers...)

	w, err := startWorker(tel[cfg.topo.WorkerService], pulsarURL, wmPub, wmSystem, cfg.topo)
	if err != nil {
		_ = wmPub.Close()
		return p, err
	}
	p.closers = append([]func(context.Context) error{w.Close}, p.closers...)

	g, err := startGateway(tel[cfg.topo.GatewayService], cfg.addr, pulsarURL, cfg.topo)
	if err != nil {
		return p, err
	}
	p.closers = append([]func(context.Context) error{g.Close}, p.closers...)
	p.gatewayURL = g.URL()
	return p, nil
}

// Close stops the services from the gateway down to the notifier, then the
// telemetry and the brokers, all within ctx.
func (p *pipeline) Close(ctx context.Context) error {
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c(ctx))
	}
	p.closers = nil
	return errors.Join(errs...)
}

// submitted is the gateway's answer to a job.
type submitted struct {
	JobID         string
	TraceID       string // from the response body
	TraceResponse string // the traceresponse header
}

// submit posts a job to the gateway as any HTTP client would: without a
// trace of its own, so that the gateway's server span is the trace's root.
func submit(ctx context.Context, gatewayURL, input string) (submitted, error) {
	body, err := json.Marshal(processRequest{Input: input})
	if err != nil {
		return submitted{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gatewayURL+"/v1/process", strings.NewReader(string(body)))
	if err != nil {
		return submitted{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return submitted{}, fmt.Errorf("posting the job: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxRequestBytes))
	if resp.StatusCode != http.StatusAccepted {
		return submitted{}, fmt.Errorf("gateway answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	var pr processResponse
	if err := json.Unmarshal(raw, &pr); err != nil {
		return submitted{}, fmt.Errorf("gateway answered %q: %w", raw, err)
	}
	return submitted{JobID: pr.JobID, TraceID: pr.TraceID, TraceResponse: resp.Header.Get(httptrace.TraceResponseHeader)}, nil
}

// wait returns the completion of job id, or ctx's error. Completions of
// other jobs are dropped.
func (p *pipeline) wait(ctx context.Context, id string) (completion, error) {
	for {
		select {
		case c := <-p.completions:
			if c.JobID == id {
				return c, nil
			}
		case <-ctx.Done():
			return completion{}, ctx.Err()
		}
	}
}

// sharedPublisher is a publisher whose Close leaves the underlying Pub/Sub
// open for the subscriber that shares it.
type sharedPublisher struct{ message.Publisher }

func (sharedPublisher) Close() error { return nil }
