package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"cloud.google.com/go/pubsub/v2/pstest"

	"github.com/asynctrace/asynctrace/provider"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// runRole runs one service of the pipeline in this process until ctx ends,
// then stops it and flushes its spans. Each prints one line starting with
// "ready" once it accepts work.
func runRole(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.role == roleBrokers {
		return runBrokers(ctx, cfg.pulsarURL, out)
	}
	service := map[string]string{
		roleGateway:         cfg.topo.GatewayService,
		rolePulsarConsumer:  cfg.topo.WorkerService,
		roleWatermillRouter: cfg.topo.RouterService,
		rolePubSubConsumer:  cfg.topo.NotifierService,
	}[cfg.role]
	var opts []provider.Option
	if cfg.role == roleGateway {
		opts = append(opts, provider.WithSampleRatio(cfg.gatewaySampleRatio))
	}
	tel, err := startTelemetry(ctx, service, true, opts...)
	if err != nil {
		return err
	}
	stop, err := startRole(ctx, cfg, tel, out)
	if err == nil {
		<-ctx.Done()
		err = stop()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if flushErr := tel.Shutdown(shutdownCtx); flushErr != nil {
		err = errors.Join(err, fmt.Errorf("flushing telemetry: %w", flushErr))
	}
	return err
}

// startRole starts the service of cfg.role and returns how to stop it.
func startRole(ctx context.Context, cfg config, tel telemetry, out io.Writer) (stop func() error, err error) {
	closeWithin := func(close func(context.Context) error) func() error {
		return func() error {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			return close(ctx)
		}
	}
	switch cfg.role {
	case roleGateway:
		g, err := startGateway(tel, cfg.addr, cfg.pulsarURL, cfg.topo)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "ready: gateway listening on %s\n", g.URL())
		return closeWithin(g.Close), nil

	case rolePulsarConsumer:
		pub, err := newRedisPublisher(ctx, cfg.redisAddr)
		if err != nil {
			return nil, err
		}
		w, err := startWorker(tel, cfg.pulsarURL, pub, "redis", cfg.topo)
		if err != nil {
			_ = pub.Close()
			return nil, err
		}
		fmt.Fprintf(out, "ready: %s consuming Pulsar topic %q\n", cfg.topo.WorkerService, cfg.topo.JobsTopic)
		return closeWithin(w.Close), nil

	case roleWatermillRouter:
		ps, err := newPubSubClient(ctx, cfg.topo.PubSubProject, cfg.pubsubEmulator)
		if err != nil {
			return nil, err
		}
		sub, err := newRedisSubscriber(ctx, cfg.redisAddr, cfg.topo.EventsGroup)
		if err != nil {
			_ = ps.Close()
			return nil, err
		}
		r, err := startRouter(ctx, tel, sub, "redis", ps, cfg.topo)
		if err != nil {
			_, _ = sub.Close(), ps.Close()
			return nil, err
		}
		fmt.Fprintf(out, "ready: %s routing Redis stream %q to Pub/Sub topic %q\n", cfg.topo.RouterService, cfg.topo.EventsTopic, cfg.topo.NotificationsTopic)
		return closeWithin(func(ctx context.Context) error { return errors.Join(r.Close(ctx), ps.Close()) }), nil

	case rolePubSubConsumer:
		ps, err := newPubSubClient(ctx, cfg.topo.PubSubProject, cfg.pubsubEmulator)
		if err != nil {
			return nil, err
		}
		var mu sync.Mutex
		n, err := startNotifier(ctx, tel, ps, cfg.topo, func(c completion) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(out, "job %s done trace %s sampled=%t\n", c.JobID, c.TraceID, c.Sampled)
		})
		if err != nil {
			_ = ps.Close()
			return nil, err
		}
		fmt.Fprintf(out, "ready: %s receiving from Pub/Sub subscription %q\n", cfg.topo.NotifierService, cfg.topo.NotificationsSub)
		return closeWithin(func(ctx context.Context) error { return errors.Join(n.Close(ctx), ps.Close()) }), nil
	}
	return nil, fmt.Errorf("unknown role %q", cfg.role)
}

// runBrokers hosts the Pub/Sub server, and the Pulsar broker unless
// pulsarURL names one already running (the standalone pulsartest command,
// say), for services running in other processes, and prints how to reach
// them as shell assignments.
func runBrokers(ctx context.Context, pulsarURL string, out io.Writer) error {
	var closePulsar func() error
	if pulsarURL == "" {
		pulsarSrv, err := pulsartest.Start()
		if err != nil {
			return fmt.Errorf("starting the Pulsar broker: %w", err)
		}
		pulsarURL, closePulsar = pulsarSrv.URL(), pulsarSrv.Close
	}
	pubsubSrv := pstest.NewServerWithAddress("127.0.0.1:0")
	fmt.Fprintf(out, "PULSAR_URL=%s\nPUBSUB_EMULATOR_HOST=%s\nready: brokers\n", pulsarURL, pubsubSrv.Addr)
	<-ctx.Done()
	err := pubsubSrv.Close()
	if closePulsar != nil {
		err = errors.Join(err, closePulsar())
	}
	return err
}
