package tracecheck

import (
	"fmt"
	"sort"
	"strings"
)

// Expectation describes the tree a trace should have.
type Expectation struct {
	// Spans lists the expected spans. Exactly one of them has a zero Parent
	// (the root); every other names its parent among these spans.
	Spans []ExpectedSpan
	// AllowExtra accepts spans that match no expected span (for example
	// spans of instrumentation the test does not care about) instead of
	// reporting them as unexpected. They must still hang off the tree.
	AllowExtra bool
}

// ExpectedSpan describes the spans of one service and name.
type ExpectedSpan struct {
	Service string
	Name    string
	// Kind is one of the Kind constants; empty accepts any kind.
	Kind string
	// Parent names the expected parent span; the zero SpanRef marks the root.
	Parent SpanRef
	// Attributes lists attributes every matching span must carry. An empty
	// value only requires the attribute to be present.
	Attributes map[string]string
	// Links names spans every matching span must link to.
	Links []SpanRef
	// Error requires an error status; without it the status must not be an error.
	Error bool
	// Count is how many spans of this service and name the trace holds;
	// zero means one.
	Count int
}

// SpanRef names a span by service and span name.
type SpanRef struct {
	Service string
	Name    string
}

// IsZero reports whether r names no span.
func (r SpanRef) IsZero() bool { return r == SpanRef{} }

// String names the span as `service "name"`, or "(root)" for the zero SpanRef.
func (r SpanRef) String() string {
	if r.IsZero() {
		return "(root)"
	}
	return fmt.Sprintf("%s %q", r.Service, r.Name)
}

func refOf(s *Span) SpanRef { return SpanRef{Service: s.Service, Name: s.Name} }

// MismatchError is returned by [Check] when the spans do not form the
// expected trace. Its message lists every problem, then the expected tree and
// the tree that was found.
type MismatchError struct {
	// Problems has one line per difference, e.g.
	// `missing: billing "process orders" (consumer), parent checkout "send orders"`.
	Problems []string
	// Expected is the expected tree, one span per line, indented by depth.
	Expected string
	// Found is the spans as printed by [Render].
	Found string
}

// Error lists the problems, then the expected and the found tree.
func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "trace does not match the expectation (%d %s):\n", len(e.Problems), plural(len(e.Problems), "problem", "problems"))
	for _, p := range e.Problems {
		b.WriteString("  " + p + "\n")
	}
	b.WriteString("expected:\n")
	b.WriteString(indent(e.Expected))
	b.WriteString("found:\n")
	b.WriteString(indent(e.Found))
	return strings.TrimRight(b.String(), "\n")
}

func indent(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString("  " + line)
		}
	}
	return b.String()
}

