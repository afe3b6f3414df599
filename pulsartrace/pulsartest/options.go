package pulsartest

import (
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Option configures a Server at Start.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultMaxMessageSize is the largest message the server accepts unless
// WithMaxMessageSize says otherwise: 5 MiB, a real broker's default.
const DefaultMaxMessageSize = 5 * 1024 * 1024

type config struct {
	logger         *slog.Logger
	keepAlive      time.Duration
	partitioned    map[string]int
	listenAddr     string
	adminAddr      string
	maxMessageSize int
}

func defaultConfig() config {
	return config{
		logger:         slog.New(slog.DiscardHandler),
		keepAlive:      30 * time.Second,
		partitioned:    map[string]int{},
		listenAddr:     "127.0.0.1:0",
		adminAddr:      "127.0.0.1:0",
		maxMessageSize: DefaultMaxMessageSize,
	}
}

func newConfig(opts []Option) config {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	return cfg
}

// WithPartitionedTopic creates topic as a partitioned topic with the given
// number of partitions before the server accepts connections, as
// "pulsar-admin topics create-partitioned-topic" would. The name may be
// short ("orders"), "tenant/namespace/orders" or fully qualified.
func WithPartitionedTopic(topic string, partitions int) Option {
	if topic == "" {
		panic("pulsartest.WithPartitionedTopic: topic must not be empty")
	}
	if partitions < 1 {
		panic(fmt.Sprintf("pulsartest.WithPartitionedTopic: partitions must be at least 1, got %d", partitions))
	}
	return optionFunc(func(c *config) {
		c.partitioned[topic] = partitions
	})
}

// WithLogger sends the server's protocol log (connections, commands that
// fail, injected faults, admin requests that fail) to l. By default
// nothing is logged.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("pulsartest.WithLogger: logger must not be nil")
	}
	return optionFunc(func(c *config) { c.logger = l })
}

// WithKeepAliveInterval sets how often the server pings idle clients; a
// client silent for twice the interval is disconnected, like a real broker
// does. The default is 30 seconds, the client library's own default.
func WithKeepAliveInterval(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("pulsartest.WithKeepAliveInterval: interval must be positive, got %v", d))
	}
	return optionFunc(func(c *config) { c.keepAlive = d })
}

// WithListenAddress sets the TCP address of the binary protocol, such as
// "127.0.0.1:6650" or ":6650". The default, "127.0.0.1:0", picks a free
// loopback port; Server.URL tells which.
func WithListenAddress(addr string) Option {
	checkAddr("WithListenAddress", addr)
	return optionFunc(func(c *config) { c.listenAddr = addr })
}

// WithAdminAddress sets the TCP address of the admin REST API (and the
// HTTP lookup service), such as "127.0.0.1:8080". The default,
// "127.0.0.1:0", picks a free loopback port; Server.AdminURL tells which.
func WithAdminAddress(addr string) Option {
	checkAddr("WithAdminAddress", addr)
	return optionFunc(func(c *config) { c.adminAddr = addr })
}

func checkAddr(fn, addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		panic(fmt.Sprintf("pulsartest.%s: address must be host:port, got %q", fn, addr))
	}
}

// WithMaxMessageSize sets the largest message, in bytes, that producers
// may send. The server announces it when a client connects, so that the
// client rejects larger messages itself (or splits them, with chunking
// enabled), and closes a connection that sends a larger frame, like a real
// broker. The default is DefaultMaxMessageSize.
func WithMaxMessageSize(size int) Option {
	if size <= 0 || size > 1<<30 {
		panic(fmt.Sprintf("pulsartest.WithMaxMessageSize: size must be positive and at most 1 GiB, got %d", size))
	}
	return optionFunc(func(c *config) { c.maxMessageSize = size })
}
