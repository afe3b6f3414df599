package otlptest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// encoding is the body format of one request: OTLP protobuf or OTLP JSON.
type encoding int

const (
	encProtobuf encoding = iota
	encJSON
)

func encodingOf(contentType string) (encoding, error) {
	if contentType == "" {
		return encProtobuf, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("otlptest: bad Content-Type %q: %w", contentType, err)
	}
	switch mt {
	case "application/x-protobuf":
		return encProtobuf, nil
	case "application/json":
		return encJSON, nil
	default:
		return 0, fmt.Errorf("otlptest: unsupported Content-Type %q", contentType)
	}
}

func (e encoding) contentType() string {
	if e == encJSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

func (e encoding) unmarshal(body []byte, m proto.Message) error {
	if e == encJSON {
		fixed, err := hexIDsToBase64(body)
		if err != nil {
			return err
		}
		return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(fixed, m)
	}
	return proto.Unmarshal(body, m)
}

func (e encoding) marshal(m proto.Message) ([]byte, error) {
	if e == encJSON {
		return protojson.Marshal(m)
	}
	return proto.Marshal(m)
}

// idFields are the OTLP JSON fields that carry trace and span IDs. OTLP JSON
// writes them as hex strings, unlike the canonical protobuf JSON mapping
// (base64), so they are rewritten before protojson sees them.
var idFields = map[string]bool{"traceId": true, "spanId": true, "parentSpanId": true}

func hexIDsToBase64(body []byte) ([]byte, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("otlptest: JSON body: %w", err)
	}
	if err := rewriteIDs(doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

func rewriteIDs(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && idFields[k] {
				raw, err := hex.DecodeString(s)
				if err != nil {
					return fmt.Errorf("otlptest: %s %q is not hex: %w", k, s, err)
				}
				v[k] = base64.StdEncoding.EncodeToString(raw)
				continue
			}
			if err := rewriteIDs(child); err != nil {
				return err
			}
		}
	case []any:
		for _, child := range v {
			if err := rewriteIDs(child); err != nil {
				return err
			}
		}
	}
	return nil
}
