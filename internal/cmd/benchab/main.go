// Command benchab compares the library's tracing with the same tracing
// written by hand (and with the other baselines of docs/benchmarks.md) by
// CPU time per operation, on a machine whose load moves under the
// measurement.
//
// Each group is one benchmark whose sub-benchmarks are the variants being
// compared (BenchmarkABSend/lib and BenchmarkABSend/hand). Every variant
// runs in its own process with a fixed iteration count, once per round,
// and the order of the variants rotates from round to round, so that a
// slow stretch of the machine falls on all of them alike. A ratio is
// computed within each round, and the median over the rounds is reported,
// with the smallest and largest. Allocations per operation are exact.
//
// The benchmarks report cpu-ns/op themselves (internal/benchcpu): the
// process's user and system CPU time over the timed loop divided by the
// iterations, background goroutines and garbage collection included.
//
// Every measurement is also written in the Go benchmark format, one file
// per variant name, with the variant left out of the benchmark names, so
// that `benchstat hand.txt lib.txt` compares them.
//
// Usage (from the repository root; `make bench-ab` runs it):
//
//	go run ./internal/cmd/benchab [-rounds 6] [-scale 1] [-only regexp] [-out dir] [-doc docs/benchmarks.md]
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// group is one comparison.
type group struct {
	title   string // the row's name in the tables
	module  string // module directory, relative to the repository root
	pkg     string // package directory, relative to the module
	bench   string // benchmark name
	vars    []string
	iters   int         // iterations per run (-benchtime Nx), before -scale
	ratios  [][2]string // numerator, denominator
	added   bool        // report the difference (ns, allocs) instead of a ratio
	table   string
	export  bool // needs the OTLP receiver
	missing string
}

const (
	tablePairs    = "pairs"
	tableDisabled = "disabled"
	tableGroups   = "groups"
	tableExport   = "export"
)

var lh = [][2]string{{"lib", "hand"}}

