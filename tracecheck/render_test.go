package tracecheck

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestRenderTree(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, orderTrace()); err != nil {
		t.Fatal(err)
	}
	golden(t, "render_tree.txt", b.String())
}

func TestRenderIsIndependentOfInputOrder(t *testing.T) {
	spans := orderTrace()
	reversed := make([]Span, len(spans))
	for i, s := range spans {
		reversed[len(spans)-1-i] = s
	}
	if a, b := renderString(spans), renderString(reversed); a != b {
		t.Errorf("rendering depends on input order:\n%s\nvs\n%s", a, b)
	}
}

func TestRenderOrphansCyclesAndSeveralTraces(t *testing.T) {
	spans := append(orderTrace(),
		Span{TraceID: tid, SpanID: "0000000000000006", ParentSpanID: "00000000000000ff", Service: "audit", Name: "record", Kind: KindConsumer,
			Start: at(8 * time.Millisecond), Duration: time.Millisecond,
			Links: []Link{{TraceID: tid, SpanID: "0000000000000002"}, {TraceID: tid2, SpanID: "00000000000000aa"}}},
		Span{TraceID: tid2, SpanID: "00000000000000a1", ParentSpanID: "00000000000000a2", Service: "loop", Name: "a", Kind: KindInternal,
			Start: at(20 * time.Millisecond), Duration: 2 * time.Second},
		Span{TraceID: tid2, SpanID: "00000000000000a2", ParentSpanID: "00000000000000a1", Service: "loop", Name: "b", Kind: KindInternal,
			Start: at(21 * time.Millisecond), Duration: 3 * time.Millisecond},
	)
	got := renderString(spans)
	golden(t, "render_orphans.txt", got)
	for _, want := range []string{"(orphan) record", "parent 00000000000000ff not in trace", "link -> frontend send orders",
		"(cycle) a", "trace " + tid2} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, " b ") != 1 {
		t.Errorf("span b of the loop must appear exactly once:\n%s", got)
	}
}

func TestRenderEmptyAndDegenerate(t *testing.T) {
	if got := renderString(nil); got != "no spans\n" {
		t.Errorf("Render(nil) = %q", got)
	}
	// Zero durations, a negative duration and a duplicate span id must not panic
	// and must keep every span on its own line.
	spans := []Span{
		{TraceID: tid, SpanID: "01", Name: "root", Start: t0},
		{TraceID: tid, SpanID: "02", ParentSpanID: "01", Name: "neg", Start: t0, Duration: -time.Second},
		{TraceID: tid, SpanID: "02", ParentSpanID: "01", Name: "dup", Start: t0},
	}
	got := renderString(spans)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 5 { // header, column titles, three spans
		t.Fatalf("want 5 lines, got %d:\n%s", len(lines), got)
	}
	for _, l := range lines[2:] {
		if !strings.Contains(l, "|"+strings.Repeat("=", barWidth)+"|") {
			t.Errorf("a trace of zero length should draw full bars: %q", l)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderReportsWriteError(t *testing.T) {
	if err := Render(failingWriter{}, orderTrace()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Render error = %v, want the writer's error", err)
	}
}

func TestBar(t *testing.T) {
	tr := &tree{start: t0, end: at(40 * time.Millisecond)}
	cases := []struct {
		start, dur time.Duration
		want       string
	}{
		{0, 40 * time.Millisecond, "|" + strings.Repeat("=", 40) + "|"},
		{0, 10 * time.Millisecond, "|" + strings.Repeat("=", 10) + strings.Repeat(" ", 30) + "|"},
		{30 * time.Millisecond, 10 * time.Millisecond, "|" + strings.Repeat(" ", 30) + strings.Repeat("=", 10) + "|"},
		{20 * time.Millisecond, time.Microsecond, "|" + strings.Repeat(" ", 20) + "=" + strings.Repeat(" ", 19) + "|"},
		{40 * time.Millisecond, 0, "|" + strings.Repeat(" ", 39) + "=|"},
	}
	for _, c := range cases {
		s := &Span{Start: at(c.start), Duration: c.dur}
		if got := tr.bar(s); got != c.want {
			t.Errorf("bar(start %v, dur %v) = %q, want %q", c.start, c.dur, got, c.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                     "0us",
		-time.Second:                          "0us",
		999 * time.Nanosecond:                 "0us",
		12 * time.Microsecond:                 "12us",
		1500 * time.Microsecond:               "1.500ms",
		12*time.Second + 345*time.Millisecond: "12.345s",
		2*time.Minute + 500*time.Microsecond:  "120.000s",
	}
	for d, want := range cases {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
