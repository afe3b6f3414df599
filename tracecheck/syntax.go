package tracecheck

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Parse reads an expectation written in the compact chain syntax that the
// tracecheck command takes as --expect:
//
//	gateway:POST /v1/process (server) > gateway:send jobs (producer) > worker:process jobs (consumer)
//
// A span is written service:name. The service runs to the first colon; the
// name is the rest, with surrounding blanks removed. After the name may
// follow, in this order:
//
//   - modifiers in parentheses, separated by commas: a kind (server,
//     client, producer, consumer, internal, unspecified), "error" for an
//     error status, "x3" for three spans of this service and name, and
//     "link service:name" for a link to another expected span. Parentheses
//     holding anything else are part of the name, so "GET /users (v2)" is
//     a name.
//   - attributes in braces, separated by commas: {messaging.system=pulsar,
//     messaging.message.id}. A key alone only requires the attribute to be
//     present. Values cannot contain commas or braces.
//
// Spans are joined by operators with blanks on both sides:
//
//	a > b    b is a child of a
//	a >> b   b is below a, with any other spans allowed in between
//	         (also written a > ... > b)
//	a ~> b   b starts a trace of its own with a link to a (a consumer
//	         that links to the producer rather than continuing its trace)
//
// The first span of the first chain is the root. Several chains, separated
// by ";" or new lines, describe a tree: each later chain starts at a span
// named before and branches from it. A line that starts with an operator
// continues the chain of the line above. A chain that is just "..." allows
// spans the expectation does not name (AllowExtra). The single word
// "nothing" is the expectation of [Nothing].
//
// The result checks kinds only where they are written: "a:b" accepts any
// kind.
func Parse(s string) (Expectation, error) {
	p := &parser{index: make(map[SpanRef]int)}
	return p.parse(s)
}

// MustParse is like [Parse] but panics on a syntax error; it suits
// expectations written as constants in tests.
func MustParse(s string) Expectation {
	x, err := Parse(s)
	if err != nil {
		panic("tracecheck.MustParse: " + err.Error())
	}
	return x
}

var (
	operatorRE = regexp.MustCompile(`\s+(>>|~>|>)\s+`)
	countRE    = regexp.MustCompile(`^x([0-9]+)$`)
)

type parser struct {
	x     Expectation
	index map[SpanRef]int // position in x.Spans
}

func syntaxError(chain string, format string, args ...any) error {
	return fmt.Errorf("tracecheck: expectation %q: %s", chain, fmt.Sprintf(format, args...))
}

func (p *parser) parse(s string) (Expectation, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "nothing" {
		return Nothing(), nil
	}
	// A line that starts with an operator continues the line above.
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if len(lines) > 0 && (strings.HasPrefix(t, ">") || strings.HasPrefix(t, "~>")) {
			lines[len(lines)-1] += " " + t
			continue
		}
		lines = append(lines, line)
	}
	var chains []string
	for _, line := range lines {
		chains = append(chains, strings.Split(line, ";")...)
	}
	for _, raw := range chains {
		chain := strings.TrimSpace(raw)
		switch chain {
		case "":
			continue
		case "...":
			p.x.AllowExtra = true
			continue
		}
		if err := p.chain(chain); err != nil {
			return Expectation{}, err
		}
	}
	if len(p.x.Spans) == 0 {
		return Expectation{}, fmt.Errorf("tracecheck: expectation %q names no span", s)
	}
	if err := p.x.validate(); err != nil {
		return Expectation{}, err
	}
	return p.x, nil
}

func (p *parser) chain(chain string) error {
	// Pad so that an operator at either end is still seen as one.
	padded := " " + chain + " "
	ops := operatorRE.FindAllStringSubmatch(padded, -1)
	parts := operatorRE.Split(padded, -1)
	var (
		prev     SpanRef
		indirect bool // the previous part was "..."
	)
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "..." && i > 0 && i < len(parts)-1 {
			if ops[i-1][1] == "~>" || ops[i][1] == "~>" {
				return syntaxError(chain, "\"...\" cannot stand next to ~>")
			}
			indirect = true
			continue
		}
		e, err := parseElement(part)
		if err != nil {
			return syntaxError(chain, "%v", err)
		}
		if i == 0 {
			if _, known := p.index[e.ref()]; !known && len(p.x.Spans) > 0 {
				return syntaxError(chain, "a later chain must start at a span named before; %s is new", e.ref())
			}
		} else {
			switch ops[i-1][1] {
			case ">":
				e.Parent, e.Indirect = prev, indirect
			case ">>":
				e.Parent, e.Indirect = prev, true
			case "~>":
				e.Links = append([]SpanRef{prev}, e.Links...)
			}
		}
		if err := p.add(e, i > 0); err != nil {
			return syntaxError(chain, "%v", err)
		}
		prev, indirect = e.ref(), false
	}
	return nil
}