var groups = []group{
	{title: "Pulsar Send (wrapper)", pkg: "pulsartrace", bench: "BenchmarkABSend", vars: []string{"lib", "hand"}, iters: 50000, ratios: lh, table: tablePairs},
	{title: "Pulsar SendAsync (wrapper)", pkg: "pulsartrace", bench: "BenchmarkABSendAsync", vars: []string{"lib", "hand"}, iters: 50000, ratios: lh, table: tablePairs},
	{title: "Pulsar Receive + Ack (wrapper)", pkg: "pulsartrace", bench: "BenchmarkABReceiveAck", vars: []string{"lib", "hand"}, iters: 40000, ratios: lh, table: tablePairs},
	{title: "Pulsar Handle (wrapper)", pkg: "pulsartrace", bench: "BenchmarkABHandle", vars: []string{"lib", "hand"}, iters: 40000, ratios: lh, table: tablePairs},
	{title: "Pulsar end to end (client over pulsartest)", pkg: "pulsartrace", bench: "BenchmarkABEndToEnd", vars: []string{"lib", "hand"}, iters: 30000, ratios: lh, table: tablePairs},
	{title: "Watermill publish (publisher doing nothing)", pkg: "watermilltrace", bench: "BenchmarkABPublish", vars: []string{"lib", "hand"}, iters: 80000, ratios: lh, table: tablePairs},
	{title: "Watermill handler", pkg: "watermilltrace", bench: "BenchmarkABHandler", vars: []string{"lib", "hand"}, iters: 80000, ratios: lh, table: tablePairs},
	{title: "Watermill GoChannel round trip", pkg: "watermilltrace", bench: "BenchmarkABGoChannel", vars: []string{"lib", "hand"}, iters: 15000, ratios: lh, table: tablePairs},
	{title: "Pub/Sub publish (client holding messages)", pkg: "pubsubtrace", bench: "BenchmarkABPubSubPublish", vars: []string{"lib", "hand"}, iters: 20000, ratios: lh, table: tablePairs},
	{title: "Pub/Sub handler", pkg: "pubsubtrace", bench: "BenchmarkABPubSubHandler", vars: []string{"lib", "hand"}, iters: 100000, ratios: lh, table: tablePairs},
	{title: "Pub/Sub end to end (pstest)", pkg: "pubsubtrace", bench: "BenchmarkABPubSub", vars: []string{"lib", "hand", "builtin"}, iters: 1500, ratios: [][2]string{{"lib", "hand"}, {"lib", "builtin"}, {"hand", "builtin"}}, table: tableGroups},
	{title: "httptrace server", pkg: "httptrace", bench: "BenchmarkABServer", vars: []string{"lib", "otelhttp"}, iters: 20000, ratios: [][2]string{{"lib", "otelhttp"}}, table: tableGroups},
	{title: "httptrace server, WithoutTraceResponse", pkg: "httptrace", bench: "BenchmarkABServerNoTraceResponse", vars: []string{"lib", "otelhttp"}, iters: 20000, ratios: [][2]string{{"lib", "otelhttp"}}, table: tableGroups},

	{title: "Pulsar Send", pkg: "pulsartrace", bench: "BenchmarkABSendDisabled", vars: []string{"lib", "raw"}, iters: 1000000, added: true, table: tableDisabled},
	{title: "Pulsar SendAsync", pkg: "pulsartrace", bench: "BenchmarkABSendAsyncDisabled", vars: []string{"lib", "raw"}, iters: 1000000, added: true, table: tableDisabled},
	{title: "Watermill publish", pkg: "watermilltrace", bench: "BenchmarkABPublishDisabled", vars: []string{"lib", "undecorated"}, iters: 500000, added: true, table: tableDisabled},
	{title: "Watermill handler", pkg: "watermilltrace", bench: "BenchmarkABHandlerDisabled", vars: []string{"lib", "undecorated"}, iters: 500000, added: true, table: tableDisabled},
	{title: "Watermill GoChannel round trip", pkg: "watermilltrace", bench: "BenchmarkABGoChannelDisabled", vars: []string{"lib", "undecorated"}, iters: 15000, added: true, table: tableDisabled},
	{title: "Pub/Sub publish (client holding messages)", pkg: "pubsubtrace", bench: "BenchmarkABPubSubPublishDisabled", vars: []string{"lib", "plain"}, iters: 50000, added: true, table: tableDisabled},

	{title: "Pulsar over pulsartest", pkg: "pulsartrace", bench: "BenchmarkABExport", vars: []string{"untraced", "lib", "hand", "floor"}, iters: 20000,
		ratios: [][2]string{{"lib", "untraced"}, {"hand", "untraced"}, {"lib", "hand"}, {"floor", "untraced"}}, table: tableExport, export: true},
	{title: "Watermill over Redis Streams", module: "integration", pkg: "watermillbackends", bench: "BenchmarkABExport", vars: []string{"untraced", "lib", "hand", "floor"}, iters: 2000,
		ratios: [][2]string{{"lib", "untraced"}, {"hand", "untraced"}, {"lib", "hand"}, {"floor", "untraced"}}, table: tableExport, export: true},
}

// result is one run of one variant.
type result struct {
	ns, cpu, bytes, allocs float64
	line                   string
}

type measured struct {
	group
	runs map[string][]result // by variant, one per round (nil when a run failed)
}

