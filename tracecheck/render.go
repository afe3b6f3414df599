package tracecheck

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// barWidth is the number of columns of the time-line bar.
const barWidth = 40

// Render writes spans as one indented waterfall per trace id: a header line
// with the trace id, then one line per span with its name (indented under its
// parent), service, kind, duration, status and a bar placing the span on the
// trace's time line. Spans whose parent is missing are listed after the tree,
// marked "(orphan)"; spans whose parent chain loops are marked "(cycle)".
// The output is plain ASCII and depends only on the spans given.
func Render(w io.Writer, spans []Span) error {
	_, err := io.WriteString(w, renderString(spans))
	return err
}

func renderString(spans []Span) string { return renderRemote(spans, nil) }

// renderRemote is renderString where the spans whose ids are in remote
// continue a parent in another process.
func renderRemote(spans []Span, remote map[string]bool) string {
	if len(spans) == 0 {
		return "no spans\n"
	}
	var b strings.Builder
	traces := buildTracesRemote(spans, remote)
	for _, t := range traces {
		t.others = traces
	}
	for i, t := range traces {
		if i > 0 {
			b.WriteByte('\n')
		}
		t.render(&b)
	}
	return b.String()
}

// row is one rendered span line before column alignment.
type row struct {
	label, service, kind, duration, status, bar, note string
}

func (t *tree) render(b *strings.Builder) {
	services := make(map[string]bool)
	for _, s := range t.spans {
		services[s.Service] = true
	}
	fmt.Fprintf(b, "trace %s  %d %s, %d %s, %s\n", t.id,
		len(t.spans), plural(len(t.spans), "span", "spans"),
		len(services), plural(len(services), "service", "services"),
		formatDuration(t.end.Sub(t.start)))

	rows := []row{{label: "SPAN", service: "SERVICE", kind: "KIND", duration: "DURATION", status: "STATUS", bar: "TIMELINE"}}
	printed := make(map[*node]bool, len(t.spans))
	var walk func(n *node, prefix, branch string)
	walk = func(n *node, prefix, branch string) {
		printed[n] = true
		rows = append(rows, t.row(n, prefix+branch))
		var next []*node
		for _, c := range n.children {
			if !printed[c] {
				next = append(next, c)
			}
		}
		childPrefix := prefix
		switch branch {
		case "|- ":
			childPrefix += "|  "
		case "`- ":
			childPrefix += "   "
		}
		for i, c := range next {
			if printed[c] {
				continue
			}
			if i == len(next)-1 {
				walk(c, childPrefix, "`- ")
			} else {
				walk(c, childPrefix, "|- ")
			}
		}
	}
	for _, n := range t.subtrees() {
		if !printed[n] {
			walk(n, "", "")
		}
	}

	var wLabel, wService, wKind, wDuration, wStatus int
	for _, r := range rows {
		wLabel = max(wLabel, len(r.label))
		wService = max(wService, len(r.service))
		wKind = max(wKind, len(r.kind))
		wDuration = max(wDuration, len(r.duration))
		wStatus = max(wStatus, len(r.status))
	}
	for _, r := range rows {
		line := fmt.Sprintf("%-*s  %-*s  %-*s  %*s  %-*s  %s", wLabel, r.label, wService, r.service,
			wKind, r.kind, wDuration, r.duration, wStatus, r.status, r.bar)
		if r.note != "" {
			line += "  " + r.note
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
}

func (t *tree) row(n *node, treePrefix string) row {
	s := n.span
	r := row{
		label:    treePrefix + s.Name,
		service:  s.Service,
		kind:     s.Kind,
		duration: formatDuration(s.Duration),
		status:   "ok",
		bar:      t.bar(s),
	}
	var notes []string
	switch n.mark {
	case markOrphan:
		r.label = treePrefix + "(orphan) " + s.Name
		notes = append(notes, "parent "+s.ParentSpanID+" not in trace")
	case markCycle:
		r.label = treePrefix + "(cycle) " + s.Name
		notes = append(notes, "parent chain loops via "+s.ParentSpanID)
	case markRemote:
		notes = append(notes, "parent "+s.ParentSpanID+" in another process")
	}
	if s.StatusError {
		r.status = "ERROR"
		if s.StatusMessage != "" {
			notes = append(notes, "error: "+s.StatusMessage)
		}
	}
	for _, l := range s.Links {
		notes = append(notes, "link -> "+t.describeLink(l))
	}
	r.note = strings.Join(notes, "; ")
	return r
}

// describeLink names a linked span by service and name when it is part of
// this trace, by service, name and trace when it is part of another trace
// rendered with it, and by its ids otherwise.
func (t *tree) describeLink(l Link) string {
	for _, o := range append([]*tree{t}, t.others...) {
		if o.id != l.TraceID {
			continue
		}
		if target, ok := o.byID[l.SpanID]; ok {
			if o == t {
				return target.Service + " " + target.Name
			}
			return target.Service + " " + target.Name + " in trace " + o.id
		}
	}
	return l.TraceID + "/" + l.SpanID
}

// bar draws the span's extent on the trace's time line, at least one column
// wide so that even the shortest span stays visible.
func (t *tree) bar(s *Span) string {
	total := int64(t.end.Sub(t.start))
	from, to := 0, barWidth
	if total > 0 {
		off := int64(s.Start.Sub(t.start))
		end := off + int64(s.Duration)
		from = int(off * barWidth / total)
		to = int((end*barWidth + total - 1) / total)
	}
	from = min(max(from, 0), barWidth-1)
	to = min(max(to, from+1), barWidth)
	return "|" + strings.Repeat(" ", from) + strings.Repeat("=", to-from) + strings.Repeat(" ", barWidth-to) + "|"
}

// formatDuration prints a duration with microsecond precision (what Jaeger
// stores) in ASCII units.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	us := int64(d / time.Microsecond)
	switch {
	case us < 1000:
		return fmt.Sprintf("%dus", us)
	case us < 1000*1000:
		return fmt.Sprintf("%d.%03dms", us/1000, us%1000)
	default:
		return fmt.Sprintf("%d.%03ds", us/1000000, us%1000000/1000)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
