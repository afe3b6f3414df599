package tracecheck

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckPasses(t *testing.T) {
	if err := Check(orderTrace(), orderExpectation()); err != nil {
		t.Fatalf("Check failed on the matching trace:\n%v", err)
	}
}

func TestCheckAllowExtra(t *testing.T) {
	want := orderExpectation()
	want.Spans = want.Spans[:2] // root and "send orders" only
	if err := Check(orderTrace(), want); err == nil {
		t.Fatal("Check accepted spans the expectation does not name")
	}
	want.AllowExtra = true
	if err := Check(orderTrace(), want); err != nil {
		t.Fatalf("Check with AllowExtra failed:\n%v", err)
	}
}

// mismatch runs Check and returns its *MismatchError, failing if there is none.
func mismatch(t *testing.T, spans []Span, want Expectation) *MismatchError {
	t.Helper()
	err := Check(spans, want)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Check = %v, want a *MismatchError", err)
	}
	return me
}

func TestCheckReportsDiff(t *testing.T) {
	spans := orderTrace()
	// The consumer lost its parent: the producer span never reached the
	// backend, so the consumer hangs off a missing span.
	spans = append(spans[:1], spans[2:]...)
	// A stray span from another trace and one that no expectation names.
	spans = append(spans,
		Span{TraceID: tid2, SpanID: "00000000000000b1", Service: "cron", Name: "tick", Kind: KindInternal, Start: at(0), Duration: time.Millisecond},
		Span{TraceID: tid, SpanID: "0000000000000009", ParentSpanID: "0000000000000001", Service: "frontend", Name: "cache get", Kind: KindClient, Start: at(9 * time.Millisecond), Duration: time.Microsecond},
	)
	// Wrong kind and a wrong attribute value on the database call.
	spans[3].Kind = KindInternal
	spans[3].Attributes = map[string]string{"db.system.name": "mysql"}
	want := orderExpectation()
	want.Spans[4].Attributes = map[string]string{"db.system.name": "postgresql", "db.namespace": ""}

	me := mismatch(t, spans, want)
	wantProblems := []string{
		"trace ids: want 1, found 2: 0af7651916cd43dd8448eb211c80319c (1 span), 4bf92f3577b34da6a3ce929d0e0e4736 (5 spans)",
		`orphan: billing "process orders" (consumer), span 0000000000000003: parent 0000000000000002 is not in the trace`,
		`roots: want exactly 1, found 2: cron "tick" (internal), frontend "POST /orders" (server)`,
		`missing: frontend "send orders" (producer), parent frontend "POST /orders"`,
		`wrong parent: billing "process orders", span 0000000000000003: want frontend "send orders", found missing span 0000000000000002`,
		`wrong kind: billing "UPDATE accounts", span 0000000000000004: want client, found internal`,
		`attribute: billing "UPDATE accounts", span 0000000000000004: db.namespace missing, want ""`,
		`attribute: billing "UPDATE accounts", span 0000000000000004: db.system.name = "mysql", want "postgresql"`,
		`unexpected: cron "tick" (internal), span 00000000000000b1`,
		`unexpected: frontend "cache get" (client), span 0000000000000009`,
	}
	if got := strings.Join(me.Problems, "\n"); got != strings.Join(wantProblems, "\n") {
		t.Errorf("problems:\n%s\n\nwant:\n%s", got, strings.Join(wantProblems, "\n"))
	}
	msg := me.Error()
	for _, part := range []string{
		"trace does not match the expectation (10 problems):\n  trace ids:",
		"expected:\n" +
			"  ok       frontend:POST /orders (server)\n" +
			"  MISSING    > frontend:send orders (producer) {messaging.message.id, messaging.system=pulsar}\n" +
			"  WRONG        > billing:process orders (consumer, error) {messaging.destination.name=orders}\n" +
			"  WRONG          > billing:UPDATE accounts (client) {db.namespace, db.system.name=postgresql}\n" +
			"  ok         > frontend:GET /stock (client)\n" +
			"found:\n  trace ",
		"  (orphan) process orders",
		"  trace 0af7651916cd43dd8448eb211c80319c  1 span, 1 service, 1.000ms",
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("error message lacks %q:\n%s", part, msg)
		}
	}
}