// add records e, or merges it into the span of the same service and name
// named before. placed says whether this occurrence gives e its place in
// the tree (it follows an operator).
func (p *parser) add(e ExpectedSpan, placed bool) error {
	at, known := p.index[e.ref()]
	if !known {
		p.index[e.ref()] = len(p.x.Spans)
		p.x.Spans = append(p.x.Spans, e)
		return nil
	}
	old := &p.x.Spans[at]
	if placed {
		return fmt.Errorf("%s is placed twice; name each span's place once and start later chains from it", e.ref())
	}
	if e.Kind != "" {
		if old.Kind != "" && old.Kind != e.Kind {
			return fmt.Errorf("%s has kinds %s and %s", e.ref(), old.Kind, e.Kind)
		}
		old.Kind = e.Kind
	}
	if len(e.Attributes) > 0 && old.Attributes == nil {
		old.Attributes = make(map[string]string, len(e.Attributes))
	}
	for k, v := range e.Attributes {
		old.Attributes[k] = v
	}
	old.Links = append(old.Links, e.Links...)
	old.Error = old.Error || e.Error
	if e.Count != 0 {
		old.Count = e.Count
	}
	return nil
}

// parseElement reads one "service:name (modifiers) {attributes}".
func parseElement(s string) (ExpectedSpan, error) {
	var e ExpectedSpan
	if s == "" || strings.HasPrefix(s, ">") || strings.HasPrefix(s, "~>") || strings.HasSuffix(s, ">") {
		return e, fmt.Errorf("empty span (an operator without a span next to it)")
	}
	rest := s
	if strings.HasSuffix(rest, "}") {
		open := strings.LastIndex(rest, "{")
		if open < 0 {
			return e, fmt.Errorf("%q: '}' without '{'", s)
		}
		attrs, err := parseAttributes(rest[open+1 : len(rest)-1])
		if err != nil {
			return e, fmt.Errorf("%q: %v", s, err)
		}
		e.Attributes = attrs
		rest = strings.TrimSpace(rest[:open])
	}
	if strings.HasSuffix(rest, ")") {
		if open := strings.LastIndex(rest, "("); open >= 0 {
			if ok, err := applyModifiers(&e, rest[open+1:len(rest)-1]); err != nil {
				return e, fmt.Errorf("%q: %v", s, err)
			} else if ok {
				rest = strings.TrimSpace(rest[:open])
			}
		}
	}
	service, name, ok := strings.Cut(rest, ":")
	if !ok {
		return e, fmt.Errorf("%q: want service:name", s)
	}
	e.Service, e.Name = strings.TrimSpace(service), strings.TrimSpace(name)
	if e.Service == "" || e.Name == "" {
		return e, fmt.Errorf("%q: want service:name, both non-empty", s)
	}
	return e, nil
}

var kindWords = map[string]bool{
	KindServer: true, KindClient: true, KindProducer: true, KindConsumer: true,
	KindInternal: true, KindUnspecified: true,
}

// applyModifiers reads the words between parentheses. It reports false,
// and changes nothing, when they are not all modifiers: the parentheses are
// then part of the span name.
func applyModifiers(e *ExpectedSpan, list string) (bool, error) {
	var (
		kind  string
		isErr bool
		count int
		links []SpanRef
	)
	for _, word := range strings.Split(list, ",") {
		word = strings.TrimSpace(word)
		switch {
		case kindWords[word]:
			if kind != "" && kind != word {
				return false, fmt.Errorf("two kinds, %s and %s", kind, word)
			}
			kind = word
		case word == "error":
			isErr = true
		case countRE.MatchString(word):
			n, err := strconv.Atoi(word[1:])
			if err != nil || n < 1 {
				return false, fmt.Errorf("count %q must be at least x1", word)
			}
			count = n
		case strings.HasPrefix(word, "link "):
			service, name, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(word, "link ")), ":")
			if !ok || strings.TrimSpace(service) == "" || strings.TrimSpace(name) == "" {
				return false, fmt.Errorf("%q: want link service:name", word)
			}
			links = append(links, SpanRef{Service: strings.TrimSpace(service), Name: strings.TrimSpace(name)})
		default:
			return false, nil
		}
	}
	e.Kind, e.Error, e.Count, e.Links = kind, isErr, count, links
	return true, nil
}

func parseAttributes(list string) (map[string]string, error) {
	attrs := make(map[string]string)
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, _ := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("attribute %q has no key", item)
		}
		attrs[k] = strings.TrimSpace(v)
	}
	return attrs, nil
}

// formatElement writes e as Parse reads it, without the operator before it.
// A linked root's first link is the operator and is left out here.
func formatElement(e ExpectedSpan) string {
	var b strings.Builder
	b.WriteString(e.Service + ":" + e.Name)
	var mods []string
	if e.Kind != "" {
		mods = append(mods, e.Kind)
	}
	if e.Error {
		mods = append(mods, "error")
	}
	if e.Count > 1 {
		mods = append(mods, fmt.Sprintf("x%d", e.Count))
	}
	links := e.Links
	if e.linkedRoot() {
		links = links[1:]
	}
	for _, l := range links {
		mods = append(mods, "link "+l.Service+":"+l.Name)
	}
	if len(mods) > 0 {
		b.WriteString(" (" + strings.Join(mods, ", ") + ")")
	}
	if len(e.Attributes) > 0 {
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = k
			if v := e.Attributes[k]; v != "" {
				items[i] += "=" + v
			}
		}
		b.WriteString(" {" + strings.Join(items, ", ") + "}")
	}
	return b.String()
}
