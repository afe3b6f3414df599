package tracecheck

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReadOTLPFile reads the spans in a file that the OpenTelemetry Collector's
// file exporter wrote in JSON (format: json, the default, without
// compression): one ExportTraceServiceRequest per line. See [ReadOTLPJSON].
func ReadOTLPFile(path string) ([]Span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tracecheck: %w", err)
	}
	defer f.Close()
	spans, err := ReadOTLPJSON(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return spans, nil
}

// ReadOTLPJSON reads spans encoded as OTLP/JSON: a sequence of JSON
// objects, one per line or simply one after the other, each holding
// "resourceSpans" (an ExportTraceServiceRequest or TracesData, as the
// Collector's file exporter writes them). It follows the OTLP/JSON rules:
// trace and span ids as hex strings, kinds and status codes as integers,
// 64-bit integers as strings or numbers. It also accepts what the Grafana
// Tempo API returns: ids in base64, kind and status names
// ("SPAN_KIND_SERVER"), and "batches" or "trace" in place of
// "resourceSpans".
//
// A last object that breaks off in the middle is ignored, as a file still
// being written ends that way. Any other malformed input is an error.
func ReadOTLPJSON(r io.Reader) ([]Span, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var out []Span
	for n := 1; ; n++ {
		var doc otlpTracesData
		err := dec.Decode(&doc)
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tracecheck: OTLP JSON record %d: %w", n, err)
		}
		spans, err := doc.spans()
		if err != nil {
			return nil, fmt.Errorf("tracecheck: OTLP JSON record %d: %w", n, err)
		}
		out = append(out, spans...)
	}
}

// otlpTracesData is ExportTraceServiceRequest / TracesData in OTLP/JSON,
// with the names Tempo uses for the same list.
type otlpTracesData struct {
	ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	Batches       []otlpResourceSpans `json:"batches"`
	Trace         *otlpTracesData     `json:"trace"`
}

type otlpResourceSpans struct {
	Resource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	} `json:"resource"`
	ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
	// InstrumentationLibrarySpans is the name before OTLP 0.15; Tempo
	// still answers with it in places.
	InstrumentationLibrarySpans []otlpScopeSpans `json:"instrumentationLibrarySpans"`
}

type otlpScopeSpans struct {
	Spans []otlpSpan `json:"spans"`
}

type otlpSpan struct {
	TraceID           string          `json:"traceId"`
	SpanID            string          `json:"spanId"`
	ParentSpanID      string          `json:"parentSpanId"`
	Name              string          `json:"name"`
	Kind              json.RawMessage `json:"kind"`
	StartTimeUnixNano json.RawMessage `json:"startTimeUnixNano"`
	EndTimeUnixNano   json.RawMessage `json:"endTimeUnixNano"`
	Attributes        []otlpKeyValue  `json:"attributes"`
	Links             []struct {
		TraceID string `json:"traceId"`
		SpanID  string `json:"spanId"`
	} `json:"links"`
	Status struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	} `json:"status"`
}

type otlpKeyValue struct {
	Key   string       `json:"key"`
	Value otlpAnyValue `json:"value"`
}

type otlpAnyValue struct {
	StringValue *string         `json:"stringValue"`
	BoolValue   *bool           `json:"boolValue"`
	IntValue    json.RawMessage `json:"intValue"`
	DoubleValue json.RawMessage `json:"doubleValue"`
	BytesValue  *string         `json:"bytesValue"`
	ArrayValue  *struct {
		Values []otlpAnyValue `json:"values"`
	} `json:"arrayValue"`
	KvlistValue *struct {
		Values []otlpKeyValue `json:"values"`
	} `json:"kvlistValue"`
}

func (d *otlpTracesData) spans() ([]Span, error) {
	var out []Span
	lists := [][]otlpResourceSpans{d.ResourceSpans, d.Batches}
	if d.Trace != nil {
		lists = append(lists, d.Trace.ResourceSpans, d.Trace.Batches)
	}
	for _, list := range lists {
		for _, rs := range list {
			service := ""
			for _, kv := range rs.Resource.Attributes {
				if kv.Key == string(serviceNameKey) {
					service, _ = kv.Value.text()
				}
			}
			for _, ss := range append(rs.ScopeSpans, rs.InstrumentationLibrarySpans...) {
				for _, sp := range ss.Spans {
					s, err := sp.convert(service)
					if err != nil {
						return nil, err
					}
					out = append(out, s)
				}
			}
		}
	}
	return out, nil
}

