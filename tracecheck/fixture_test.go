package tracecheck

import "time"

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const (
	tid  = "4bf92f3577b34da6a3ce929d0e0e4736"
	tid2 = "0af7651916cd43dd8448eb211c80319c"
)

// orderTrace is a small, complete trace: an HTTP request that publishes a
// message, a consumer in another service that fails, and a database call.
func orderTrace() []Span {
	return []Span{
		{TraceID: tid, SpanID: "0000000000000001", Service: "frontend", Name: "POST /orders", Kind: KindServer,
			Start: at(0), Duration: 10 * time.Millisecond,
			Attributes: map[string]string{"http.request.method": "POST", "http.response.status_code": "202"}},
		{TraceID: tid, SpanID: "0000000000000002", ParentSpanID: "0000000000000001", Service: "frontend", Name: "send orders", Kind: KindProducer,
			Start: at(1 * time.Millisecond), Duration: 1 * time.Millisecond,
			Attributes: map[string]string{"messaging.system": "pulsar", "messaging.destination.name": "orders", "messaging.message.id": "7:1"}},
		{TraceID: tid, SpanID: "0000000000000005", ParentSpanID: "0000000000000001", Service: "frontend", Name: "GET /stock", Kind: KindClient,
			Start: at(1500 * time.Microsecond), Duration: 500 * time.Microsecond},
		{TraceID: tid, SpanID: "0000000000000003", ParentSpanID: "0000000000000002", Service: "billing", Name: "process orders", Kind: KindConsumer,
			Start: at(3 * time.Millisecond), Duration: 5 * time.Millisecond, StatusError: true, StatusMessage: "card declined",
			Attributes: map[string]string{"messaging.system": "pulsar", "messaging.destination.name": "orders"}},
		{TraceID: tid, SpanID: "0000000000000004", ParentSpanID: "0000000000000003", Service: "billing", Name: "UPDATE accounts", Kind: KindClient,
			Start: at(4 * time.Millisecond), Duration: 2 * time.Millisecond},
	}
}

// orderExpectation is the expectation orderTrace satisfies.
func orderExpectation() Expectation {
	root := SpanRef{Service: "frontend", Name: "POST /orders"}
	send := SpanRef{Service: "frontend", Name: "send orders"}
	process := SpanRef{Service: "billing", Name: "process orders"}
	return Expectation{Spans: []ExpectedSpan{
		{Service: "frontend", Name: "POST /orders", Kind: KindServer},
		{Service: "frontend", Name: "send orders", Kind: KindProducer, Parent: root,
			Attributes: map[string]string{"messaging.system": "pulsar", "messaging.message.id": ""}},
		{Service: "frontend", Name: "GET /stock", Kind: KindClient, Parent: root},
		{Service: "billing", Name: "process orders", Kind: KindConsumer, Parent: send, Error: true,
			Attributes: map[string]string{"messaging.destination.name": "orders"}},
		{Service: "billing", Name: "UPDATE accounts", Kind: KindClient, Parent: process},
	}}
}
