package tracecheck

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
)

// FetchTempoTrace reads one trace from the HTTP API of Grafana Tempo at
// baseURL (for example "http://127.0.0.1:3200"): GET /api/traces/{id},
// whose answer is OTLP/JSON with the spans under "batches" (or
// "resourceSpans", or "trace" as in Tempo's /api/v2 answers). It returns
// ErrTraceNotFound (wrapped) when Tempo has no such trace.
func FetchTempoTrace(ctx context.Context, baseURL, traceID string) ([]Span, error) {
	return fetchTempo(ctx, nil, baseURL, traceID)
}

func fetchTempo(ctx context.Context, client *http.Client, baseURL, traceID string) ([]Span, error) {
	id, err := ParseTraceID(traceID)
	if err != nil {
		return nil, err
	}
	u, err := apiURL("Tempo", baseURL, "/api/traces/"+id, nil)
	if err != nil {
		return nil, err
	}
	body, err := httpGet(ctx, client, "Tempo", u)
	if err != nil {
		return nil, err
	}
	spans, err := ReadOTLPJSON(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("tracecheck: Tempo answer for %s: %w", id, err)
	}
	if len(spans) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrTraceNotFound, id)
	}
	return spans, nil
}
