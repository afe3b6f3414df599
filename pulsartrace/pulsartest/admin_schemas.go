package pulsartest

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// schemaTypeNames maps protocol schema types to the names the admin API
// uses; the others are the protocol names in upper case.
var schemaTypeNames = map[pb.Schema_Type]string{
	pb.Schema_None:           "BYTES",
	pb.Schema_Bool:           "BOOLEAN",
	pb.Schema_KeyValue:       "KEY_VALUE",
	pb.Schema_LocalDate:      "LOCAL_DATE",
	pb.Schema_LocalTime:      "LOCAL_TIME",
	pb.Schema_LocalDateTime:  "LOCAL_DATE_TIME",
	pb.Schema_ProtobufNative: "PROTOBUF_NATIVE",
}

func schemaTypeName(t pb.Schema_Type) string {
	if n, ok := schemaTypeNames[t]; ok {
		return n
	}
	return strings.ToUpper(t.String())
}

func parseSchemaType(name string) (pb.Schema_Type, bool) {
	name = strings.ToUpper(name)
	switch name {
	case "NONE", "BYTES":
		return pb.Schema_None, true
	case "KEYVALUE":
		return pb.Schema_KeyValue, true
	}
	for t, n := range schemaTypeNames {
		if n == name {
			return t, true
		}
	}
	for v := range pb.Schema_Type_name {
		if t := pb.Schema_Type(v); strings.ToUpper(t.String()) == name {
			return t, true
		}
	}
	return 0, false
}

type schemaResponse struct {
	Version    int64             `json:"version"`
	Type       string            `json:"type"`
	Timestamp  int64             `json:"timestamp"`
	Data       string            `json:"data"`
	Properties map[string]string `json:"properties"`
}

func (l *schemaLog) response(v int) schemaResponse {
	sc := l.versions[v]
	return schemaResponse{
		Version:    int64(v),
		Type:       schemaTypeName(sc.GetType()),
		Timestamp:  l.times[v],
		Data:       string(sc.GetSchemaData()),
		Properties: toMap(sc.GetProperties()),
	}
}

type schemaPayload struct {
	Type       string            `json:"type"`
	Schema     string            `json:"schema"`
	Properties map[string]string `json:"properties"`
}

func (p schemaPayload) toProto(name string) (*pb.Schema, error) {
	typ, ok := parseSchemaType(p.Type)
	if !ok {
		return nil, errorf(http.StatusUnprocessableEntity, "Invalid schema type %q", p.Type)
	}
	sc := &pb.Schema{Name: proto.String(name), Type: typ.Enum(), SchemaData: []byte(p.Schema)}
	for _, k := range sortedMapKeys(p.Properties) {
		sc.Properties = append(sc.Properties, &pb.KeyValue{Key: proto.String(k), Value: proto.String(p.Properties[k])})
	}
	return sc, nil
}

func (s *Server) routeSchemas(r *http.Request, segs []string) (any, error) {
	if len(segs) < 4 {
		return nil, errorf(http.StatusNotFound, "not found")
	}
	tn, err := parseTopic("persistent://" + strings.Join(segs[:3], "/"))
	if err != nil {
		return nil, errorf(http.StatusPreconditionFailed, "Invalid topic name: %v", err)
	}
	rest := segs[3:]
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.schemas[tn.base]
	present := l != nil && len(l.versions) > 0 && !l.deleted
	notFound := errorf(http.StatusNotFound, "Schema not found")
	switch {
	case rest[0] == "schema" && len(rest) == 1 && r.Method == http.MethodGet:
		if !present {
			return nil, notFound
		}
		return l.response(len(l.versions) - 1), nil
	case rest[0] == "schema" && len(rest) == 2 && r.Method == http.MethodGet:
		v, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalid schema version %q", rest[1])
		}
		if !present || v < 0 || v >= int64(len(l.versions)) {
			return nil, notFound
		}
		return l.response(int(v)), nil
	case rest[0] == "schemas" && len(rest) == 1 && r.Method == http.MethodGet:
		if !present {
			return nil, notFound
		}
		all := make([]schemaResponse, len(l.versions))
		for i := range l.versions {
			all[i] = l.response(i)
		}
		return map[string]any{"getSchemaResponses": all}, nil
	case rest[0] == "schema" && len(rest) == 1 && r.Method == http.MethodPost:
		var p schemaPayload
		if err := decodeBody(r, &p); err != nil {
			return nil, err
		}
		sc, err := p.toProto(tn.base)
		if err != nil {
			return nil, err
		}
		if l == nil {
			l = &schemaLog{}
			s.schemas[tn.base] = l
		}
		v := l.register(sc)
		return map[string]int64{"version": int64(binary.BigEndian.Uint64(v))}, nil
	case rest[0] == "schema" && len(rest) == 1 && r.Method == http.MethodDelete:
		if !present {
			return nil, notFound
		}
		l.deleted = true
		return map[string]int64{"version": int64(len(l.versions) - 1)}, nil
	case rest[0] == "version" && len(rest) == 1 && r.Method == http.MethodPost:
		var p schemaPayload
		if err := decodeBody(r, &p); err != nil {
			return nil, err
		}
		sc, err := p.toProto(tn.base)
		if err != nil {
			return nil, err
		}
		if present {
			for i, old := range l.versions {
				if old.GetType() == sc.GetType() && bytes.Equal(old.GetSchemaData(), sc.GetSchemaData()) {
					return map[string]int64{"version": int64(i)}, nil
				}
			}
		}
		return nil, errorf(http.StatusNotFound, "Not found schema")
	case rest[0] == "compatibility" && len(rest) == 1 && r.Method == http.MethodPost:
		var p schemaPayload
		if err := decodeBody(r, &p); err != nil {
			return nil, err
		}
		if _, err := p.toProto(tn.base); err != nil {
			return nil, err
		}
		return map[string]any{"compatibility": true, "schemaCompatibilityStrategy": "ALWAYS_COMPATIBLE"}, nil
	}
	return nil, errorf(http.StatusNotFound, "not found")
}
