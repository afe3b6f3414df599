package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/provider"
)

// serve serves h on a free loopback port and returns its base URL and a
// function that shuts it down.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

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
