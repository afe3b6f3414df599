package pulsartrace

import (
	"fmt"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/config"
)

// DefaultMaxUnsettled is how many received but not yet settled messages a
// traced consumer keeps spans open for, unless [WithMaxUnsettled] says
// otherwise. Past it, the oldest span is ended as abandoned, so a consumer
// that never settles some messages holds bounded memory.
const DefaultMaxUnsettled = 10000

// settings are the options of this package's own.
type settings struct {
	maxUnsettled int
}

func newSettings() settings { return settings{maxUnsettled: DefaultMaxUnsettled} }

// resolve applies opts for the constructor fn.
func resolve(fn string, opts []asynctrace.Option) (config.Shared, settings) {
	s := newSettings()
	shared := config.Resolve("pulsartrace."+fn, "pulsartrace", opts, &s)
	return shared, s
}

func option(name string, o config.Option) asynctrace.Option {
	o.Name, o.Adapter = "pulsartrace."+name, "pulsartrace"
	return config.New(o).(asynctrace.Option)
}

// WithServiceURL sets server.address and server.port from the service URL
// given to pulsar.ClientOptions.URL, such as "pulsar://broker:6650" (the
// default port of the scheme is used when the URL names none). For a URL
// that lists several brokers ("pulsar://a:6650,b:6650") the first one is
// reported. It panics if serviceURL cannot be parsed as a Pulsar service
// URL: the same URL would not connect the client either.
func WithServiceURL(serviceURL string) asynctrace.Option {
	host, port, ok := parseServiceURL(serviceURL)
	if !ok {
		panic(fmt.Sprintf("pulsartrace.WithServiceURL: %q is not a Pulsar service URL (pulsar://host:port, pulsar+ssl://, http:// or https://)", serviceURL))
	}
	return option("WithServiceURL", config.Option{Shared: func(c *config.Shared) { c.ServerAddress, c.ServerPort = host, port }})
}

// WithMaxUnsettled bounds how many received messages a traced consumer
// keeps waiting for settlement with their span open (default
// [DefaultMaxUnsettled]); past n, the oldest span is ended as abandoned and
// its later settlement is passed to the client untraced. It panics if n is
// less than 1.
func WithMaxUnsettled(n int) asynctrace.Option {
	if n < 1 {
		panic(fmt.Sprintf("pulsartrace.WithMaxUnsettled: n must be at least 1, got %d", n))
	}
	return option("WithMaxUnsettled", config.Option{Local: func(s *settings) { s.maxUnsettled = n }})
}
