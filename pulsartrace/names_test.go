package pulsartrace

import (
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
)

func TestDestinationName(t *testing.T) {
	for in, want := range map[string]string{
		"orders":                             "orders",
		"persistent://public/default/orders": "orders",
		"persistent://public/default/orders-partition-3": "orders",
		"orders-partition-12":                            "orders",
		"public/default/orders":                          "orders",
		"persistent://acme/billing/invoices-partition-0": "persistent://acme/billing/invoices",
		"non-persistent://public/default/events":         "non-persistent://public/default/events",
		"acme/billing/invoices":                          "acme/billing/invoices",
		"orders-partition-x":                             "orders-partition-x",
		"orders-partition-":                              "orders-partition-",
		"-partition-1":                                   "-partition-1",
		"persistent://public/default/":                   "persistent://public/default/",
		"":                                               "",
	} {
		if got := destinationName(in); got != want {
			t.Errorf("destinationName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseServiceURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		host string
		port int
		ok   bool
	}{
		{"pulsar://localhost:6650", "localhost", 6650, true},
		{"pulsar://broker", "broker", 6650, true},
		{"pulsar+ssl://broker.example.com", "broker.example.com", 6651, true},
		{"pulsar://a:6651,b:6652", "a", 6651, true},
		{"pulsar://[::1]:6650", "::1", 6650, true},
		{"pulsar://[::1]", "::1", 6650, true},
		{"PULSAR+SSL://Broker:7000/", "Broker", 7000, true},
		{"http://admin:8080", "admin", 8080, true},
		{" pulsar://127.0.0.1:40000 ", "127.0.0.1", 40000, true},
		{"pulsar://host:notaport", "", 0, false},
		{"pulsar://host:99999", "", 0, false},
		{"not a url", "", 0, false},
		{"", "", 0, false},
		{"://", "", 0, false},
	} {
		host, port, ok := parseServiceURL(tc.url)
		if host != tc.host || port != tc.port || ok != tc.ok {
			t.Errorf("parseServiceURL(%q) = %q, %d, %v; want %q, %d, %v", tc.url, host, port, ok, tc.host, tc.port, tc.ok)
		}
	}
}

func TestFormatMessageID(t *testing.T) {
	for _, tc := range []struct {
		id   pulsar.MessageID
		want string
	}{
		{pulsar.NewMessageID(12, 34, -1, -1), "12:34:-1"},
		{pulsar.NewMessageID(12, 34, -1, 2), "12:34:2"},
		{pulsar.NewMessageID(12, 34, 0, 2), "12:34:2:0"},
		{pulsar.NewMessageID(9223372036854775807, -9223372036854775808, 2147483647, -2147483648), "9223372036854775807:-9223372036854775808:-2147483648:2147483647"},
	} {
		if got := formatMessageID(tc.id); got != tc.want {
			t.Errorf("formatMessageID(%v) = %q, want %q", tc.id, got, tc.want)
		}
	}
	// Without a batch index the format is the client's own.
	id := pulsar.NewMessageID(7, 8, -1, 3)
	if formatMessageID(id) != id.String() {
		t.Errorf("formatMessageID(%v) = %q, client says %q", id, formatMessageID(id), id.String())
	}
}