// Check verifies that spans form exactly one complete trace shaped as want:
// one trace id, exactly one root span, no span whose parent is missing, and
// for each expected span the right number of spans with its service and
// name, each with the expected kind, parent, attributes, links and status.
// Unless want.AllowExtra is set, a span that no expectation names is an
// error too. It returns nil on success, an error for an invalid expectation,
// and otherwise a *MismatchError listing the differences.
func Check(spans []Span, want Expectation) error {
	if err := want.validate(); err != nil {
		return err
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(spans) == 0 {
		add("no spans found")
	}
	if ids := TraceIDs(spans); len(ids) > 1 {
		counts := make(map[string]int)
		for _, s := range spans {
			counts[s.TraceID]++
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = fmt.Sprintf("%s (%d %s)", id, counts[id], plural(counts[id], "span", "spans"))
		}
		add("trace ids: want 1, found %d: %s", len(ids), strings.Join(parts, ", "))
	}

	traces := buildTraces(spans)
	byRef := make(map[SpanRef][]*Span)
	var roots []*Span
	for _, t := range traces {
		for _, s := range t.spans {
			byRef[refOf(s)] = append(byRef[refOf(s)], s)
		}
		for _, n := range t.roots {
			roots = append(roots, n.span)
		}
		for _, n := range t.orphans {
			add("orphan: %s, span %s: parent %s is not in the trace", describe(n.span), n.span.SpanID, n.span.ParentSpanID)
		}
		for _, n := range t.cycles {
			add("cycle: %s, span %s: parent chain loops and reaches no root", describe(n.span), n.span.SpanID)
		}
	}
	if len(spans) > 0 && len(roots) != 1 {
		names := make([]string, len(roots))
		for i, r := range roots {
			names[i] = describe(r)
		}
		add("roots: want exactly 1, found %d%s", len(roots), listSuffix(names))
	}

	parentOf := func(s *Span) (*Span, bool) {
		for _, t := range traces {
			if t.id == s.TraceID {
				p, ok := t.byID[s.ParentSpanID]
				return p, ok
			}
		}
		return nil, false
	}
	expected := make(map[SpanRef]bool, len(want.Spans))
	for _, e := range want.Spans {
		ref := SpanRef{Service: e.Service, Name: e.Name}
		expected[ref] = true
		found := byRef[ref]
		wantCount := max(e.Count, 1)
		if len(found) == 0 {
			add("missing: %s", e.describe())
			continue
		}
		if len(found) != wantCount {
			add("count: %s: want %d, found %d", ref, wantCount, len(found))
		}
		for _, s := range found {
			if e.Kind != "" && s.Kind != e.Kind {
				add("wrong kind: %s, span %s: want %s, found %s", ref, s.SpanID, e.Kind, s.Kind)
			}
			switch p, ok := parentOf(s); {
			case e.Parent.IsZero() && s.ParentSpanID != "":
				got := "missing span " + s.ParentSpanID
				if ok {
					got = refOf(p).String()
				}
				add("wrong parent: %s, span %s: want (root), found %s", ref, s.SpanID, got)
			case e.Parent.IsZero():
			case s.ParentSpanID == "":
				add("wrong parent: %s, span %s: want %s, found (root)", ref, s.SpanID, e.Parent)
			case !ok:
				add("wrong parent: %s, span %s: want %s, found missing span %s", ref, s.SpanID, e.Parent, s.ParentSpanID)
			case refOf(p) != e.Parent:
				add("wrong parent: %s, span %s: want %s, found %s", ref, s.SpanID, e.Parent, refOf(p))
			}
			for _, k := range sortedKeys(e.Attributes) {
				v, has := s.Attributes[k]
				switch {
				case !has:
					add("attribute: %s, span %s: %s missing, want %q", ref, s.SpanID, k, e.Attributes[k])
				case e.Attributes[k] != "" && v != e.Attributes[k]:
					add("attribute: %s, span %s: %s = %q, want %q", ref, s.SpanID, k, v, e.Attributes[k])
				}
			}
			for _, l := range e.Links {
				if !linksTo(s, l, byRef) {
					add("link: %s, span %s: no link to %s", ref, s.SpanID, l)
				}
			}
			if s.StatusError != e.Error {
				add("status: %s, span %s: want %s, found %s", ref, s.SpanID, statusWord(e.Error), statusWord(s.StatusError))
			}
		}
	}
	if !want.AllowExtra {
		for _, t := range traces {
			for _, s := range t.spans {
				if !expected[refOf(s)] {
					add("unexpected: %s, span %s", describe(s), s.SpanID)
				}
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &MismatchError{Problems: problems, Expected: want.render(), Found: renderString(spans)}
}

func linksTo(s *Span, target SpanRef, byRef map[SpanRef][]*Span) bool {
	for _, l := range s.Links {
		for _, t := range byRef[target] {
			if l.SpanID == t.SpanID && l.TraceID == t.TraceID {
				return true
			}
		}
	}
	return false
}

func describe(s *Span) string {
	return fmt.Sprintf("%s %q (%s)", s.Service, s.Name, s.Kind)
}

func (e ExpectedSpan) describe() string {
	kind := e.Kind
	if kind == "" {
		kind = "any kind"
	}
	return fmt.Sprintf("%s %q (%s), parent %s", e.Service, e.Name, kind, e.Parent)
}

func statusWord(isError bool) string {
	if isError {
		return "error"
	}
	return "not error"
}

func listSuffix(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ": " + strings.Join(items, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// validate rejects expectations that no trace could satisfy.
func (x Expectation) validate() error {
	if len(x.Spans) == 0 {
		return fmt.Errorf("tracecheck: invalid expectation: no spans")
	}
	index := make(map[SpanRef]ExpectedSpan, len(x.Spans))
	roots := 0
	for _, e := range x.Spans {
		ref := SpanRef{Service: e.Service, Name: e.Name}
		if e.Name == "" {
			return fmt.Errorf("tracecheck: invalid expectation: span of service %q has no name", e.Service)
		}
		if _, dup := index[ref]; dup {
			return fmt.Errorf("tracecheck: invalid expectation: %s listed twice (use Count)", ref)
		}
		if e.Count < 0 {
			return fmt.Errorf("tracecheck: invalid expectation: %s has negative count", ref)
		}
		index[ref] = e
		if e.Parent.IsZero() {
			roots++
			if e.Count > 1 {
				return fmt.Errorf("tracecheck: invalid expectation: root %s cannot have count %d", ref, e.Count)
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("tracecheck: invalid expectation: want exactly one root span, have %d", roots)
	}
	for _, e := range x.Spans {
		ref := SpanRef{Service: e.Service, Name: e.Name}
		for _, l := range e.Links {
			if _, ok := index[l]; !ok {
				return fmt.Errorf("tracecheck: invalid expectation: %s links to %s, which is not expected", ref, l)
			}
		}
		// Walking up the parents must end at the root without meeting a span twice.
		seen := map[SpanRef]bool{ref: true}
		for cur := e; !cur.Parent.IsZero(); {
			next, ok := index[cur.Parent]
			if !ok {
				return fmt.Errorf("tracecheck: invalid expectation: parent %s of %s is not expected", cur.Parent, SpanRef{Service: cur.Service, Name: cur.Name})
			}
			pref := SpanRef{Service: next.Service, Name: next.Name}
			if seen[pref] {
				return fmt.Errorf("tracecheck: invalid expectation: parent chain of %s loops", ref)
			}
			seen[pref] = true
			cur = next
		}
	}
	return nil
}

// render prints the expected tree, children in the order they were listed.
func (x Expectation) render() string {
	children := make(map[SpanRef][]ExpectedSpan)
	var root ExpectedSpan
	for _, e := range x.Spans {
		if e.Parent.IsZero() {
			root = e
			continue
		}
		children[e.Parent] = append(children[e.Parent], e)
	}
	var b strings.Builder
	var walk func(e ExpectedSpan, depth int)
	walk = func(e ExpectedSpan, depth int) {
		kind := e.Kind
		if kind == "" {
			kind = "any kind"
		}
		fmt.Fprintf(&b, "%s%s [%s] (%s)", strings.Repeat("   ", depth), e.Name, e.Service, kind)
		if c := max(e.Count, 1); c > 1 {
			fmt.Fprintf(&b, " x%d", c)
		}
		if e.Error {
			b.WriteString(" ERROR")
		}
		b.WriteByte('\n')
		for _, c := range children[SpanRef{Service: e.Service, Name: e.Name}] {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	if x.AllowExtra {
		b.WriteString("(other spans allowed)\n")
	}
	return b.String()
}
