package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Roles a process can take with --role.
const (
	roleAll             = ""
	roleBrokers         = "brokers"
	roleGateway         = "gateway"
	rolePulsarConsumer  = "pulsar-consumer"
	roleWatermillRouter = "watermill-router"
	rolePubSubConsumer  = "pubsub-consumer"
)

// defaultRedisAddr is where the Watermill hop finds Redis when services run
// as separate processes and nothing else is configured.
const defaultRedisAddr = "127.0.0.1:6379"

// topology names the services, topics and subscriptions of the pipeline.
type topology struct {
	GatewayService  string
	WorkerService   string
	RouterService   string
	NotifierService string

	JobsTopic          string // Pulsar
	JobsSubscription   string
	EventsTopic        string // Watermill
	EventsGroup        string // Watermill consumer group (Redis Streams)
	RouterHandler      string
	PubSubProject      string
	NotificationsTopic string // Pub/Sub
	NotificationsSub   string
}

func defaultTopology() topology {
	return topology{
		GatewayService:     "gateway",
		WorkerService:      "job-worker",
		RouterService:      "event-router",
		NotifierService:    "notifier",
		JobsTopic:          "jobs",
		JobsSubscription:   "job-workers",
		EventsTopic:        "job-events",
		EventsGroup:        "event-router",
		RouterHandler:      "notify",
		PubSubProject:      "asynctrace-demo",
		NotificationsTopic: "notifications",
		NotificationsSub:   "notifications-sender",
	}
}

// config is everything the command line and the environment decide.
type config struct {
	role    string
	serve   bool
	addr    string // gateway listen address
	input   string // what the self-sent request asks to process
	timeout time.Duration

	pulsarURL      string // "" starts the embedded broker
	redisAddr      string // "" uses a GoChannel (single process only)
	pubsubEmulator string // "" starts pstest (single process) or uses the client's defaults

	// gatewaySampleRatio is the share of new traces the gateway records;
	// every other service follows the sampled flag it receives.
	gatewaySampleRatio float64

	topo topology
}

func parseConfig(args []string) (config, error) {
	c := config{topo: defaultTopology()}
	fs := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	fs.StringVar(&c.role, "role", "", "run one service only: brokers, gateway, pulsar-consumer, watermill-router or pubsub-consumer (default: all in this process)")
	fs.BoolVar(&c.serve, "serve", false, "keep serving and print the trace of every job instead of sending one request and exiting")
	fs.StringVar(&c.addr, "addr", "", "gateway listen address (default 127.0.0.1:8080 with --serve or --role gateway, a free port otherwise)")
	fs.StringVar(&c.input, "input", "hello, trace", "input of the job the pipeline sends itself")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long to wait for the job to complete")
	fs.StringVar(&c.pulsarURL, "pulsar-url", os.Getenv("PULSAR_URL"), "Pulsar service URL (env PULSAR_URL; default: embedded broker)")
	fs.StringVar(&c.redisAddr, "redis", os.Getenv("WATERMILL_REDIS_ADDR"), "Redis address for Watermill over Redis Streams (env WATERMILL_REDIS_ADDR; default: GoChannel, or "+defaultRedisAddr+" with --role)")
	fs.StringVar(&c.pubsubEmulator, "pubsub-emulator", os.Getenv("PUBSUB_EMULATOR_HOST"), "Pub/Sub emulator host:port (env PUBSUB_EMULATOR_HOST; default: embedded pstest)")
	fs.StringVar(&c.topo.EventsTopic, "watermill-topic", c.topo.EventsTopic, "Watermill topic (Redis stream) between job-worker and event-router")
	fs.Float64Var(&c.gatewaySampleRatio, "sample-ratio", 1, "share of new traces the gateway records, 0 to 1 (OTEL_TRACES_SAMPLER wins)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch c.role {
	case roleAll, roleBrokers, roleGateway, rolePulsarConsumer, roleWatermillRouter, rolePubSubConsumer:
	default:
		return c, fmt.Errorf("unknown role %q: want brokers, gateway, pulsar-consumer, watermill-router or pubsub-consumer", c.role)
	}
	if c.gatewaySampleRatio < 0 || c.gatewaySampleRatio > 1 {
		return c, errors.New("--sample-ratio must be between 0 and 1, got " + strconv.FormatFloat(c.gatewaySampleRatio, 'g', -1, 64))
	}
	if c.timeout <= 0 {
		return c, errors.New("--timeout must be positive")
	}
	if c.role != roleAll && c.redisAddr == "" {
		c.redisAddr = defaultRedisAddr
	}
	if c.addr == "" {
		c.addr = "127.0.0.1:0"
		if c.serve || c.role == roleGateway {
			c.addr = "127.0.0.1:8080"
		}
	}
	return c, nil
}
