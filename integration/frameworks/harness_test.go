package frameworks_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/pulsartrace"
	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
	"github.com/asynctrace/asynctrace/tracecheck"
)

// Every framework serves the same routes, written its own way:
//
//	GET  /users/{id}   200
//	POST /users        201; 400 when the body is not a JSON user
//	GET  /fail         the handler fails with errBoom: 500
//	GET  /panic        the handler panics; the framework's recovery answers 500
//	POST /v1/process   sends a message to Pulsar with the request's context: 202
//	GET  /healthz      200, never traced
//
// and answers 404 to anything else.
const topic = "jobs"

var errBoom = errors.New("boom")

// user is the body POST /users binds.
type user struct {
	Name string `json:"name"`
}

// app is what a framework's routes use: the telemetry the test reads and
// a traced Pulsar producer.
type app struct {
	tel      *telemetrytest.Telemetry
	broker   *pulsartest.Server
	producer pulsar.Producer
}

// send is the work of POST /v1/process: one message whose send span is a
// child of the span in ctx.
func (a *app) send(ctx context.Context) error {
	_, err := a.producer.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(`{"job":1}`)})
	return err
}

// framework describes how one framework's recipe names and records spans.
type framework struct {
	// userRoute is the framework's template of /users/{id}.
	userRoute string
	// spanName is the server span name for a request matched to route, or
	// unmatched when route is empty.
	spanName func(method, route string) string
	// statusKey is the attribute carrying the response status code.
	statusKey attribute.Key
	// unmatchedRoute is the http.route a recipe sets on an unmatched
	// request where it does not leave the attribute out as it should:
	// otelgin sets "", the Fiber contrib middleware "/".
	unmatchedRoute *string
	// noRecovery marks frameworks that have no panic recovery of their own.
	noRecovery bool
	// start serves the routes on ln until the test ends.
	start func(t *testing.T, a *app, ln net.Listener)
}

// semconvName is the span name the HTTP semantic conventions ask for.
func semconvName(method, route string) string {
	if route == "" {
		return method
	}
	return method + " " + route
}

