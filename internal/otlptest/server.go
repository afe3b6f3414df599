package otlptest

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
)

// Paths on which the server accepts OTLP/HTTP export requests.
const (
	TracesPath  = "/v1/traces"
	MetricsPath = "/v1/metrics"
	LogsPath    = "/v1/logs"
)

// maxBodyBytes bounds a single request body (after decompression) so that a
// misbehaving client cannot exhaust the test process's memory.
const maxBodyBytes = 64 << 20

// Mode selects how the server answers export requests.
type Mode int

const (
	// Normal decodes every request, stores its content and answers with a
	// successful OTLP response.
	Normal Mode = iota
	// Hang accepts the connection and reads the request headers but never
	// answers; the request is aborted when the client gives up or the server
	// is closed. It models a collector that is up but stuck.
	Hang
	// Reject answers every request with HTTP 400 Bad Request, which OTLP
	// exporters treat as a permanent, non-retryable failure.
	Reject
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Normal:
		return "normal"
	case Hang:
		return "hang"
	case Reject:
		return "reject"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// Option configures a [Server].
type Option func(*Server)

// WithGRPC also serves OTLP/gRPC on a second loopback port, see
// [Server.GRPCURL]. What arrives over gRPC is stored with what arrives over
// HTTP, and the mode applies to both.
func WithGRPC() Option {
	return func(s *Server) { s.withGRPC = true }
}

// WithMode sets the mode the server starts in. The default is [Normal].
func WithMode(m Mode) Option {
	return func(s *Server) { s.mode = m }
}

// Request describes one HTTP request the server received, whatever its mode.
type Request struct {
	// Method is the HTTP method; gRPC calls are POSTs too.
	Method string
	// Path is the URL path, for example "/v1/traces", or for a gRPC call the
	// full method name, for example [GRPCTracesMethod].
	Path string
	// Header holds a copy of the request headers (Content-Type,
	// Content-Encoding, User-Agent and any headers configured on the
	// exporter), or of the call metadata for gRPC.
	Header http.Header
}

// Server is a loopback OTLP/HTTP receiver. Its methods are safe for
// concurrent use.
type Server struct {
	http     *httptest.Server
	withGRPC bool
	grpc     *grpcReceiver

	closing   chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	mode     Mode
	requests []Request
	spans    []Span
	metrics  []Metric
	logs     []LogRecord
	errs     []error
	// changed is closed and replaced whenever stored state grows, waking
	// every waiter so it can re-check its condition.
	changed chan struct{}
}

// NewServer starts a receiver on 127.0.0.1 with an ephemeral port. The
// caller closes it, typically with t.Cleanup(srv.Close). Like
// httptest.NewServer, it panics only if no loopback port can be bound.
func NewServer(opts ...Option) *Server {
	s := &Server{
		closing: make(chan struct{}),
		changed: make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TracesPath, s.handle)
	mux.HandleFunc(MetricsPath, s.handle)
	mux.HandleFunc(LogsPath, s.handle)
	// httptest binds 127.0.0.1:0, so nothing leaves the machine.
	s.http = httptest.NewServer(mux)
	if s.withGRPC {
		s.grpc = startGRPC(s)
	}
	return s
}

// URL returns the base endpoint, for example "http://127.0.0.1:41234", in the
// form expected by OTEL_EXPORTER_OTLP_ENDPOINT: exporters append the
// per-signal path themselves.
func (s *Server) URL() string { return s.http.URL }

// Addr returns the listening address as host:port.
func (s *Server) Addr() string { return s.http.Listener.Addr().String() }

// SetMode switches the mode for requests that arrive from now on.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

// Close aborts any hanging requests and shuts the server down. It is safe to
// call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		if s.grpc != nil {
			s.grpc.stop()
		}
		s.http.Close()
	})
}

// Reset forgets everything received so far.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.spans, s.metrics, s.logs, s.errs = nil, nil, nil, nil, nil
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Spans returns every span received so far, in arrival order.
func (s *Server) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// Metrics returns every metric received so far, in arrival order. A metric
// exported periodically appears once per export.
func (s *Server) Metrics() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Metric(nil), s.metrics...)
}

// MetricNames returns the distinct names of the metrics received so far, in
// order of first arrival.
func (s *Server) MetricNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return metricNames(s.metrics)
}

// Logs returns every log record received so far, in arrival order.
func (s *Server) Logs() []LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LogRecord(nil), s.logs...)
}

// Errors returns the decoding errors met so far; a request that fails to
// decode is answered with HTTP 400 and recorded here.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// WaitSpans waits until at least n spans have arrived and returns all spans
// received. When ctx ends first it returns the spans received so far and an
// error that wraps ctx.Err().
func (s *Server) WaitSpans(ctx context.Context, n int) ([]Span, error) {
	err := s.wait(ctx, func() bool { return len(s.spans) >= n },
		func() string { return fmt.Sprintf("got %d spans, want %d", len(s.spans), n) })
	return s.Spans(), err
}

