package tracecheck

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	root := SpanRef{"gateway", "POST /v1/process"}
	send := SpanRef{"gateway", "send jobs"}
	process := SpanRef{"worker", "process jobs"}
	cases := []struct {
		in   string
		want Expectation
		// canonical is what String prints; empty means in itself.
		canonical string
	}{
		{in: "gateway:POST /v1/process",
			want: Expectation{Spans: []ExpectedSpan{{Service: "gateway", Name: "POST /v1/process"}}}},
		{in: "gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer)",
			want: Expectation{Spans: []ExpectedSpan{
				{Service: "gateway", Name: "POST /v1/process", Kind: KindServer},
				{Service: "gateway", Name: "send jobs", Kind: KindProducer, Parent: root},
				{Service: "worker", Name: "process jobs", Kind: KindConsumer, Parent: send},
			}}},
		{in: "  gateway : POST /v1/process>>x  >>  worker:process jobs (error, x2) {messaging.system=pulsar, messaging.message.id}",
			want: Expectation{Spans: []ExpectedSpan{
				{Service: "gateway", Name: "POST /v1/process>>x"},
				{Service: "worker", Name: "process jobs", Parent: SpanRef{"gateway", "POST /v1/process>>x"}, Indirect: true, Error: true, Count: 2,
					Attributes: map[string]string{"messaging.system": "pulsar", "messaging.message.id": ""}},
			}},
			canonical: "gateway:POST /v1/process>>x >> worker:process jobs (error, x2) {messaging.message.id, messaging.system=pulsar}"},
		{in: "gateway:POST /v1/process > gateway:send jobs > ... > worker:process jobs",
			want: Expectation{Spans: []ExpectedSpan{
				{Service: "gateway", Name: "POST /v1/process"},
				{Service: "gateway", Name: "send jobs", Parent: root},
				{Service: "worker", Name: "process jobs", Parent: send, Indirect: true},
			}},
			canonical: "gateway:POST /v1/process > gateway:send jobs >> worker:process jobs"},
		{in: "gateway:POST /v1/process > gateway:send jobs ~> worker:process jobs (consumer) > worker:UPDATE jobs\n" +
			"gateway:POST /v1/process > gateway:GET /stock (v2) (client)\n...",
			want: Expectation{AllowExtra: true, Spans: []ExpectedSpan{
				{Service: "gateway", Name: "POST /v1/process"},
				{Service: "gateway", Name: "send jobs", Parent: root},
				{Service: "worker", Name: "process jobs", Kind: KindConsumer, Links: []SpanRef{send}},
				{Service: "worker", Name: "UPDATE jobs", Parent: process},
				{Service: "gateway", Name: "GET /stock (v2)", Kind: KindClient, Parent: root},
			}},
			canonical: "gateway:POST /v1/process > gateway:send jobs ~> worker:process jobs (consumer) > worker:UPDATE jobs; " +
				"gateway:POST /v1/process > gateway:GET /stock (v2) (client); ..."},
		{in: "a:root > b:x (link a:root, link a:y); a:root > a:y; b:x {k=v}",
			want: Expectation{Spans: []ExpectedSpan{
				{Service: "a", Name: "root"},
				{Service: "b", Name: "x", Parent: SpanRef{"a", "root"}, Links: []SpanRef{{"a", "root"}, {"a", "y"}}, Attributes: map[string]string{"k": "v"}},
				{Service: "a", Name: "y", Parent: SpanRef{"a", "root"}},
			}},
			canonical: "a:root > b:x (link a:root, link a:y) {k=v}; a:root > a:y"},
		{in: "a:root\n  > b:x\n  ~> c:y ; a:root >> d:z",
			want: Expectation{Spans: []ExpectedSpan{
				{Service: "a", Name: "root"},
				{Service: "b", Name: "x", Parent: SpanRef{"a", "root"}},
				{Service: "c", Name: "y", Links: []SpanRef{{"b", "x"}}},
				{Service: "d", Name: "z", Parent: SpanRef{"a", "root"}, Indirect: true},
			}},
			canonical: "a:root > b:x ~> c:y; a:root >> d:z"},
		{in: "nothing", want: Nothing()},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) =\n%#v\nwant\n%#v", c.in, got, c.want)
		}
		canonical := c.canonical
		if canonical == "" {
			canonical = strings.TrimSpace(c.in)
		}
		if s := got.String(); s != canonical {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, s, canonical)
		}
		if again, err := Parse(got.String()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Parse(String()) of %q = %#v, %v", c.in, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                                 "names no span",
		"...":                              "names no span",
		"gateway":                          "want service:name",
		":name":                            "both non-empty",
		"svc:":                             "both non-empty",
		"a:b > ":                           "empty span",
		"a:b > > c:d":                      "empty span",
		"a:b > c:d; e:f > g:h":             "must start at a span named before",
		"a:b > c:d; a:b > c:d":             "placed twice",
		"a:b (server) > c:d; a:b (client)": "kinds server and client",
		"a:b (server, client)":             "two kinds",
		"a:b (x0)":                         "at least x1",
		"a:b (link a)":                     "want link service:name",
		"a:b {=v}":                         "has no key",
		"a:b }":                            "'}' without '{'",
		"a:b ~> ... > c:d":                 "cannot stand next to ~>",
		"> a:b":                            "empty span",
		"a:b\n> c:d\n>":                    "empty span",
		"a:b > c:d (link x:y)":             "not expected",
		"a:b (x2)":                         "cannot have count",
	}
	for in, want := range cases {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", in, err, want)
		}
	}
	if _, err := Parse("a:b (x2)"); !errors.Is(err, ErrInvalidExpectation) {
		t.Errorf("an invalid expectation should wrap ErrInvalidExpectation: %v", err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "tracecheck.MustParse: ") {
			t.Errorf("MustParse panic = %v", r)
		}
	}()
	MustParse("gateway")
}

func TestParseTraceID(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, in := range []string{
		id, strings.ToUpper(id), " " + id + "\n",
		"00-" + id + "-00f067aa0ba902b7-01",
		"00-" + id + "-00f067aa0ba902b7-00",
		"traceresponse: 00-" + id + "-00f067aa0ba902b7-01",
		"Traceparent:00-" + id + "-00f067aa0ba902b7-01",
	} {
		if got, err := ParseTraceID(in); err != nil || got != id {
			t.Errorf("ParseTraceID(%q) = %q, %v", in, got, err)
		}
	}
	if got, err := ParseTraceID("b7ad6b7169203331"); err != nil || got != "0000000000000000b7ad6b7169203331" {
		t.Errorf("short id: %q, %v", got, err)
	}
	for _, in := range []string{"", "xyz", id + "0", strings.Repeat("0", 32), "00-" + id + "-00f067aa0ba902b7", "ff-" + id + "-00f067aa0ba902b7-01",
		"00-" + id[1:] + "-00f067aa0ba902b7-01", "00-" + id + "-00f067aa0ba902bz-01", "x-y-z-w"} {
		if got, err := ParseTraceID(in); err == nil {
			t.Errorf("ParseTraceID(%q) = %q, want an error", in, got)
		}
	}
}
