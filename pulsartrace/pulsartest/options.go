package pulsartest

import (
	"log/slog"
	"time"
)

// Option configures a Server at Start.
type Option func(*config)

type config struct {
	logger      *slog.Logger
	keepAlive   time.Duration
	partitioned map[string]int
}

func defaultConfig() config {
	return config{
		logger:      slog.New(slog.DiscardHandler),
		keepAlive:   30 * time.Second,
		partitioned: map[string]int{},
	}
}

// WithPartitionedTopic creates topic as a partitioned topic with the given
// number of partitions before the server accepts connections, as
// "pulsar-admin topics create-partitioned-topic" would. The name may be
// short ("orders"), "tenant/namespace/orders" or fully qualified. A count
// below 1 is ignored.
func WithPartitionedTopic(topic string, partitions int) Option {
	return func(c *config) {
		if partitions > 0 {
			c.partitioned[topic] = partitions
		}
	}
}

// WithLogger sends the server's protocol log (connections, commands that
// fail, injected faults) to l. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithKeepAliveInterval sets how often the server pings idle clients; a
// client silent for twice the interval is disconnected, like a real broker
// does. The default is 30 seconds, the client library's own default.
func WithKeepAliveInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.keepAlive = d
		}
	}
}