// WaitLogs waits until at least n log records have arrived and returns all
// records received. When ctx ends first it returns the records received so
// far and an error that wraps ctx.Err().
func (s *Server) WaitLogs(ctx context.Context, n int) ([]LogRecord, error) {
	err := s.wait(ctx, func() bool { return len(s.logs) >= n },
		func() string { return fmt.Sprintf("got %d log records, want %d", len(s.logs), n) })
	return s.Logs(), err
}

// WaitMetrics waits until a metric with each of the given names has arrived
// and returns all metrics received. When ctx ends first it returns the
// metrics received so far and an error that wraps ctx.Err().
func (s *Server) WaitMetrics(ctx context.Context, names ...string) ([]Metric, error) {
	missing := func() []string {
		seen := make(map[string]bool, len(s.metrics))
		for _, m := range s.metrics {
			seen[m.Name] = true
		}
		var out []string
		for _, n := range names {
			if !seen[n] {
				out = append(out, n)
			}
		}
		return out
	}
	err := s.wait(ctx, func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("metrics %v not received", missing()) })
	return s.Metrics(), err
}

// WaitRequests waits until at least n requests have arrived, in any mode,
// and returns them. When ctx ends first it returns the requests received so
// far and an error that wraps ctx.Err().
func (s *Server) WaitRequests(ctx context.Context, n int) ([]Request, error) {
	err := s.wait(ctx, func() bool { return len(s.requests) >= n },
		func() string { return fmt.Sprintf("got %d requests, want %d", len(s.requests), n) })
	return s.Requests(), err
}

// wait blocks until done reports true (evaluated under s.mu) or ctx ends.
func (s *Server) wait(ctx context.Context, done func() bool, describe func() string) error {
	for {
		s.mu.Lock()
		if done() {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			msg := describe()
			s.mu.Unlock()
			return fmt.Errorf("otlptest: %s: %w", msg, ctx.Err())
		}
	}
}

// notifyLocked wakes every waiter; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	switch s.addRequest(Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}) {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		// Abort without writing anything: returning normally would send an
		// empty 200 that the exporter would take for success.
		panic(http.ErrAbortHandler)
	case Reject:
		http.Error(w, "otlptest: rejecting request", http.StatusBadRequest)
		return
	}

	if r.Method != http.MethodPost {
		http.Error(w, "otlptest: only POST is accepted", http.StatusMethodNotAllowed)
		return
	}
	enc, err := encodingOf(r.Header.Get("Content-Type"))
	if err != nil {
		s.fail(w, err, http.StatusUnsupportedMediaType)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	resp, err := s.decode(r.URL.Path, enc, body)
	if err != nil {
		s.fail(w, err, http.StatusBadRequest)
		return
	}
	out, err := enc.marshal(resp)
	if err != nil {
		s.fail(w, err, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", enc.contentType())
	_, _ = w.Write(out)
}

func (s *Server) fail(w http.ResponseWriter, err error, status int) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.notifyLocked()
	s.mu.Unlock()
	http.Error(w, err.Error(), status)
}

// decode parses one export request, stores its content and returns the
// response message to send back.
func (s *Server) decode(path string, enc encoding, body []byte) (proto.Message, error) {
	switch path {
	case TracesPath:
		spans, resp, err := decodeTraces(enc, body)
		if err != nil {
			return nil, err
		}
		s.addSpans(spans)
		return resp, nil
	case MetricsPath:
		metrics, resp, err := decodeMetrics(enc, body)
		if err != nil {
			return nil, err
		}
		s.addMetrics(metrics)
		return resp, nil
	case LogsPath:
		logs, resp, err := decodeLogs(enc, body)
		if err != nil {
			return nil, err
		}
		s.addLogs(logs)
		return resp, nil
	default:
		return nil, fmt.Errorf("otlptest: unknown path %q", path)
	}
}

func (s *Server) addSpans(spans []Span) {
	s.mu.Lock()
	s.spans = append(s.spans, spans...)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) addMetrics(metrics []Metric) {
	s.mu.Lock()
	s.metrics = append(s.metrics, metrics...)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) addLogs(logs []LogRecord) {
	s.mu.Lock()
	s.logs = append(s.logs, logs...)
	s.notifyLocked()
	s.mu.Unlock()
}

// addRequest records a request and returns the mode to answer it in.
func (s *Server) addRequest(r Request) Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	s.notifyLocked()
	return s.mode
}

func readBody(r *http.Request) ([]byte, error) {
	var src io.Reader = r.Body
	switch ce := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); ce {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("otlptest: gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fmt.Errorf("otlptest: unsupported Content-Encoding %q", ce)
	}
	body, err := io.ReadAll(io.LimitReader(src, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("otlptest: read body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, errors.New("otlptest: request body too large")
	}
	return body, nil
}