// testFramework runs every check against one framework.
func testFramework(t *testing.T, fw framework) {
	a := newApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fw.start(t, a, ln)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	statusKey := fw.statusKey
	if statusKey == "" {
		statusKey = "http.response.status_code"
	}

	cases := []struct {
		name, method, path, body string
		status                   int
		route                    string
	}{
		{"ok", http.MethodGet, "/users/42", "", http.StatusOK, fw.userRoute},
		{"bind error", http.MethodPost, "/users", `{"name":`, http.StatusBadRequest, "/users"},
		{"created", http.MethodPost, "/users", `{"name":"ada"}`, http.StatusCreated, "/users"},
		{"no route", http.MethodGet, "/nowhere", "", http.StatusNotFound, ""},
		{"returned error", http.MethodGet, "/fail", "", http.StatusInternalServerError, "/fail"},
		{"recovered panic", http.MethodGet, "/panic", "", http.StatusInternalServerError, "/panic"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "recovered panic" && fw.noRecovery {
				t.Skip("the framework has no recovery middleware")
			}
			resp, gateway := a.call(t, client, tc.method, base+tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			srv := a.serverSpan(t, gateway)
			name := fw.spanName(tc.method, tc.route)
			checkTrace(t, a, gateway, tracecheck.ExpectedSpan{
				Service: telemetrytest.Service, Name: name, Kind: tracecheck.KindServer, Parent: gatewayRef,
				Error: tc.status >= 500, Attributes: map[string]string{string(statusKey): strconv.Itoa(tc.status)},
			})
			if tc.route != "" {
				telemetrytest.WantAttr(t, srv, "http.route", tc.route)
			} else if fw.unmatchedRoute != nil {
				telemetrytest.WantAttr(t, srv, "http.route", *fw.unmatchedRoute)
			} else {
				telemetrytest.NoAttr(t, srv, "http.route")
			}
			if wantErr := tc.status >= 500; (srv.Status().Code == codes.Error) != wantErr {
				t.Errorf("span status %v, want error: %t", srv.Status(), wantErr)
			}
			checkTraceResponse(t, resp, srv)
		})
	}

	t.Run("health path", func(t *testing.T) {
		resp, gateway := a.call(t, client, http.MethodGet, base+"/healthz", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		if v := resp.Header.Get(httptrace.TraceResponseHeader); v != "" {
			t.Errorf("health answer has traceresponse %q", v)
		}
		// A traced request on the same connection after it: once its span
		// has ended, a span of the health request would have ended too.
		_, next := a.call(t, client, http.MethodGet, base+"/users/1", "")
		a.serverSpan(t, next)
		for _, s := range a.tel.Recorder.Ended() {
			if s.SpanContext().TraceID() == gateway.TraceID() && s.SpanKind() == trace.SpanKindServer {
				t.Errorf("health request traced: span %q", s.Name())
			}
		}
	})

	t.Run("pulsar send in the handler", func(t *testing.T) {
		resp, gateway := a.call(t, client, http.MethodPost, base+"/v1/process", `{"job":1}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d, want 202", resp.StatusCode)
		}
		srv := a.serverSpan(t, gateway)
		send := a.waitSpan(t, "send "+topic, func(s sdktrace.ReadOnlySpan) bool {
			return s.Parent().SpanID() == srv.SpanContext().SpanID()
		})
		server := tracecheck.SpanRef{Service: telemetrytest.Service, Name: fw.spanName(http.MethodPost, "/v1/process")}
		checkTrace(t, a, gateway,
			tracecheck.ExpectedSpan{Service: server.Service, Name: server.Name, Kind: tracecheck.KindServer, Parent: gatewayRef},
			tracecheck.ExpectedSpan{Service: server.Service, Name: "send " + topic, Kind: tracecheck.KindProducer, Parent: server,
				Attributes: map[string]string{"messaging.system": "pulsar"}})
		// The message carries the send span's context to the consumer.
		msgs := a.broker.Messages(topic)
		if len(msgs) == 0 {
			t.Fatal("no message on the broker")
		}
		got := msgs[len(msgs)-1].Properties["traceparent"]
		sc := send.SpanContext()
		if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"; got != want {
			t.Errorf("message traceparent %q, want %q", got, want)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// gatewayRef is the span the test sends requests from.
var gatewayRef = tracecheck.SpanRef{Service: telemetrytest.Service, Name: "gateway"}

func newApp(t *testing.T) *app {
	t.Helper()
	tel := telemetrytest.New(t)
	broker := pulsartest.NewServer(t)
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: broker.URL(), Logger: pulsarlog.DefaultNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	p, err := client.CreateProducer(pulsar.ProducerOptions{Topic: topic, SendTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	producer := pulsartrace.WrapProducer(p, tel.Options(pulsartrace.WithServiceURL(broker.URL()))...)
	t.Cleanup(producer.Close)
	return &app{tel: tel, broker: broker, producer: producer}
}

// call sends a request the way a gateway in front of the service does:
// with the traceparent of the gateway's own span. It returns the response,
// its body read, and the gateway span's context.
func (a *app) call(t *testing.T, client *http.Client, method, url, body string) (*http.Response, trace.SpanContext) {
	t.Helper()
	ctx, gateway := a.tel.Root(context.Background(), "gateway")
	defer gateway.End()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	telemetrytest.W3C.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, gateway.SpanContext()
}

// serverSpan waits for the server span that continues gateway.
func (a *app) serverSpan(t *testing.T, gateway trace.SpanContext) sdktrace.ReadOnlySpan {
	t.Helper()
	return a.waitSpan(t, "", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindServer && s.Parent().SpanID() == gateway.SpanID() &&
			s.SpanContext().TraceID() == gateway.TraceID()
	})
}

// waitSpan waits for an ended span, named name unless name is empty, that
// matches.
func (a *app) waitSpan(t *testing.T, name string, match func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(telemetrytest.WaitTimeout)
	for {
		for _, s := range a.tel.Recorder.Ended() {
			if (name == "" || s.Name() == name) && match(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q after %s; ended: %v", name, telemetrytest.WaitTimeout, telemetrytest.SpanNames(a.tel.Recorder.Ended()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkTrace checks that the ended spans of gateway's trace are the gateway
// span and below it exactly want.
func checkTrace(t *testing.T, a *app, gateway trace.SpanContext, want ...tracecheck.ExpectedSpan) {
	t.Helper()
	var spans []sdktrace.ReadOnlySpan
	for _, s := range a.tel.Recorder.Ended() {
		if s.SpanContext().TraceID() == gateway.TraceID() {
			spans = append(spans, s)
		}
	}
	want = append([]tracecheck.ExpectedSpan{{Service: gatewayRef.Service, Name: gatewayRef.Name, Kind: tracecheck.KindInternal}}, want...)
	tracecheck.Assert(t, tracecheck.FromSDK(spans), tracecheck.Expectation{Spans: want})
}

// checkTraceResponse checks that the response names the server span in its
// traceresponse header.
func checkTraceResponse(t *testing.T, resp *http.Response, srv sdktrace.ReadOnlySpan) {
	t.Helper()
	sc := srv.SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
	if got := resp.Header.Get(httptrace.TraceResponseHeader); got != want {
		t.Errorf("traceresponse %q, want %q", got, want)
	}
}
