package pubsubtrace

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/internal/messaging"
)

func TestParseResourceName(t *testing.T) {
	cases := []struct {
		name, collection string
		want             resourceName
	}{
		{"projects/p1/topics/orders", "topics", resourceName{"p1", "orders"}},
		{"projects/p1/subscriptions/s", "subscriptions", resourceName{"p1", "s"}},
		{"orders", "topics", resourceName{"", "orders"}},
		{"projects/p1/topics/", "topics", resourceName{"", "projects/p1/topics/"}},
		{"projects//topics/t", "topics", resourceName{"", "projects//topics/t"}},
		{"projects/p1/subscriptions/s", "topics", resourceName{"", "projects/p1/subscriptions/s"}},
		{"projects/p1/topics/a/b", "topics", resourceName{"", "projects/p1/topics/a/b"}},
		{"", "topics", resourceName{}},
	}
	for _, c := range cases {
		if got := parseResourceName(c.name, c.collection); got != c.want {
			t.Errorf("parseResourceName(%q, %q) = %+v, want %+v", c.name, c.collection, got, c.want)
		}
	}
}

func sampledContext() context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func TestGoogleClientKeys(t *testing.T) {
	ctx := sampledContext()
	const want = "00-01020300000000000000000000000000-0405060000000000-01"

	t.Run("copies the caller's map", func(t *testing.T) {
		orig := map[string]string{"a": "b", googTracestate: "stale=1"}
		before := maps.Clone(orig)
		got := addGoogleClientKeys(ctx, orig)
		if !maps.Equal(orig, before) {
			t.Fatalf("caller's map written: %v", orig)
		}
		if got[googTraceparent] != want {
			t.Fatalf("googclient_traceparent = %q", got[googTraceparent])
		}
		if _, ok := got[googTracestate]; ok {
			t.Fatal("stale googclient_tracestate kept with a new traceparent")
		}
		if got["a"] != "b" {
			t.Fatal("caller's entries lost")
		}
	})
	t.Run("nil map", func(t *testing.T) {
		got := addGoogleClientKeys(ctx, nil)
		if got[googTraceparent] != want {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("attribute limit", func(t *testing.T) {
		full := map[string]string{}
		for i := range 100 {
			full[fmt.Sprint("k", i)] = "v"
		}
		got := addGoogleClientKeys(ctx, full)
		if len(got) != 100 || !messaging.SameMap(got, full) {
			t.Fatalf("wrote past the limit: %d entries", len(got))
		}
	})
	t.Run("no span", func(t *testing.T) {
		orig := map[string]string{"a": "b"}
		if got := addGoogleClientKeys(context.Background(), orig); !messaging.SameMap(got, orig) || len(got) != 1 {
			t.Fatalf("got %v", got)
		}
	})
}
