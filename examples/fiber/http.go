package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/provider"
)

// get calls url from the service p through a traced client, which sends
// the traceparent of its client span as a gateway would, and prints the
// answer and its traceresponse header.
func get(ctx context.Context, p *provider.Provider, url string, out io.Writer) error {
	client := httptrace.WrapClient(&http.Client{Timeout: 5 * time.Second}, p.Options()...)
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GET %s -> %s %s\n", req.URL.Path, resp.Status, body)
	fmt.Fprintf(out, "traceresponse: %s\n", resp.Header.Get(httptrace.TraceResponseHeader))
	return nil
}
