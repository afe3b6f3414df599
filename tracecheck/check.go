package tracecheck

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Expectation describes the trace a request should leave behind. Build one
// as a literal, with [Parse] from the compact chain syntax, or with
// [Nothing] for a request that must leave no spans.
type Expectation struct {
	// Spans lists the expected spans. Exactly one of them has a zero Parent
	// and no Links: the root of the trace. A span with a zero Parent and
	// Links is the root of a trace of its own, linked to the spans it names
	// (a consumer that links to the producer instead of continuing its
	// trace); every other span names its parent among these spans.
	Spans []ExpectedSpan
	// TraceID, when set, is the id the root's trace must have (lower-case
	// hex, 32 digits).
	TraceID string
	// Services, when set, lists the services that take part: each must
	// have at least one span, and a span of any other service is reported
	// even when AllowExtra is set.
	Services []string
	// AllowExtra accepts spans that match no expected span (for example
	// spans of instrumentation the test does not care about) instead of
	// reporting them as unexpected. They must still hang off the tree.
	AllowExtra bool

	// nothing is set by Nothing: the request must leave no spans at all.
	nothing bool
}

// Nothing returns the expectation for a request that was not sampled: no
// span at all, in any trace. [Check] reports every span it is given.
func Nothing() Expectation { return Expectation{nothing: true} }

// IsNothing reports whether x is the expectation returned by [Nothing].
func (x Expectation) IsNothing() bool { return x.nothing }

// ExpectedSpan describes the spans of one service and name.
type ExpectedSpan struct {
	Service string
	Name    string
	// Kind is one of the Kind constants; empty accepts any kind.
	Kind string
	// Parent names the expected parent span; the zero SpanRef marks a root.
	Parent SpanRef
	// Indirect lets other spans sit between this span and Parent: Parent
	// must then be an ancestor rather than the direct parent. The spans in
	// between are accepted even without AllowExtra.
	Indirect bool
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

func (e ExpectedSpan) ref() SpanRef { return SpanRef{Service: e.Service, Name: e.Name} }

// linkedRoot reports whether e starts a trace of its own, linked to others.
func (e ExpectedSpan) linkedRoot() bool { return e.Parent.IsZero() && len(e.Links) > 0 }

// MismatchError is returned by [Check] when the spans do not form the
// expected trace. Its message lists every problem, then the expected tree
// with each span marked as found or not, and the tree that was found.
type MismatchError struct {
	// Problems has one line per difference, e.g.
	// `missing: billing "process orders" (consumer), parent checkout "send orders"`.
	Problems []string
	// Expected is the expected tree, one span per line, indented under its
	// parent and written as in the chain syntax of [Parse] after its
	// operator; each line is marked "ok", "WRONG" (found, but different)
	// or "MISSING".
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

// ErrInvalidExpectation is wrapped by the error [Check] returns for an
// expectation that no trace could satisfy.
var ErrInvalidExpectation = errors.New("tracecheck: invalid expectation")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidExpectation, fmt.Sprintf(format, args...))
}

// Check verifies that spans form exactly the trace want describes: one
// trace id (plus one per linked root), one root per trace, no span whose
// parent is missing, and for each expected span the right number of spans
// with its service and name, each with the expected kind, parent (or
// ancestor), attributes, links and status. Unless want.AllowExtra is set, a
// span that no expectation names is an error too. For [Nothing], any span
// is an error.
//
// It returns nil on success, an error wrapping [ErrInvalidExpectation] for
// an invalid expectation, and otherwise a *MismatchError listing the
// differences.
func Check(spans []Span, want Expectation) error {
	if want.nothing {
		return checkNothing(spans)
	}
	if err := want.validate(); err != nil {
		return err
	}
	c := &checker{want: want, traces: buildTraces(spans), status: make(map[SpanRef]string)}
	c.run(spans)
	if len(c.problems) == 0 {
		return nil
	}
	return &MismatchError{Problems: c.problems, Expected: want.render(c.status), Found: renderString(spans)}
}

