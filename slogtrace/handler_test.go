package slogtrace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace/slogtrace"
)

var fixedSpan = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	TraceFlags: trace.FlagsSampled,
})

// dropTime keeps the output comparable between runs.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func jsonLogger(buf *bytes.Buffer, opts ...slogtrace.Option) *slog.Logger {
	return slog.New(slogtrace.WrapHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime}), opts...))
}

func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(line, &m), "line %q", line)
	return m
}

func TestIDsAddedInsideRealSpan(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(context.Background(), "work")
	defer span.End()

	var buf bytes.Buffer
	jsonLogger(&buf).InfoContext(ctx, "hello", "n", 1)

	got := decode(t, buf.Bytes())
	sc := span.SpanContext()
	assert.Equal(t, sc.TraceID().String(), got["trace_id"])
	assert.Equal(t, sc.SpanID().String(), got["span_id"])
	assert.Equal(t, "01", got["trace_flags"])
	assert.Equal(t, "hello", got["msg"])
	assert.EqualValues(t, 1, got["n"])
}

func TestUnsampledSpanStillCarriesIDs(t *testing.T) {
	sc := fixedSpan.WithTraceFlags(0)
	var buf bytes.Buffer
	jsonLogger(&buf).InfoContext(trace.ContextWithSpanContext(context.Background(), sc), "hello")

	got := decode(t, buf.Bytes())
	assert.Equal(t, sc.TraceID().String(), got["trace_id"])
	assert.Equal(t, "00", got["trace_flags"])
}

func TestNothingAddedOutsideSpan(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf)
	log.InfoContext(context.Background(), "no span")
	log.Info("no context")
	// A context holding an invalid span context adds nothing either.
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), "invalid")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 3)
	for _, line := range lines {
		got := decode(t, line)
		for _, k := range []string{"trace_id", "span_id", "trace_flags"} {
			assert.NotContains(t, got, k, "line %s", line)
		}
	}
}

func TestNilContext(t *testing.T) {
	var buf bytes.Buffer
	h := slogtrace.WrapHandler(slog.NewJSONHandler(&buf, nil))
	var ctx context.Context // a nil context reaches handlers through direct calls
	require.NoError(t, h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "nil ctx", 0)))
	got := decode(t, buf.Bytes())
	assert.Equal(t, "nil ctx", got["msg"])
	assert.NotContains(t, got, "trace_id")
}

func TestEnabledDelegates(t *testing.T) {
	h := slogtrace.WrapHandler(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := trace.ContextWithSpanContext(context.Background(), fixedSpan)
	assert.False(t, h.Enabled(ctx, slog.LevelInfo))
	assert.True(t, h.Enabled(ctx, slog.LevelWarn))
	assert.False(t, h.WithGroup("g").WithAttrs([]slog.Attr{slog.Int("a", 1)}).Enabled(ctx, slog.LevelInfo))
}

func TestCustomAndOmittedKeys(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf, slogtrace.WithTraceIDKey("traceId"), slogtrace.WithSpanIDKey("spanId"), slogtrace.WithTraceFlagsKey(""))
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), fixedSpan), "hello")

	got := decode(t, buf.Bytes())
	assert.Equal(t, fixedSpan.TraceID().String(), got["traceId"])
	assert.Equal(t, fixedSpan.SpanID().String(), got["spanId"])
	for _, k := range []string{"trace_id", "span_id", "trace_flags"} {
		assert.NotContains(t, got, k)
	}

	// With every key empty the record passes through unchanged.
	buf.Reset()
	log = jsonLogger(&buf, slogtrace.WithTraceIDKey(""), slogtrace.WithSpanIDKey(""), slogtrace.WithTraceFlagsKey(""))
	log.WithGroup("g").InfoContext(trace.ContextWithSpanContext(context.Background(), fixedSpan), "hello", "a", 1)
	assert.JSONEq(t, `{"level":"INFO","msg":"hello","g":{"a":1}}`, buf.String())
}

