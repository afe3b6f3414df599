package pulsartrace

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Default ports of the Pulsar binary protocol and of the broker's HTTP
// service, by URL scheme, used when a service URL names no port.
var defaultPorts = map[string]int{
	"pulsar":     6650,
	"pulsar+ssl": 6651,
	"http":       8080,
	"https":      8443,
}

func parseServiceURL(serviceURL string) (host string, port int, ok bool) {
	u, err := url.Parse(strings.TrimSpace(serviceURL))
	if err != nil || u.Host == "" {
		return "", 0, false
	}
	hostport, _, _ := strings.Cut(u.Host, ",")
	port = defaultPorts[strings.ToLower(u.Scheme)]
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return "", 0, false
		}
		hostport, port = h, n
	}
	hostport = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	if hostport == "" {
		return "", 0, false
	}
	return hostport, port, true
}