func main() {
	rounds := flag.Int("rounds", 6, "rounds per group")
	scale := flag.Float64("scale", 1, "multiply every iteration count")
	only := flag.String("only", "", "run only the groups whose benchmark or title matches")
	out := flag.String("out", "bench-ab", "directory for the benchstat files and the raw output")
	doc := flag.String("doc", "docs/benchmarks.md", "document whose marked section gets the tables (empty: none)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchab: ")

	var sel []group
	var onlyRE *regexp.Regexp
	if *only != "" {
		onlyRE = regexp.MustCompile(*only)
	}
	for _, g := range groups {
		if onlyRE == nil || onlyRE.MatchString(g.bench) || onlyRE.MatchString(g.title) {
			sel = append(sel, g)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	bins, err := buildAll(sel, *out)
	if err != nil {
		log.Fatal(err)
	}
	var sinkURL string
	if slices.ContainsFunc(sel, func(g group) bool { return g.export }) {
		stop, url, err := startSink(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
		sinkURL = url
	}
	raw, err := os.Create(filepath.Join(*out, "raw.txt"))
	if err != nil {
		log.Fatal(err)
	}
	defer raw.Close()

	ms := make([]*measured, len(sel))
	for i, g := range sel {
		ms[i] = &measured{group: g, runs: map[string][]result{}}
	}
	started := time.Now()
	for r := range *rounds {
		for _, m := range ms {
			order := slices.Clone(m.vars)
			k := r % len(order)
			order = append(order[k:], order[:k]...)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, v := range order {
				iters := max(1, int(float64(m.iters)**scale))
				res, err := runOne(bins[m.module+"/"+m.pkg], m.group, v, iters, sinkURL, raw)
				if err != nil {
					log.Printf("%s/%s round %d: %v", m.bench, v, r+1, err)
					if m.missing == "" {
						m.missing = err.Error()
					}
					m.runs[v] = append(m.runs[v], result{ns: math.NaN()})
					continue
				}
				m.runs[v] = append(m.runs[v], res)
			}
		}
		log.Printf("round %d of %d done (%s)", r+1, *rounds, time.Since(started).Round(time.Second))
	}
	if err := writeBenchstat(ms, *out); err != nil {
		log.Fatal(err)
	}
	cmd := "make bench-ab"
	if len(os.Args) > 1 {
		cmd = "go run ./internal/cmd/benchab " + strings.Join(os.Args[1:], " ")
	}
	tables := render(ms, *rounds, *scale, cmd)
	fmt.Print(tables)
	if *doc != "" && *only == "" {
		if err := splice(*doc, tables); err != nil {
			log.Fatal(err)
		}
	}
}

// buildAll compiles one test binary per package.
func buildAll(gs []group, out string) (map[string]string, error) {
	bins := map[string]string{}
	for _, g := range gs {
		key := g.module + "/" + g.pkg
		if _, ok := bins[key]; ok {
			continue
		}
		bin, err := filepath.Abs(filepath.Join(out, strings.ReplaceAll(strings.Trim(key, "/"), "/", "_")+".test"))
		if err != nil {
			return nil, err
		}
		dir := g.module
		if dir == "" {
			dir = "."
		}
		log.Printf("building %s", key)
		c := exec.Command("go", "test", "-c", "-o", bin, "./"+g.pkg)
		c.Dir = dir
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			return nil, fmt.Errorf("go test -c %s: %w", key, err)
		}
		bins[key] = bin
	}
	return bins, nil
}

// startSink runs the OTLP receiver in a process of its own.
func startSink(out string) (stop func(), url string, err error) {
	bin, err := filepath.Abs(filepath.Join(out, "otlpsink"))
	if err != nil {
		return nil, "", err
	}
	if b, err := exec.Command("go", "build", "-o", bin, "./internal/cmd/otlpsink").CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("building otlpsink: %v: %s", err, b)
	}
	c := exec.Command(bin)
	stdin, err := c.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = c.Process.Kill()
		return nil, "", fmt.Errorf("otlpsink: %w", err)
	}
	return func() { _ = stdin.Close(); _ = c.Wait() }, strings.TrimSpace(line), nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)

func runOne(bin string, g group, variant string, iters int, sinkURL string, raw io.Writer) (result, error) {
	pattern := "^" + g.bench + "$/^" + regexp.QuoteMeta(variant) + "$"
	c := exec.Command(bin, "-test.run", "^$", "-test.bench", pattern, "-test.benchmem",
		"-test.benchtime", strconv.Itoa(iters)+"x", "-test.count", "1", "-test.timeout", "20m")
	c.Dir = filepath.Join(moduleDir(g), g.pkg)
	c.Env = os.Environ()
	if sinkURL != "" {
		c.Env = append(c.Env, "ASYNCTRACE_BENCH_OTLP="+sinkURL)
	}
	var buf bytes.Buffer
	c.Stdout, c.Stderr = &buf, &buf
	err := c.Run()
	fmt.Fprintf(raw, "### %s/%s %dx\n%s\n", g.bench, variant, iters, buf.String())
	if err != nil {
		return result{}, fmt.Errorf("%v: %s", err, lastLines(buf.String(), 5))
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		m := benchLine.FindStringSubmatch(l)
		if m == nil || m[1] != g.bench+"/"+variant {
			continue
		}
		r := result{line: l, ns: math.NaN(), cpu: math.NaN(), bytes: math.NaN(), allocs: math.NaN()}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				r.ns = v
			case "cpu-ns/op":
				r.cpu = v
			case "B/op":
				r.bytes = v
			case "allocs/op":
				r.allocs = v
			}
		}
		return r, nil
	}
	if strings.Contains(buf.String(), "--- SKIP") {
		return result{}, errors.New("skipped: " + lastLines(buf.String(), 3))
	}
	return result{}, errors.New("no result line: " + lastLines(buf.String(), 5))
}