func TestWithAttrsKeepsIDsTopLevel(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf).With("user", "ada")
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), fixedSpan), "hello", "n", 2)

	assert.JSONEq(t, `{"level":"INFO","msg":"hello","user":"ada","n":2,
		"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"}`, buf.String())
}

func TestWithGroupKeepsIDsOutOfGroup(t *testing.T) {
	var buf bytes.Buffer
	log := jsonLogger(&buf).With("svc", "orders").WithGroup("req").With("id", 7)
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), fixedSpan), "hello", "path", "/x")

	assert.JSONEq(t, `{"level":"INFO","msg":"hello","svc":"orders",
		"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01",
		"req":{"id":7,"path":"/x"}}`, buf.String())
}

// chain is a sequence of WithAttrs/WithGroup calls applied to a handler.
type chain func(slog.Handler) slog.Handler

func attrs(as ...slog.Attr) chain {
	return func(h slog.Handler) slog.Handler { return h.WithAttrs(as) }
}

func grp(name string) chain {
	return func(h slog.Handler) slog.Handler { return h.WithGroup(name) }
}

// TestGroupedOutputMatchesInnerHandler checks, for many WithAttrs/WithGroup
// chains, that the wrapped handler's output is exactly the inner handler's
// output plus the three top-level ids, and that outside a span it is the
// inner handler's output unchanged.
func TestGroupedOutputMatchesInnerHandler(t *testing.T) {
	cases := map[string][]chain{
		"none":                 nil,
		"attrs only":           {attrs(slog.Int("a", 1)), attrs(slog.Int("b", 2))},
		"one group":            {grp("g")},
		"group with attrs":     {attrs(slog.Int("a", 1)), grp("g"), attrs(slog.Int("b", 2))},
		"nested groups":        {grp("g"), attrs(slog.Int("b", 2)), grp("h"), attrs(slog.Int("c", 3)), grp("i")},
		"group of group attrs": {grp("g"), attrs(slog.Group("inner", slog.Int("x", 1)))},
		"empty nested groups":  {grp("g"), grp("h")},
		"empty attrs call":     {grp("g"), attrs()},
	}
	records := map[string][]any{
		"no attrs":    nil,
		"some attrs":  {"k", "v", "n", 3},
		"group attr":  {slog.Group("rg", "x", 1)},
		"empty group": {slog.Group("eg")},
		"many attrs":  {"a1", 1, "a2", 2, "a3", 3, "a4", 4, "a5", 5, "a6", 6},
	}
	// ReplaceAttr sees the group path; recording it checks that the
	// wrapped handler reports the same groups as the inner one.
	replace := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		if a.Key == "n" || a.Key == "c" || a.Key == "x" {
			return slog.String(a.Key, strings.Join(groups, "/"))
		}
		return a
	}
	ctx := trace.ContextWithSpanContext(context.Background(), fixedSpan)
	for cname, ch := range cases {
		for rname, args := range records {
			t.Run(cname+"/"+rname, func(t *testing.T) {
				var want, got, plain bytes.Buffer
				opts := &slog.HandlerOptions{ReplaceAttr: replace}
				bare := slog.Handler(slog.NewJSONHandler(&want, opts))
				wrapped := slog.Handler(slogtrace.WrapHandler(slog.NewJSONHandler(&got, opts)))
				outside := slog.Handler(slogtrace.WrapHandler(slog.NewJSONHandler(&plain, opts)))
				for _, c := range ch {
					bare, wrapped, outside = c(bare), c(wrapped), c(outside)
				}
				slog.New(bare).InfoContext(ctx, "m", args...)
				slog.New(wrapped).InfoContext(ctx, "m", args...)
				slog.New(outside).InfoContext(context.Background(), "m", args...)

				assert.Equal(t, want.String(), plain.String(), "outside a span the output is untouched")

				w, g := decode(t, want.Bytes()), decode(t, got.Bytes())
				assert.Equal(t, fixedSpan.TraceID().String(), g["trace_id"])
				assert.Equal(t, fixedSpan.SpanID().String(), g["span_id"])
				assert.Equal(t, "01", g["trace_flags"])
				delete(g, "trace_id")
				delete(g, "span_id")
				delete(g, "trace_flags")
				assert.Equal(t, w, g, "inner output:\n%s\nwrapped output:\n%s", want.String(), got.String())
			})
		}
	}
}