func TestCheckWrongParentStatusCountAndLinks(t *testing.T) {
	spans := orderTrace()
	spans[4].ParentSpanID = "0000000000000001" // UPDATE accounts now under the root
	spans[3].StatusError = false
	spans = append(spans, Span{TraceID: tid, SpanID: "0000000000000007", ParentSpanID: "0000000000000002", Service: "billing",
		Name: "process orders", Kind: KindConsumer, Start: at(5 * time.Millisecond), Duration: time.Millisecond, StatusError: true,
		Attributes: map[string]string{"messaging.destination.name": "orders"}})
	want := orderExpectation()
	want.Spans[2].Links = []SpanRef{{Service: "frontend", Name: "send orders"}}

	me := mismatch(t, spans, want)
	wantProblems := []string{
		`link: frontend "GET /stock", span 0000000000000005: no link to frontend "send orders"`,
		`count: billing "process orders": want 1, found 2`,
		`status: billing "process orders", span 0000000000000003: want error, found not error`,
		`wrong parent: billing "UPDATE accounts", span 0000000000000004: want billing "process orders", found frontend "POST /orders"`,
	}
	if got := strings.Join(me.Problems, "\n"); got != strings.Join(wantProblems, "\n") {
		t.Errorf("problems:\n%s\n\nwant:\n%s", got, strings.Join(wantProblems, "\n"))
	}

	// With the link present, Count 2 and the status restored, the same trace passes.
	spans[2].Links = []Link{{TraceID: tid, SpanID: "0000000000000002"}}
	spans[3].StatusError = true
	spans[4].ParentSpanID = "0000000000000003"
	want.Spans[3].Count = 2
	if err := Check(spans, want); err != nil {
		t.Fatalf("Check failed:\n%v", err)
	}
}

func TestCheckExpectedRootHasParent(t *testing.T) {
	spans := orderTrace()
	want := Expectation{Spans: []ExpectedSpan{{Service: "frontend", Name: "send orders"}}, AllowExtra: true}
	me := mismatch(t, spans, want)
	if len(me.Problems) != 1 || me.Problems[0] != `wrong parent: frontend "send orders", span 0000000000000002: want (root), found frontend "POST /orders"` {
		t.Errorf("problems = %q", me.Problems)
	}
}

func TestCheckNoSpans(t *testing.T) {
	me := mismatch(t, nil, orderExpectation())
	if me.Problems[0] != "no spans found" {
		t.Errorf("first problem = %q", me.Problems[0])
	}
	if !strings.Contains(me.Error(), "found:\n  no spans") {
		t.Errorf("message:\n%s", me.Error())
	}
}

func TestCheckCycle(t *testing.T) {
	spans := []Span{
		{TraceID: tid, SpanID: "01", Service: "s", Name: "root"},
		{TraceID: tid, SpanID: "02", ParentSpanID: "03", Service: "s", Name: "a"},
		{TraceID: tid, SpanID: "03", ParentSpanID: "02", Service: "s", Name: "b"},
	}
	want := Expectation{Spans: []ExpectedSpan{{Service: "s", Name: "root"}}, AllowExtra: true}
	me := mismatch(t, spans, want)
	if len(me.Problems) != 1 || !strings.HasPrefix(me.Problems[0], `cycle: s "a" (), span 02`) {
		t.Errorf("problems = %q", me.Problems)
	}
}

func TestCheckRejectsInvalidExpectation(t *testing.T) {
	root := ExpectedSpan{Service: "s", Name: "root"}
	cases := map[string]Expectation{
		"no spans":            {},
		"no name":             {Spans: []ExpectedSpan{{Service: "s"}}},
		"listed twice":        {Spans: []ExpectedSpan{root, root}},
		"two roots":           {Spans: []ExpectedSpan{root, {Service: "s", Name: "other"}}},
		"no root":             {Spans: []ExpectedSpan{{Service: "s", Name: "a", Parent: SpanRef{"s", "b"}}, {Service: "s", Name: "b", Parent: SpanRef{"s", "a"}}}},
		"unknown parent":      {Spans: []ExpectedSpan{root, {Service: "s", Name: "a", Parent: SpanRef{"s", "nope"}}}},
		"loop below the root": {Spans: []ExpectedSpan{root, {Service: "s", Name: "a", Parent: SpanRef{"s", "b"}}, {Service: "s", Name: "b", Parent: SpanRef{"s", "a"}}}},
		"unknown link":        {Spans: []ExpectedSpan{{Service: "s", Name: "root", Links: []SpanRef{{"s", "nope"}}}}},
		"negative count":      {Spans: []ExpectedSpan{root, {Service: "s", Name: "a", Parent: SpanRef{"s", "root"}, Count: -1}}},
		"root counted twice":  {Spans: []ExpectedSpan{{Service: "s", Name: "root", Count: 2}}},
		"unknown kind":        {Spans: []ExpectedSpan{{Service: "s", Name: "root", Kind: "Server"}}},
		"indirect root":       {Spans: []ExpectedSpan{{Service: "s", Name: "root", Indirect: true}}},
		"bad trace id":        {Spans: []ExpectedSpan{root}, TraceID: "4BF92F3577B34DA6A3CE929D0E0E4736"},
	}
	for name, want := range cases {
		err := Check(orderTrace(), want)
		var me *MismatchError
		if err == nil || errors.As(err, &me) || !errors.Is(err, ErrInvalidExpectation) {
			t.Errorf("%s: Check = %v, want an invalid-expectation error", name, err)
		}
	}
}