func moduleDir(g group) string {
	if g.module == "" {
		return "."
	}
	return g.module
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// writeBenchstat writes one file per variant name in the Go benchmark
// format, the variant taken out of the names so that files compare.
func writeBenchstat(ms []*measured, out string) error {
	files := map[string]*bytes.Buffer{}
	for _, m := range ms {
		for _, v := range m.vars {
			buf := files[v]
			if buf == nil {
				buf = &bytes.Buffer{}
				fmt.Fprintf(buf, "goos: %s\ngoarch: %s\n", runtime.GOOS, runtime.GOARCH)
				files[v] = buf
			}
			fmt.Fprintf(buf, "pkg: github.com/asynctrace/asynctrace/%s\n", strings.TrimPrefix(m.module+"/"+m.pkg, "/"))
			for _, r := range m.runs[v] {
				if r.line == "" {
					continue
				}
				buf.WriteString(strings.Replace(r.line, m.bench+"/"+v, m.bench, 1) + "\n")
			}
		}
	}
	for v, buf := range files {
		if err := os.WriteFile(filepath.Join(out, v+".txt"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func median(xs []float64) float64 {
	var ok []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			ok = append(ok, x)
		}
	}
	if len(ok) == 0 {
		return math.NaN()
	}
	slices.Sort(ok)
	n := len(ok)
	if n%2 == 1 {
		return ok[n/2]
	}
	return (ok[n/2-1] + ok[n/2]) / 2
}

func minmax(xs []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return lo, hi
}

// perRound applies f to the two variants' results of each round.
func perRound(m *measured, a, b string, f func(x, y result) float64) []float64 {
	var out []float64
	for i := range min(len(m.runs[a]), len(m.runs[b])) {
		x, y := m.runs[a][i], m.runs[b][i]
		if math.IsNaN(x.ns) || math.IsNaN(y.ns) {
			continue
		}
		out = append(out, f(x, y))
	}
	return out
}

func field(m *measured, v string, f func(result) float64) float64 {
	var xs []float64
	for _, r := range m.runs[v] {
		if !math.IsNaN(r.ns) {
			xs = append(xs, f(r))
		}
	}
	return median(xs)
}

func cpuOf(r result) float64    { return r.cpu }
func allocsOf(r result) float64 { return r.allocs }
func bytesOf(r result) float64  { return r.bytes }

func ns(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case math.Abs(x) >= 10000:
		return fmt.Sprintf("%.1f µs", x/1000)
	case math.Abs(x) >= 1000:
		return fmt.Sprintf("%.2f µs", x/1000)
	default:
		return fmt.Sprintf("%.0f ns", x)
	}
}

func num(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

func ratio(m *measured, a, b string) string {
	rs := perRound(m, a, b, func(x, y result) float64 { return x.cpu / y.cpu })
	if len(rs) == 0 {
		return "–"
	}
	lo, hi := minmax(rs)
	return fmt.Sprintf("**%.2f×** (%.2f–%.2f)", median(rs), lo, hi)
}

func render(ms []*measured, rounds int, scale float64, cmd string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s with %s on %s/%s, %d CPUs (%s); %d rounds, iteration counts scaled by %g.\n",
		time.Now().UTC().Format("2 January 2006"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), rounds, scale)
	fmt.Fprintf(&b, "Reproduce every number below with `%s`; it also writes benchstat files, one per variant (`benchstat bench-ab/hand.txt bench-ab/lib.txt`).\n\n", cmd)

	b.WriteString("### Library against the same tracing by hand\n\n")
	b.WriteString("CPU per operation (median over rounds), the median of the per-round ratios with its range, and exact allocations.\n\n")
	b.WriteString("| path | lib CPU/op | hand CPU/op | lib / hand | lib allocs (B) | hand allocs (B) |\n|---|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		if m.table != tablePairs {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s (%s) | %s (%s) |\n", m.title,
			ns(field(m, "lib", cpuOf)), ns(field(m, "hand", cpuOf)), ratio(m, "lib", "hand"),
			num(field(m, "lib", allocsOf)), num(field(m, "lib", bytesOf)), num(field(m, "hand", allocsOf)), num(field(m, "hand", bytesOf)))
	}
	b.WriteString("\n### Against other instrumentation\n\n")
	b.WriteString("| path | variant | CPU/op | allocs (B) |\n|---|---|---:|---:|\n")
	for _, m := range ms {
		if m.table != tableGroups {
			continue
		}
		for _, v := range m.vars {
			fmt.Fprintf(&b, "| %s | %s | %s | %s (%s) |\n", m.title, v, ns(field(m, v, cpuOf)), num(field(m, v, allocsOf)), num(field(m, v, bytesOf)))
		}
		for _, r := range m.ratios {
			fmt.Fprintf(&b, "| %s | %s / %s | %s | |\n", m.title, r[0], r[1], ratio(m, r[0], r[1]))
		}
	}
	b.WriteString("\n### Tracing disabled (no-op tracer provider, as `OTEL_SDK_DISABLED=true` installs) against undecorated\n\n")
	b.WriteString("| path | undecorated CPU/op | disabled CPU/op | added CPU/op (median per round) | added allocs |\n|---|---:|---:|---:|---:|\n")
	for _, m := range ms {
		if m.table != tableDisabled {
			continue
		}
		base := m.vars[1]
		d := perRound(m, "lib", base, func(x, y result) float64 { return x.cpu - y.cpu })
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.title, ns(field(m, base, cpuOf)), ns(field(m, "lib", cpuOf)), ns(median(d)),
			num(field(m, "lib", allocsOf)-field(m, base, allocsOf)))
	}
	b.WriteString("\n### End to end with real export\n\n")
	b.WriteString("Spans batch-exported over OTLP/HTTP to a receiver in another process that decodes every request. " +
		"untraced: no tracing; lib: the library; hand: the same tracing by hand; floor: the untraced loop plus two SDK spans per message, nothing exported.\n\n")
	b.WriteString("| path | untraced CPU/msg | lib | hand | floor | lib / untraced | hand / untraced | lib / hand | floor / untraced |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		if m.table != tableExport {
			continue
		}
		if m.missing != "" && len(perRound(m, "lib", "untraced", func(x, y result) float64 { return 0 })) == 0 {
			fmt.Fprintf(&b, "| %s | not measured: %s |||||||| \n", m.title, strings.ReplaceAll(m.missing, "|", "/"))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |", m.title, ns(field(m, "untraced", cpuOf)), ns(field(m, "lib", cpuOf)), ns(field(m, "hand", cpuOf)), ns(field(m, "floor", cpuOf)))
		for _, r := range m.ratios {
			fmt.Fprintf(&b, " %s |", ratio(m, r[0], r[1]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

const (
	beginMarker = "<!-- benchab:begin (written by go run ./internal/cmd/benchab; edits between the markers are lost) -->"
	endMarker   = "<!-- benchab:end -->"
)

// splice replaces the marked section of the document, or appends one.
func splice(path, tables string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	section := beginMarker + "\n\n" + tables + "\n" + endMarker
	i := strings.Index(s, "<!-- benchab:begin")
	j := strings.Index(s, endMarker)
	if i >= 0 && j > i {
		s = s[:i] + section + s[j+len(endMarker):]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n## Library against hand-written tracing\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