func (o *otlpSpan) convert(service string) (Span, error) {
	s := Span{Service: service, Name: o.Name}
	var err error
	if s.TraceID, err = decodeID(o.TraceID, 16); err != nil || s.TraceID == "" {
		return Span{}, fmt.Errorf("span %q: trace id %q: %v", o.Name, o.TraceID, orMissing(err))
	}
	if s.SpanID, err = decodeID(o.SpanID, 8); err != nil || s.SpanID == "" {
		return Span{}, fmt.Errorf("span %q: span id %q: %v", o.Name, o.SpanID, orMissing(err))
	}
	if s.ParentSpanID, err = decodeID(o.ParentSpanID, 8); err != nil {
		return Span{}, fmt.Errorf("span %s: parent span id %q: %v", s.SpanID, o.ParentSpanID, err)
	}
	if s.Kind, err = decodeKind(o.Kind); err != nil {
		return Span{}, fmt.Errorf("span %s: %v", s.SpanID, err)
	}
	start, err := decodeUint(o.StartTimeUnixNano)
	if err != nil {
		return Span{}, fmt.Errorf("span %s: startTimeUnixNano: %v", s.SpanID, err)
	}
	end, err := decodeUint(o.EndTimeUnixNano)
	if err != nil {
		return Span{}, fmt.Errorf("span %s: endTimeUnixNano: %v", s.SpanID, err)
	}
	s.Start = time.Unix(0, int64(min(start, math.MaxInt64))).UTC()
	if end > start {
		s.Duration = time.Duration(min(end-start, math.MaxInt64))
	}
	code, err := decodeEnum(o.Status.Code, "STATUS_CODE_", map[string]int{"UNSET": 0, "OK": 1, "ERROR": 2})
	if err != nil {
		return Span{}, fmt.Errorf("span %s: status code: %v", s.SpanID, err)
	}
	s.StatusError = code == 2
	s.StatusMessage = o.Status.Message
	for _, kv := range o.Attributes {
		v, err := kv.Value.text()
		if err != nil {
			return Span{}, fmt.Errorf("span %s: attribute %q: %v", s.SpanID, kv.Key, err)
		}
		if s.Attributes == nil {
			s.Attributes = make(map[string]string, len(o.Attributes))
		}
		s.Attributes[kv.Key] = v
	}
	for _, l := range o.Links {
		tid, err := decodeID(l.TraceID, 16)
		if err != nil {
			return Span{}, fmt.Errorf("span %s: link trace id %q: %v", s.SpanID, l.TraceID, err)
		}
		sid, err := decodeID(l.SpanID, 8)
		if err != nil {
			return Span{}, fmt.Errorf("span %s: link span id %q: %v", s.SpanID, l.SpanID, err)
		}
		s.Links = append(s.Links, Link{TraceID: tid, SpanID: sid})
	}
	return s, nil
}

func orMissing(err error) error {
	if err == nil {
		return errors.New("missing")
	}
	return err
}

// decodeID reads an id of size bytes written in hex (OTLP/JSON) or base64
// (protobuf's JSON mapping, which Tempo uses). An empty or all-zero id is
// absent and gives "".
func decodeID(s string, size int) (string, error) {
	if s == "" {
		return "", nil
	}
	var raw []byte
	if len(s) == 2*size && isHexAnyCase(s) {
		raw, _ = hex.DecodeString(s)
	} else {
		var err error
		raw, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			raw, err = base64.URLEncoding.DecodeString(s)
		}
		if err != nil || len(raw) != size {
			return "", fmt.Errorf("want %d hex digits or %d bytes in base64", 2*size, size)
		}
	}
	if bytes.Equal(raw, make([]byte, size)) {
		return "", nil
	}
	return hex.EncodeToString(raw), nil
}

func isHexAnyCase(s string) bool { return isHex(strings.ToLower(s)) }