func TestEmptyGroupNameReturnsReceiver(t *testing.T) {
	// The slog.Handler contract: WithGroup("") returns the receiver, and so
	// does WithAttrs with no attrs.
	h := slogtrace.WrapHandler(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	assert.Same(t, h, h.WithGroup(""))
	assert.Same(t, h, h.WithAttrs(nil))
}

func TestTextHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slogtrace.WrapHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	ctx := trace.ContextWithSpanContext(context.Background(), fixedSpan)

	log.InfoContext(ctx, "hello", "n", 1)
	log.WithGroup("req").InfoContext(ctx, "grouped", "id", 7)
	log.InfoContext(context.Background(), "plain")

	assert.Equal(t,
		"level=INFO msg=hello n=1 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 trace_flags=01\n"+
			"level=INFO msg=grouped trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 trace_flags=01 req.id=7\n"+
			"level=INFO msg=plain\n",
		buf.String())
}

// recordingHandler keeps the records it receives.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func TestCallerRecordIsNotModified(t *testing.T) {
	rec := &recordingHandler{}
	h := slogtrace.WrapHandler(rec)
	ctx := trace.ContextWithSpanContext(context.Background(), fixedSpan)

	r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
	// Added one by one, the attrs past the inline ones land in a slice with
	// spare capacity, which copies of the record share.
	want := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"}
	for i, k := range want {
		r.AddAttrs(slog.Int(k, i))
	}
	// Handing the same record to the handler twice must give each call its
	// own ids and leave the caller's record as it was.
	require.NoError(t, h.Handle(ctx, r))
	require.NoError(t, h.Handle(ctx, r))
	assert.Equal(t, len(want), r.NumAttrs())

	require.Len(t, rec.records, 2)
	for _, got := range rec.records {
		var keys []string
		got.Attrs(func(a slog.Attr) bool {
			keys = append(keys, a.Key)
			return true
		})
		assert.Equal(t, append(want, "trace_id", "span_id", "trace_flags"), keys)
	}
}

func TestNilInnerPanics(t *testing.T) {
	assert.PanicsWithValue(t, "slogtrace.WrapHandler: inner is nil", func() { slogtrace.WrapHandler(nil) })
}

func TestConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	inner := slog.NewJSONHandler(&lockedWriter{mu: &mu, w: &buf}, nil)
	log := slog.New(slogtrace.WrapHandler(inner)).With("svc", "x").WithGroup("g")
	ctx := trace.ContextWithSpanContext(context.Background(), fixedSpan)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := log.With("worker", i)
			for j := range 50 {
				l.InfoContext(ctx, "m", "j", j)
			}
		}()
	}
	wg.Wait()

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 400)
	for _, line := range lines {
		got := decode(t, line)
		assert.Equal(t, fixedSpan.TraceID().String(), got["trace_id"])
		g, ok := got["g"].(map[string]any)
		require.True(t, ok, "line %s", line)
		assert.Contains(t, g, "worker")
		assert.Contains(t, g, "j")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestWrapTwiceAddsIDsOnce(t *testing.T) {
	var buf bytes.Buffer
	inner := slog.NewJSONHandler(&buf, nil)
	h := slogtrace.WrapHandler(inner)
	assert.Same(t, h, slogtrace.WrapHandler(h))
	ctx := trace.ContextWithSpanContext(context.Background(), fixedSpan)
	slog.New(slogtrace.WrapHandler(h)).InfoContext(ctx, "once")
	assert.Equal(t, 1, strings.Count(buf.String(), `"trace_id"`), buf.String())
}
