package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"go.uber.org/goleak"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func TestMain(m *testing.M) {
	var opts []goleak.Option
	for _, fn := range pulsartest.KnownClientGoroutines() {
		opts = append(opts, goleak.IgnoreTopFunction(fn))
	}
	goleak.VerifyTestMain(m, opts...)
}

// The built command serves real clients and exits cleanly on a signal.
func TestCommandServesAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "pulsartest")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--max-message-size", "65536")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill() }()
			sc := bufio.NewScanner(stdout)
			urls := map[string]string{}
			for len(urls) < 2 && sc.Scan() {
				k, v, _ := strings.Cut(sc.Text(), ":")
				urls[k] = strings.TrimSpace(v)
			}
			brokerURL, adminURL := urls["pulsar broker"], urls["admin API"]
			if !strings.HasPrefix(brokerURL, "pulsar://127.0.0.1:") || !strings.HasPrefix(adminURL, "http://127.0.0.1:") {
				t.Fatalf("printed %v; stderr %s", urls, stderr.String())
			}
			exchange(t, brokerURL)

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := readAll(sc)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v; stderr %s", err, stderr.String())
			}
			if !strings.Contains(rest, "stopped") {
				t.Fatalf("output after the signal: %q", rest)
			}
		})
	}
}

func readAll(sc *bufio.Scanner) (string, error) {
	var b strings.Builder
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteString("\n")
	}
	return b.String(), sc.Err()
}

func exchange(t *testing.T, url string) {
	t.Helper()
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: url, OperationTimeout: 10 * time.Second, Logger: plog.DefaultNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "cmd", SubscriptionName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "cmd"})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	m, err := cons.Receive(ctx)
	if err != nil || string(m.Payload()) != "hi" {
		t.Fatalf("received %v, %v", m, err)
	}
	// Above the announced limit the client refuses the message itself.
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: make([]byte, 70000)}); err == nil {
		t.Fatal("a message above --max-message-size was sent")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--listen", "nonsense"},
		{"--max-message-size", "0"},
		{"extra"},
		{"--unknown"},
	} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("run(%q) = %d, stderr %q", args, code, errOut.String())
		}
	}
}
