package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The OTLP file is the package's fixture: a trace gateway:POST /v1/process
// > gateway:send jobs > worker:process jobs (an error), plus a span of an
// unrelated trace.
const (
	otlpFile  = "../../tracecheck/testdata/otlp_traces.jsonl"
	traceID   = "5b8efff798038103d269b633813fc60c"
	header    = "00-" + traceID + "-eee19b7ec3c1b174-01"
	goodChain = "gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer, error)"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunMatch(t *testing.T) {
	code, out, errOut := runCmd(t, "--otlp-file", otlpFile, "--trace", header, "--expect", goodChain, "--settle", "1ms", "--poll", "1ms")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"trace " + traceID + " in OTLP file " + otlpFile + "\n",
		"expect: " + goodChain + "\n",
		"POST /v1/process    gateway  server",
		"   `- process jobs  worker   consumer",
		"ok: 3 spans in 2 services match the expectation\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestRunMismatch(t *testing.T) {
	code, out, _ := runCmd(t, "--otlp-file", otlpFile, "--trace", traceID,
		"--expect", "gateway:POST /v1/process (server) > gateway:send jobs (producer)",
		"--expect", "gateway:send jobs > billing:process jobs (consumer)", "--settle", "1ms", "--poll", "1ms")
	if code != exitMismatch {
		t.Fatalf("exit %d, want %d:\n%s", code, exitMismatch, out)
	}
	for _, want := range []string{
		"trace does not match the expectation (2 problems):\n",
		`  missing: billing "process jobs" (consumer), parent gateway "send jobs"` + "\n",
		`  unexpected: worker "process jobs" (consumer), span eee19b7ec3c1b176` + "\n",
		"expected:\n  ok       gateway:POST /v1/process (server)\n  ok         > gateway:send jobs (producer)\n  MISSING      > billing:process jobs (consumer)\n",
		"found:\n  trace " + traceID,
		"FAIL: trace " + traceID + " does not match the expectation\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestRunNothing(t *testing.T) {
	code, out, _ := runCmd(t, "--otlp-file", otlpFile, "--trace", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
		"--expect", "nothing", "--settle", "1ms", "--poll", "1ms")
	if code != exitOK || !strings.Contains(out, "ok: the request left no spans\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runCmd(t, "--otlp-file", otlpFile, "--trace", header, "--expect", "nothing", "--settle", "1ms", "--poll", "1ms")
	if code != exitMismatch || !strings.Contains(out, "want no spans (request not sampled), found 3 in 1 trace") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	// A header that says "not sampled" with a chain expected gets a hint.
	code, out, _ = runCmd(t, "--otlp-file", otlpFile, "--trace", "00-"+traceID+"-eee19b7ec3c1b174-00", "--expect", goodChain, "--settle", "1ms", "--poll", "1ms")
	if code != exitOK || !strings.Contains(out, "note: the header's flags say the request was not sampled") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestRunTempo(t *testing.T) {
	body, err := os.ReadFile(otlpFile)
	if err != nil {
		t.Fatal(err)
	}
	// Tempo answers with the batches of the trace; the file's first line
	// holds the gateway's, as the whole answer for a trace id would.
	first, _, _ := strings.Cut(string(body), "\n")
	tempoBody := strings.Replace(first, `{"resourceSpans":`, `{"batches":`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/traces/"+traceID {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(tempoBody))
	}))
	defer srv.Close()
	code, out, errOut := runCmd(t, "--tempo", srv.URL, "--trace", "traceresponse: "+header,
		"--expect", "gateway:POST /v1/process > gateway:send jobs", "--services", "gateway", "--settle", "1ms", "--poll", "1ms")
	if code != exitOK || !strings.Contains(out, "in Tempo at "+srv.URL) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestRunJaeger(t *testing.T) {
	body, err := os.ReadFile("../../tracecheck/testdata/jaeger_trace.json")
	if err != nil {
		t.Fatal(err)
	}
	const id = "4415fc14dd0b869f8c796857002a23a8"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/traces/"+id {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}`))
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	chain := "tracetree-frontend-67f45877:POST /v1/orders > tracetree-frontend-67f45877:send orders; ..."
	code, out, _ := runCmd(t, "--jaeger", srv.URL, "--trace", id, "--expect", chain, "--settle", "1ms", "--poll", "1ms")
	if code != exitMismatch || !strings.Contains(out, `missing: tracetree-frontend-67f45877 "POST /v1/orders"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	chain = "tracetree-frontend-67f45877:POST /orders (server) > tracetree-frontend-67f45877:send orders (producer) > " +
		"tracetree-billing-67f45877:process orders (consumer, link tracetree-frontend-67f45877:send orders); ..."
	code, out, _ = runCmd(t, "--jaeger", srv.URL, "--trace", id, "--expect", chain, "--settle", "1ms", "--poll", "1ms")
	if code != exitOK {
		t.Errorf("exit %d:\n%s", code, out)
	}
	// A trace Jaeger does not hold is a mismatch once the time is up.
	code, out, _ = runCmd(t, "--jaeger", srv.URL, "--trace", traceID, "--expect", chain, "--settle", "1ms", "--poll", "1ms")
	if code != exitMismatch || !strings.Contains(out, "no spans found") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestRunBackendDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	code, out, errOut := runCmd(t, "--jaeger", url, "--trace", traceID, "--expect", goodChain, "--timeout", "50ms", "--poll", "1ms")
	if code != exitMismatch || !strings.HasPrefix(errOut, "tracecheck: trace "+traceID+" from Jaeger at "+url+": ") ||
		!strings.Contains(out, "FAIL: trace "+traceID+" could not be read") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.json")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--trace", traceID, "--expect", goodChain}, "name the backend"},
		{[]string{"--jaeger", "http://a", "--tempo", "http://b", "--trace", traceID, "--expect", goodChain}, "name one backend, not --jaeger and --tempo"},
		{[]string{"--jaeger", "localhost:16686", "--trace", traceID, "--expect", goodChain}, "want an http:// or https:// URL"},
		{[]string{"--otlp-file", file, "--expect", goodChain}, "--trace is required"},
		{[]string{"--otlp-file", file, "--trace", traceID}, "--expect is required"},
		{[]string{"--otlp-file", file, "--trace", "xyz", "--expect", goodChain}, "--trace: invalid trace id"},
		{[]string{"--otlp-file", file, "--trace", traceID, "--expect", "gateway"}, "--expect: expectation"},
		{[]string{"--otlp-file", file, "--trace", traceID, "--expect", goodChain, "--timeout", "0s"}, "must be positive"},
		{[]string{"--otlp-file", file, "--trace", traceID, "--expect", "nothing", "--allow-extra"}, "do not apply to --expect nothing"},
		{[]string{"--otlp-file", file, "--trace", traceID, "--expect", goodChain, "extra"}, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		code, out, errOut := runCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 2 and %q", c.args, code, errOut, out, c.want)
		}
	}
	code, _, errOut := runCmd(t, "-h")
	if code != exitOK || !strings.Contains(errOut, "usage: tracecheck") || !strings.Contains(errOut, "-expect syntax") {
		t.Errorf("-h: exit %d:\n%s", code, errOut)
	}
}

// TestBinary builds the command and runs it as CI would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	bin := filepath.Join(t.TempDir(), "tracecheck")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--otlp-file", otlpFile, "--trace", header, "--expect", goodChain, "--settle", "1ms"}, 0, "ok: 3 spans in 2 services"},
		{[]string{"--otlp-file", otlpFile, "--trace", header, "--expect", "gateway:POST /v1/process > worker:process jobs", "--settle", "1ms"}, 1, "FAIL: trace " + traceID},
		{[]string{"--otlp-file", otlpFile}, 2, "--trace is required"},
	} {
		cmd := exec.Command(bin, c.args...)
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("%q: exit %d, want %d and output with %q:\n%s", c.args, code, c.code, c.want, out)
		}
	}
}