var kindNames = []string{KindUnspecified, KindInternal, KindServer, KindClient, KindProducer, KindConsumer}

func decodeKind(raw json.RawMessage) (string, error) {
	names := make(map[string]int, len(kindNames))
	for i, k := range kindNames {
		names[strings.ToUpper(k)] = i
	}
	n, err := decodeEnum(raw, "SPAN_KIND_", names)
	if err != nil {
		return "", fmt.Errorf("kind: %v", err)
	}
	if n < 0 || n >= len(kindNames) {
		return "", fmt.Errorf("kind: unknown value %d", n)
	}
	return kindNames[n], nil
}

// decodeEnum reads an enum written as an integer (OTLP/JSON) or as its
// name (protobuf's JSON mapping). Absent means zero.
func decodeEnum(raw json.RawMessage, prefix string, names map[string]int) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		if n, ok := names[strings.TrimPrefix(name, prefix)]; ok {
			return n, nil
		}
		return 0, fmt.Errorf("unknown name %q", name)
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("want an integer or a name, got %s", raw)
	}
	return n, nil
}

// decodeUint reads a 64-bit unsigned integer written as a string or a
// number. Absent means zero.
func decodeUint(raw json.RawMessage) (uint64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	text := string(raw)
	var str string
	if json.Unmarshal(raw, &str) == nil {
		text = str
	}
	n, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want an unsigned integer, got %s", raw)
	}
	return n, nil
}

// text renders an attribute value the way attribute.Value's String method
// renders the corresponding OpenTelemetry attribute, so that attributes
// read from a file compare equal to attributes recorded in memory.
func (v otlpAnyValue) text() (string, error) {
	switch {
	case v.StringValue != nil:
		return *v.StringValue, nil
	case v.BoolValue != nil:
		return strconv.FormatBool(*v.BoolValue), nil
	case len(v.IntValue) > 0:
		n, err := decodeInt(v.IntValue)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(n, 10), nil
	case len(v.DoubleValue) > 0:
		f, err := decodeDouble(v.DoubleValue)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(f), nil
	case v.BytesValue != nil:
		return *v.BytesValue, nil
	case v.ArrayValue != nil:
		return v.arrayText()
	case v.KvlistValue != nil:
		m := make(map[string]any, len(v.KvlistValue.Values))
		for _, kv := range v.KvlistValue.Values {
			s, err := kv.Value.text()
			if err != nil {
				return "", err
			}
			m[kv.Key] = s
		}
		b, err := json.Marshal(m)
		return string(b), err
	}
	return "", nil
}

// arrayText renders an array as the SDK renders slices: JSON for strings
// and numbers, Go's fmt form for booleans.
func (v otlpAnyValue) arrayText() (string, error) {
	values := v.ArrayValue.Values
	items := make([]any, len(values))
	allBool := len(values) > 0
	for i, e := range values {
		switch {
		case e.StringValue != nil:
			items[i] = *e.StringValue
		case e.BoolValue != nil:
			items[i] = *e.BoolValue
		case len(e.IntValue) > 0:
			n, err := decodeInt(e.IntValue)
			if err != nil {
				return "", err
			}
			items[i] = n
		case len(e.DoubleValue) > 0:
			f, err := decodeDouble(e.DoubleValue)
			if err != nil {
				return "", err
			}
			items[i] = f
		default:
			s, err := e.text()
			if err != nil {
				return "", err
			}
			items[i] = s
		}
		if _, ok := items[i].(bool); !ok {
			allBool = false
		}
	}
	if allBool {
		return fmt.Sprint(items), nil
	}
	b, err := json.Marshal(items)
	return string(b), err
}

func decodeInt(raw json.RawMessage) (int64, error) {
	text := string(raw)
	var str string
	if json.Unmarshal(raw, &str) == nil {
		text = str
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want an integer, got %s", raw)
	}
	return n, nil
}

func decodeDouble(raw json.RawMessage) (float64, error) {
	text := string(raw)
	var str string
	if json.Unmarshal(raw, &str) == nil {
		// protobuf's JSON mapping writes these three as strings.
		switch str {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		text = str
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %s", raw)
	}
	return f, nil
}
