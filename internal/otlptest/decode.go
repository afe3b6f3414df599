package otlptest

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
)

func decodeTraces(enc encoding, body []byte) ([]Span, *coltracepb.ExportTraceServiceResponse, error) {
	var req coltracepb.ExportTraceServiceRequest
	if err := enc.unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("otlptest: decode trace request: %w", err)
	}
	return spansFrom(&req), &coltracepb.ExportTraceServiceResponse{}, nil
}

func spansFrom(req *coltracepb.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		res := toSet(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			scope := toScope(ss.GetScope())
			for _, sp := range ss.GetSpans() {
				out = append(out, toSpan(res, scope, sp))
			}
		}
	}
	return out
}

func toSpan(res attribute.Set, scope Scope, sp *tracepb.Span) Span {
	s := Span{
		Resource:     res,
		Scope:        scope,
		Name:         sp.GetName(),
		Kind:         trace.SpanKind(sp.GetKind()),
		TraceID:      traceID(sp.GetTraceId()),
		SpanID:       spanID(sp.GetSpanId()),
		ParentSpanID: spanID(sp.GetParentSpanId()),
		TraceState:   sp.GetTraceState(),
		StartTime:    unixNano(sp.GetStartTimeUnixNano()),
		EndTime:      unixNano(sp.GetEndTimeUnixNano()),
		Attributes:   toSet(sp.GetAttributes()),
		Status:       Status{Code: statusCode(sp.GetStatus().GetCode()), Message: sp.GetStatus().GetMessage()},
	}
	for _, e := range sp.GetEvents() {
		s.Events = append(s.Events, Event{
			Name:       e.GetName(),
			Time:       unixNano(e.GetTimeUnixNano()),
			Attributes: toSet(e.GetAttributes()),
		})
	}
	for _, l := range sp.GetLinks() {
		s.Links = append(s.Links, Link{
			TraceID:    traceID(l.GetTraceId()),
			SpanID:     spanID(l.GetSpanId()),
			TraceState: l.GetTraceState(),
			Attributes: toSet(l.GetAttributes()),
		})
	}
	return s
}

// statusCode maps the OTLP enum (UNSET=0, OK=1, ERROR=2) onto the API's
// codes, whose numbering differs (Unset=0, Error=1, Ok=2).
func statusCode(c tracepb.Status_StatusCode) codes.Code {
	switch c {
	case tracepb.Status_STATUS_CODE_OK:
		return codes.Ok
	case tracepb.Status_STATUS_CODE_ERROR:
		return codes.Error
	default:
		return codes.Unset
	}
}

func decodeMetrics(enc encoding, body []byte) ([]Metric, *colmetricpb.ExportMetricsServiceResponse, error) {
	var req colmetricpb.ExportMetricsServiceRequest
	if err := enc.unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("otlptest: decode metrics request: %w", err)
	}
	return metricsFrom(&req), &colmetricpb.ExportMetricsServiceResponse{}, nil
}

func metricsFrom(req *colmetricpb.ExportMetricsServiceRequest) []Metric {
	var out []Metric
	for _, rm := range req.GetResourceMetrics() {
		res := toSet(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			scope := toScope(sm.GetScope())
			for _, m := range sm.GetMetrics() {
				typ, points := metricShape(m)
				out = append(out, Metric{
					Resource:    res,
					Scope:       scope,
					Name:        m.GetName(),
					Description: m.GetDescription(),
					Unit:        m.GetUnit(),
					Type:        typ,
					DataPoints:  points,
					Proto:       m,
				})
			}
		}
	}
	return out
}

func metricShape(m *metricpb.Metric) (string, int) {
	switch d := m.GetData().(type) {
	case *metricpb.Metric_Gauge:
		return "gauge", len(d.Gauge.GetDataPoints())
	case *metricpb.Metric_Sum:
		return "sum", len(d.Sum.GetDataPoints())
	case *metricpb.Metric_Histogram:
		return "histogram", len(d.Histogram.GetDataPoints())
	case *metricpb.Metric_ExponentialHistogram:
		return "exponential_histogram", len(d.ExponentialHistogram.GetDataPoints())
	case *metricpb.Metric_Summary:
		return "summary", len(d.Summary.GetDataPoints())
	default:
		return "", 0
	}
}

func metricNames(ms []Metric) []string {
	seen := make(map[string]bool, len(ms))
	var out []string
	for _, m := range ms {
		if !seen[m.Name] {
			seen[m.Name] = true
			out = append(out, m.Name)
		}
	}
	return out
}