func checkNothing(spans []Span) error {
	if len(spans) == 0 {
		return nil
	}
	ids := TraceIDs(spans)
	return &MismatchError{
		Problems: []string{fmt.Sprintf("want no spans (request not sampled), found %d in %d %s: %s",
			len(spans), len(ids), plural(len(ids), "trace", "traces"), strings.Join(ids, ", "))},
		Expected: "nothing\n",
		Found:    renderString(spans),
	}
}

// Expected-span marks in MismatchError.Expected.
const (
	statusOK      = "ok"
	statusWrong   = "WRONG"
	statusMissing = "MISSING"
)

type checker struct {
	want     Expectation
	traces   []*tree
	problems []string
	// status holds the mark of every expected span that is not ok.
	status map[SpanRef]string
	// between holds the spans that sit between an Indirect span and its
	// expected ancestor; they are accepted without AllowExtra.
	between map[*Span]bool
}

func (c *checker) add(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// fault records a problem of the spans matching the expected span ref.
func (c *checker) fault(ref SpanRef, format string, args ...any) {
	if c.status[ref] == "" {
		c.status[ref] = statusWrong
	}
	c.add(format, args...)
}

func (c *checker) parentOf(s *Span) (*Span, bool) {
	for _, t := range c.traces {
		if t.id == s.TraceID {
			p, ok := t.byID[s.ParentSpanID]
			return p, ok
		}
	}
	return nil, false
}

func (c *checker) run(spans []Span) {
	want := c.want
	wantTraces := 1
	for _, e := range want.Spans {
		if e.linkedRoot() {
			wantTraces += max(e.Count, 1)
		}
	}
	if len(spans) == 0 {
		c.add("no spans found")
	}
	ids := TraceIDs(spans)
	if len(spans) > 0 && len(ids) != wantTraces {
		counts := make(map[string]int)
		for _, s := range spans {
			counts[s.TraceID]++
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = fmt.Sprintf("%s (%d %s)", id, counts[id], plural(counts[id], "span", "spans"))
		}
		c.add("trace ids: want %d, found %d: %s", wantTraces, len(ids), strings.Join(parts, ", "))
	}
	if want.TraceID != "" && len(spans) > 0 && !slices.Contains(ids, want.TraceID) {
		c.add("trace id: want %s, found %s", want.TraceID, strings.Join(ids, ", "))
	}

	byRef := make(map[SpanRef][]*Span)
	var roots []*Span
	for _, t := range c.traces {
		for _, s := range t.spans {
			byRef[refOf(s)] = append(byRef[refOf(s)], s)
		}
		for _, n := range t.roots {
			roots = append(roots, n.span)
		}
		for _, n := range t.orphans {
			c.add("orphan: %s, span %s: parent %s is not in the trace", describe(n.span), n.span.SpanID, n.span.ParentSpanID)
		}
		for _, n := range t.cycles {
			c.add("cycle: %s, span %s: parent chain loops and reaches no root", describe(n.span), n.span.SpanID)
		}
	}
	if len(spans) > 0 && len(roots) != wantTraces {
		names := make([]string, len(roots))
		for i, r := range roots {
			names[i] = describe(r)
		}
		c.add("roots: want exactly %d, found %d%s", wantTraces, len(roots), listSuffix(names))
	}

	c.between = make(map[*Span]bool)
	expected := make(map[SpanRef]bool, len(want.Spans))
	for _, e := range want.Spans {
		ref := e.ref()
		expected[ref] = true
		found := byRef[ref]
		wantCount := max(e.Count, 1)
		if len(found) == 0 {
			c.status[ref] = statusMissing
			c.add("missing: %s", e.describe())
			continue
		}
		if len(found) != wantCount {
			c.fault(ref, "count: %s: want %d, found %d", ref, wantCount, len(found))
		}
		for _, s := range found {
			c.checkSpan(e, s, byRef)
		}
	}
	if !want.AllowExtra {
		for _, t := range c.traces {
			for _, s := range t.spans {
				if !expected[refOf(s)] && !c.between[s] {
					c.add("unexpected: %s, span %s", describe(s), s.SpanID)
				}
			}
		}
	}
	c.checkServices(spans)
}

func (c *checker) checkSpan(e ExpectedSpan, s *Span, byRef map[SpanRef][]*Span) {
	ref := e.ref()
	if e.Kind != "" && s.Kind != e.Kind {
		c.fault(ref, "wrong kind: %s, span %s: want %s, found %s", ref, s.SpanID, e.Kind, s.Kind)
	}
	if e.Parent.IsZero() && !e.linkedRoot() && c.want.TraceID != "" && s.TraceID != c.want.TraceID {
		c.fault(ref, "wrong trace: %s, span %s: want trace %s, found %s", ref, s.SpanID, c.want.TraceID, s.TraceID)
	}
	if e.linkedRoot() && s.ParentSpanID == "" {
		for _, l := range e.Links {
			for _, target := range byRef[l] {
				if target.TraceID == s.TraceID {
					c.fault(ref, "same trace: %s, span %s: want a trace of its own, found it in the trace of %s", ref, s.SpanID, l)
					break
				}
			}
		}
	}
	c.checkParent(e, s)
	for _, k := range sortedKeys(e.Attributes) {
		v, has := s.Attributes[k]
		switch {
		case !has:
			c.fault(ref, "attribute: %s, span %s: %s missing, want %q", ref, s.SpanID, k, e.Attributes[k])
		case e.Attributes[k] != "" && v != e.Attributes[k]:
			c.fault(ref, "attribute: %s, span %s: %s = %q, want %q", ref, s.SpanID, k, v, e.Attributes[k])
		}
	}
	for _, l := range e.Links {
		if !linksTo(s, l, byRef) {
			c.fault(ref, "link: %s, span %s: no link to %s", ref, s.SpanID, l)
		}
	}
	if s.StatusError != e.Error {
		c.fault(ref, "status: %s, span %s: want %s, found %s", ref, s.SpanID, statusWord(e.Error), statusWord(s.StatusError))
	}
}

func (c *checker) checkParent(e ExpectedSpan, s *Span) {
	ref := e.ref()
	p, ok := c.parentOf(s)
	switch {
	case e.Parent.IsZero() && s.ParentSpanID != "":
		got := "missing span " + s.ParentSpanID
		if ok {
			got = refOf(p).String()
		}
		c.fault(ref, "wrong parent: %s, span %s: want (root), found %s", ref, s.SpanID, got)
	case e.Parent.IsZero():
	case s.ParentSpanID == "":
		c.fault(ref, "wrong parent: %s, span %s: want %s, found (root)", ref, s.SpanID, e.Parent)
	case !ok:
		c.fault(ref, "wrong parent: %s, span %s: want %s, found missing span %s", ref, s.SpanID, e.Parent, s.ParentSpanID)
	case refOf(p) == e.Parent:
	case !e.Indirect:
		c.fault(ref, "wrong parent: %s, span %s: want %s, found %s", ref, s.SpanID, e.Parent, refOf(p))
	default:
		// Walk up until the expected ancestor; the spans passed on the way
		// are the ones Indirect allows. The walk is bounded by the number
		// of spans, as a parent chain may loop.
		var path []*Span
		cur := p
		for range c.spanCount() {
			if refOf(cur) == e.Parent {
				for _, b := range path {
					c.between[b] = true
				}
				return
			}
			path = append(path, cur)
			next, ok := c.parentOf(cur)
			if !ok {
				break
			}
			cur = next
		}
		c.fault(ref, "wrong parent: %s, span %s: want %s as an ancestor, found parent %s and no such ancestor", ref, s.SpanID, e.Parent, refOf(p))
	}
}

func (c *checker) spanCount() int {
	n := 0
	for _, t := range c.traces {
		n += len(t.spans)
	}
	return n
}

func (c *checker) checkServices(spans []Span) {
	if len(c.want.Services) == 0 {
		return
	}
	counts := make(map[string]int)
	for _, s := range spans {
		counts[s.Service]++
	}
	listed := make(map[string]bool, len(c.want.Services))
	for _, svc := range c.want.Services {
		listed[svc] = true
		if counts[svc] == 0 {
			c.add("service: %s: no spans", svc)
		}
	}
	others := make([]string, 0, len(counts))
	for svc := range counts {
		if !listed[svc] {
			others = append(others, svc)
		}
	}
	sort.Strings(others)
	for _, svc := range others {
		c.add("service: %s: not expected, found %d %s", svc, counts[svc], plural(counts[svc], "span", "spans"))
	}
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
	switch {
	case e.linkedRoot():
		links := make([]string, len(e.Links))
		for i, l := range e.Links {
			links[i] = l.String()
		}
		return fmt.Sprintf("%s %q (%s), root of its own trace, linked to %s", e.Service, e.Name, kind, strings.Join(links, ", "))
	case e.Indirect:
		return fmt.Sprintf("%s %q (%s), below %s", e.Service, e.Name, kind, e.Parent)
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
		return invalid("no spans (use Nothing for a request that leaves none)")
	}
	if x.TraceID != "" && (len(x.TraceID) != 32 || !isHex(x.TraceID)) {
		return invalid("trace id %q is not 32 lower-case hex digits", x.TraceID)
	}
	index := make(map[SpanRef]ExpectedSpan, len(x.Spans))
	roots := 0
	for _, e := range x.Spans {
		ref := e.ref()
		if e.Name == "" {
			return invalid("span of service %q has no name", e.Service)
		}
		if _, dup := index[ref]; dup {
			return invalid("%s listed twice (use Count)", ref)
		}
		if e.Count < 0 {
			return invalid("%s has negative count", ref)
		}
		if e.Kind != "" && !kindWords[e.Kind] {
			return invalid("%s has unknown kind %q (want one of server, client, producer, consumer, internal, unspecified)", ref, e.Kind)
		}
		if e.Indirect && e.Parent.IsZero() {
			return invalid("%s is Indirect but names no parent", ref)
		}
		index[ref] = e
		if e.Parent.IsZero() && !e.linkedRoot() {
			roots++
			if e.Count > 1 {
				return invalid("root %s cannot have count %d", ref, e.Count)
			}
		}
	}
	if roots != 1 {
		return invalid("want exactly one root span (no parent, no links), have %d", roots)
	}
	for _, e := range x.Spans {
		ref := e.ref()
		for _, l := range e.Links {
			if _, ok := index[l]; !ok {
				return invalid("%s links to %s, which is not expected", ref, l)
			}
		}
		// Walking up the parents (and from a linked root to what it links
		// to) must end at the root without meeting a span twice.
		seen := map[SpanRef]bool{ref: true}
		for cur := e; !cur.Parent.IsZero() || cur.linkedRoot(); {
			up := cur.Parent
			if cur.linkedRoot() {
				up = cur.Links[0]
			}
			next, ok := index[up]
			if !ok {
				return invalid("parent %s of %s is not expected", up, cur.ref())
			}
			if seen[next.ref()] {
				return invalid("parent chain of %s loops", ref)
			}
			seen[next.ref()] = true
			cur = next
		}
	}
	return nil
}

// String returns the expectation in the chain syntax that [Parse] reads:
// the first chain follows the first child of every span from the root, and
// each further child starts a chain of its own from its parent. TraceID and
// Services have no place in the syntax and are left out.
func (x Expectation) String() string {
	if x.nothing {
		return "nothing"
	}
	children, roots := x.childrenOf()
	var chains []string
	done := make(map[SpanRef]bool)
	var follow func(b *strings.Builder, e ExpectedSpan)
	var branches []ExpectedSpan
	follow = func(b *strings.Builder, e ExpectedSpan) {
		done[e.ref()] = true
		b.WriteString(formatElement(e))
		kids := children[e.ref()]
		if len(kids) == 0 {
			return
		}
		branches = append(branches, kids[1:]...)
		b.WriteString(" " + operatorOf(kids[0]) + " ")
		follow(b, kids[0])
	}
	start := func(from *ExpectedSpan, e ExpectedSpan) {
		var b strings.Builder
		if from != nil {
			b.WriteString(from.Service + ":" + from.Name + " " + operatorOf(e) + " ")
		}
		follow(&b, e)
		chains = append(chains, b.String())
	}
	index := make(map[SpanRef]ExpectedSpan, len(x.Spans))
	for _, e := range x.Spans {
		index[e.ref()] = e
	}
	for _, r := range roots {
		start(nil, r)
	}
	for len(branches) > 0 {
		e := branches[0]
		branches = branches[1:]
		if done[e.ref()] {
			continue
		}
		parent := index[e.Parent]
		if e.linkedRoot() {
			parent = index[e.Links[0]]
		}
		start(&parent, e)
	}
	if x.AllowExtra {
		chains = append(chains, "...")
	}
	return strings.Join(chains, "; ")
}

func operatorOf(e ExpectedSpan) string {
	switch {
	case e.linkedRoot():
		return "~>"
	case e.Indirect:
		return ">>"
	}
	return ">"
}

// childrenOf returns the expected children of every span (a linked root
// counts as a child of its first link) and the roots, in listed order.
func (x Expectation) childrenOf() (map[SpanRef][]ExpectedSpan, []ExpectedSpan) {
	children := make(map[SpanRef][]ExpectedSpan)
	var roots []ExpectedSpan
	for _, e := range x.Spans {
		switch {
		case e.linkedRoot():
			children[e.Links[0]] = append(children[e.Links[0]], e)
		case e.Parent.IsZero():
			roots = append(roots, e)
		default:
			children[e.Parent] = append(children[e.Parent], e)
		}
	}
	return children, roots
}

// render prints the expected tree, one span per line under its parent,
// each written as in the chain syntax after its operator, children in the
// order they were listed. With marks it puts each span's mark in front
// (statusOK for spans without one).
func (x Expectation) render(marks map[SpanRef]string) string {
	if x.nothing {
		return "nothing\n"
	}
	children, roots := x.childrenOf()
	var b strings.Builder
	printed := make(map[SpanRef]bool)
	var walk func(e ExpectedSpan, depth int)
	walk = func(e ExpectedSpan, depth int) {
		if printed[e.ref()] {
			return
		}
		printed[e.ref()] = true
		if marks != nil {
			mark := marks[e.ref()]
			if mark == "" {
				mark = statusOK
			}
			fmt.Fprintf(&b, "%-8s ", mark)
		}
		b.WriteString(strings.Repeat("  ", depth))
		switch {
		case e.linkedRoot():
			b.WriteString("~> ")
		case e.Indirect:
			b.WriteString(">> ")
		case depth > 0:
			b.WriteString("> ")
		}
		b.WriteString(formatElement(e))
		b.WriteByte('\n')
		for _, c := range children[e.ref()] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	// Spans the walk did not reach belong to an invalid expectation; they
	// are still listed so that nothing is hidden.
	for _, e := range x.Spans {
		walk(e, 0)
	}
	var notes []string
	if x.TraceID != "" {
		notes = append(notes, "trace "+x.TraceID)
	}
	if len(x.Services) > 0 {
		notes = append(notes, "services "+strings.Join(x.Services, ", "))
	}
	if x.AllowExtra {
		notes = append(notes, "other spans allowed")
	}
	if len(notes) > 0 {
		b.WriteString("(" + strings.Join(notes, "; ") + ")\n")
	}
	return b.String()
}
