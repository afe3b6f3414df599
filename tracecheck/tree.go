package tracecheck

import (
	"sort"
	"time"
)

// node is one span placed in a trace's tree.
type node struct {
	span     *Span
	children []*node
	// mark says why a node starts a subtree although it is not a root.
	mark nodeMark
}

type nodeMark int

const (
	markNone   nodeMark = iota
	markOrphan          // its parent span is not among the spans
	markCycle           // its parent chain loops and never reaches a root
	markRemote          // its parent is in another process (TreeExporter)
)

// tree is the tree of one trace id. Roots, orphans and cycle members each
// start a subtree; together the subtrees hold every span exactly once.
type tree struct {
	id         string
	spans      []*Span
	byID       map[string]*Span
	roots      []*node
	orphans    []*node
	cycles     []*node
	start, end time.Time
	// others are the traces rendered with this one, for naming links.
	others []*tree
}

// buildTraces groups spans by trace id and arranges each group as a tree.
// Traces are ordered by their earliest span, then by id.
func buildTraces(spans []Span) []*tree { return buildTracesRemote(spans, nil) }

// buildTracesRemote is buildTraces where the spans whose ids are in remote
// have their parent in another process: they start a subtree without being
// orphans.
func buildTracesRemote(spans []Span, remote map[string]bool) []*tree {
	groups := make(map[string]*tree)
	var traces []*tree
	for i := range spans {
		s := &spans[i]
		t, ok := groups[s.TraceID]
		if !ok {
			t = &tree{id: s.TraceID, byID: make(map[string]*Span)}
			groups[s.TraceID] = t
			traces = append(traces, t)
		}
		t.spans = append(t.spans, s)
	}
	for _, t := range traces {
		t.build(remote)
	}
	sort.SliceStable(traces, func(i, j int) bool {
		if !traces[i].start.Equal(traces[j].start) {
			return traces[i].start.Before(traces[j].start)
		}
		return traces[i].id < traces[j].id
	})
	return traces
}

func (t *tree) build(remote map[string]bool) {
	sortSpans(t.spans)
	nodes := make(map[*Span]*node, len(t.spans))
	// With duplicate span ids the first span (in sorted order) is the one
	// children attach to; the duplicates still appear in the tree.
	firstNode := make(map[string]*node, len(t.spans))
	for i, s := range t.spans {
		n := &node{span: s}
		nodes[s] = n
		if _, dup := firstNode[s.SpanID]; !dup {
			firstNode[s.SpanID] = n
			t.byID[s.SpanID] = s
		}
		if i == 0 || s.Start.Before(t.start) {
			t.start = s.Start
		}
		if i == 0 || s.End().After(t.end) {
			t.end = s.End()
		}
	}
	for _, s := range t.spans {
		n := nodes[s]
		switch parent, ok := firstNode[s.ParentSpanID]; {
		case s.ParentSpanID == "":
			t.roots = append(t.roots, n)
		case !ok && remote[s.SpanID]:
			n.mark = markRemote
			t.roots = append(t.roots, n)
		case !ok:
			n.mark = markOrphan
			t.orphans = append(t.orphans, n)
		default:
			parent.children = append(parent.children, n)
		}
	}
	visited := make(map[*node]bool, len(t.spans))
	var walk func(n *node)
	walk = func(n *node) {
		visited[n] = true
		for _, c := range n.children {
			if !visited[c] {
				walk(c)
			}
		}
	}
	for _, n := range t.roots {
		walk(n)
	}
	for _, n := range t.orphans {
		walk(n)
	}
	// Whatever is still unvisited hangs off a parent chain that loops back on
	// itself. Each loop is broken at its earliest span so it prints once.
	for _, s := range t.spans {
		n := nodes[s]
		if visited[n] {
			continue
		}
		n.mark = markCycle
		t.cycles = append(t.cycles, n)
		walk(n)
	}
}

// subtrees returns the starting nodes of every subtree in display order.
func (t *tree) subtrees() []*node {
	out := make([]*node, 0, len(t.roots)+len(t.orphans)+len(t.cycles))
	out = append(out, t.roots...)
	out = append(out, t.orphans...)
	return append(out, t.cycles...)
}
