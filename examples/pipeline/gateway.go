package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/pulsartrace"
)

// maxRequestBytes bounds a request body.
const maxRequestBytes = 1 << 20

// gateway is the HTTP service: it accepts jobs and hands them to Pulsar.
type gateway struct {
	client   pulsar.Client
	producer pulsar.Producer
	server   *http.Server
	url      string
	served   chan error
}

func startGateway(tel telemetry, addr, pulsarURL string, topo topology) (*gateway, error) {
	client, err := newPulsarClient(pulsarURL)
	if err != nil {
		return nil, err
	}
	producer, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic:       topo.JobsTopic,
		SendTimeout: 10 * time.Second,
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("creating the Pulsar producer for %q: %w", topo.JobsTopic, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		producer.Close()
		client.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &gateway{
		client:   client,
		producer: pulsartrace.WrapProducer(producer, tel.messagingOptions(pulsartrace.WithServiceURL(pulsarURL))...),
		url:      "http://" + ln.Addr().String(),
		served:   make(chan error, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/process", g.process)
	g.server = &http.Server{
		Handler: httptrace.WrapHandler(mux,
			asynctrace.WithTracerProvider(tel.TracerProvider()),
			asynctrace.WithMeterProvider(tel.MeterProvider()),
			asynctrace.WithPropagators(tel.Propagator()),
		),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { g.served <- g.server.Serve(ln) }()
	return g, nil
}

// URL is the gateway's base URL, "http://127.0.0.1:PORT".
func (g *gateway) URL() string { return g.url }

type processRequest struct {
	Input string `json:"input"`
}

type processResponse struct {
	JobID   string `json:"job_id"`
	TraceID string `json:"trace_id"`
}

func (g *gateway) process(w http.ResponseWriter, r *http.Request) {
	var req processRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be a JSON object like {\"input\":\"...\"}: " + err.Error()})
		return
	}
	j := job{ID: newJobID(), Input: req.Input}
	payload, err := json.Marshal(j)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	// The request's context carries the server span: the send span becomes
	// its child and its context travels in the message properties.
	if _, err := g.producer.Send(r.Context(), &pulsar.ProducerMessage{Payload: payload, Key: j.ID}); err != nil {
		slog.ErrorContext(r.Context(), "publishing job", "job", j.ID, "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the job queue is unavailable"})
		return
	}
	writeJSON(w, http.StatusAccepted, processResponse{
		JobID:   j.ID,
		TraceID: trace.SpanContextFromContext(r.Context()).TraceID().String(),
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Close stops accepting requests, waits for those in flight (bounded by
// ctx) and closes the producer.
func (g *gateway) Close(ctx context.Context) error {
	err := g.server.Shutdown(ctx)
	if serveErr := <-g.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	g.producer.Close()
	g.client.Close()
	return err
}