func decodeLogs(enc encoding, body []byte) ([]LogRecord, *collogspb.ExportLogsServiceResponse, error) {
	var req collogspb.ExportLogsServiceRequest
	if err := enc.unmarshal(body, &req); err != nil {
		return nil, nil, fmt.Errorf("otlptest: decode logs request: %w", err)
	}
	return logsFrom(&req), &collogspb.ExportLogsServiceResponse{}, nil
}

func logsFrom(req *collogspb.ExportLogsServiceRequest) []LogRecord {
	var out []LogRecord
	for _, rl := range req.GetResourceLogs() {
		res := toSet(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			scope := toScope(sl.GetScope())
			for _, lr := range sl.GetLogRecords() {
				out = append(out, LogRecord{
					Resource:       res,
					Scope:          scope,
					Time:           unixNano(lr.GetTimeUnixNano()),
					ObservedTime:   unixNano(lr.GetObservedTimeUnixNano()),
					SeverityNumber: int32(lr.GetSeverityNumber()),
					SeverityText:   lr.GetSeverityText(),
					Body:           anyText(lr.GetBody()),
					EventName:      lr.GetEventName(),
					Attributes:     toSet(lr.GetAttributes()),
					TraceID:        traceID(lr.GetTraceId()),
					SpanID:         spanID(lr.GetSpanId()),
				})
			}
		}
	}
	return out
}

func toScope(s *commonpb.InstrumentationScope) Scope {
	return Scope{Name: s.GetName(), Version: s.GetVersion()}
}

func toSet(kvs []*commonpb.KeyValue) attribute.Set {
	attrs := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(kv.GetKey()), Value: toValue(kv.GetValue())})
	}
	return attribute.NewSet(attrs...)
}

// toValue converts an OTLP value to an attribute value. Scalars and
// homogeneous scalar arrays keep their type; maps, bytes and mixed arrays,
// which attribute values cannot represent, become their text form.
func toValue(v *commonpb.AnyValue) attribute.Value {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_ArrayValue:
		if arr, ok := scalarArray(x.ArrayValue.GetValues()); ok {
			return arr
		}
	}
	return attribute.StringValue(anyText(v))
}

func scalarArray(vals []*commonpb.AnyValue) (attribute.Value, bool) {
	if len(vals) == 0 {
		return attribute.StringSliceValue(nil), true
	}
	switch vals[0].GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		out := make([]string, len(vals))
		for i, v := range vals {
			s, ok := v.GetValue().(*commonpb.AnyValue_StringValue)
			if !ok {
				return attribute.Value{}, false
			}
			out[i] = s.StringValue
		}
		return attribute.StringSliceValue(out), true
	case *commonpb.AnyValue_BoolValue:
		out := make([]bool, len(vals))
		for i, v := range vals {
			b, ok := v.GetValue().(*commonpb.AnyValue_BoolValue)
			if !ok {
				return attribute.Value{}, false
			}
			out[i] = b.BoolValue
		}
		return attribute.BoolSliceValue(out), true
	case *commonpb.AnyValue_IntValue:
		out := make([]int64, len(vals))
		for i, v := range vals {
			n, ok := v.GetValue().(*commonpb.AnyValue_IntValue)
			if !ok {
				return attribute.Value{}, false
			}
			out[i] = n.IntValue
		}
		return attribute.Int64SliceValue(out), true
	case *commonpb.AnyValue_DoubleValue:
		out := make([]float64, len(vals))
		for i, v := range vals {
			f, ok := v.GetValue().(*commonpb.AnyValue_DoubleValue)
			if !ok {
				return attribute.Value{}, false
			}
			out[i] = f.DoubleValue
		}
		return attribute.Float64SliceValue(out), true
	}
	return attribute.Value{}, false
}

// anyText renders a value for display: strings as they are, everything else
// in protobuf text format.
func anyText(v *commonpb.AnyValue) string {
	if v == nil || v.GetValue() == nil {
		return ""
	}
	if s, ok := v.GetValue().(*commonpb.AnyValue_StringValue); ok {
		return s.StringValue
	}
	return prototext.MarshalOptions{}.Format(v)
}

func traceID(b []byte) trace.TraceID {
	var id trace.TraceID
	if len(b) == len(id) {
		copy(id[:], b)
	}
	return id
}

func spanID(b []byte) trace.SpanID {
	var id trace.SpanID
	if len(b) == len(id) {
		copy(id[:], b)
	}
	return id
}

func unixNano(ns uint64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns))
}
