package pubsubtrace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// PushMessage is a message delivered to a push endpoint, decoded from the
// push request's JSON envelope.
type PushMessage struct {
	// ID is the server-assigned message ID.
	ID string
	// Data is the payload, base64-decoded.
	Data []byte
	// Attributes are the message's attributes, trace context included.
	Attributes map[string]string
	// PublishTime is when Pub/Sub received the message.
	PublishTime time.Time
	// OrderingKey is the message's ordering key, "" when it has none.
	OrderingKey string
	// DeliveryAttempt is the delivery attempt, 0 unless the subscription
	// has a dead-letter policy.
	DeliveryAttempt int
	// Subscription is the full resource name of the push subscription.
	Subscription string
}

// PushHandlerFunc handles one pushed message. Returning nil acknowledges it
// (the endpoint answers 204); returning an error makes the endpoint answer
// 500, so that Pub/Sub delivers the message again.
type PushHandlerFunc func(ctx context.Context, m *PushMessage) error

// NewPushHandler returns an http.Handler for a Pub/Sub push subscription
// that serves h. It decodes the push envelope, continues the publisher's
// trace from the message attributes and runs h inside a CONSUMER span
// "process <subscription>".
//
// Requests that are not a POST get 405; a body that is not a push envelope
// (not JSON, no message, a subscription that is not a full subscription
// name, data that is not base64) gets 400 with the reason; a body over the
// limit of [WithMaxPushBodyBytes] gets 413. None of these reach h.
//
// The subscription named by the envelope becomes a span and metric
// attribute: authenticate push requests (Pub/Sub signs them with an OIDC
// token) before this handler so that strangers cannot choose it.
//
// It panics if h is nil.
func NewPushHandler(h PushHandlerFunc, opts ...asynctrace.Option) http.Handler {
	if h == nil {
		panic("pubsubtrace.NewPushHandler: handler is nil")
	}
	in, s := newInstrumenter("NewPushHandler", opts)
	return &pushHandler{handle: h, in: in, maxBodyBytes: s.maxPushBodyBytes}
}

// pushHandler serves push requests.
type pushHandler struct {
	handle       PushHandlerFunc
	in           *messaging.Instrumenter
	maxBodyBytes int64
}

// pushEnvelope is the JSON body Pub/Sub posts to a push endpoint. The
// message fields come both in camelCase and in snake_case; both are read.
type pushEnvelope struct {
	Message *struct {
		Data             []byte            `json:"data"`
		Attributes       map[string]string `json:"attributes"`
		MessageID        string            `json:"messageId"`
		MessageIDSnake   string            `json:"message_id"`
		PublishTime      string            `json:"publishTime"`
		PublishTimeSnake string            `json:"publish_time"`
		OrderingKey      string            `json:"orderingKey"`
		OrderingKeySnake string            `json:"ordering_key"`
	} `json:"message"`
	Subscription    string `json:"subscription"`
	DeliveryAttempt *int   `json:"deliveryAttempt"`
}

// ServeHTTP decodes the push request and serves the handler.
func (p *pushHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "pubsubtrace: push requests must be POST", http.StatusMethodNotAllowed)
		return
	}
	m, err := decodePush(http.MaxBytesReader(w, r.Body, p.maxBodyBytes))
	if err != nil {
		status := http.StatusBadRequest
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	sub, _ := validSubscriptionName(m.Subscription)
	dest := p.in.Destination(sub.id, sub.id, "")
	ctx, proc := p.in.StartProcessAt(r.Context(), dest, m.Attributes, m.ID, len(m.Data), m.PublishTime)
	if span := proc.Span(); span.IsRecording() {
		span.SetAttributes(ProjectIDKey.String(sub.project))
		setMessageAttributes(span, m.OrderingKey, m.DeliveryAttempt)
	}
	var herr error
	messaging.Guard(func() { herr = p.handle(ctx, m) }, func(abort error) { proc.End(messaging.SettleNack, abort) })
	if herr != nil {
		proc.End(messaging.SettleNack, herr)
		http.Error(w, "pubsubtrace: handler failed; the message will be delivered again", http.StatusInternalServerError)
		return
	}
	proc.End(messaging.SettleAck, nil)
	w.WriteHeader(http.StatusNoContent)
}

// decodePush reads and checks a push envelope.
func decodePush(body io.Reader) (*PushMessage, error) {
	var env pushEnvelope
	dec := json.NewDecoder(body)
	if err := dec.Decode(&env); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("pubsubtrace: empty body: expected a Pub/Sub push envelope")
		}
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, mbe
		}
		return nil, fmt.Errorf("pubsubtrace: body is not a Pub/Sub push envelope: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, mbe
		}
		return nil, errors.New("pubsubtrace: body is not a Pub/Sub push envelope: data after the JSON object")
	}
	if env.Message == nil {
		return nil, errors.New(`pubsubtrace: push envelope has no "message"`)
	}
	if _, ok := validSubscriptionName(env.Subscription); !ok {
		return nil, fmt.Errorf(`pubsubtrace: push envelope "subscription" is not a subscription name (projects/{project}/subscriptions/{id}): %q`, truncate(env.Subscription, 300))
	}
	msg := env.Message
	m := &PushMessage{
		ID:           firstNonEmpty(msg.MessageID, msg.MessageIDSnake),
		Data:         msg.Data,
		Attributes:   msg.Attributes,
		OrderingKey:  firstNonEmpty(msg.OrderingKey, msg.OrderingKeySnake),
		Subscription: env.Subscription,
	}
	if env.DeliveryAttempt != nil && *env.DeliveryAttempt > 0 {
		m.DeliveryAttempt = *env.DeliveryAttempt
	}
	if ts := firstNonEmpty(msg.PublishTime, msg.PublishTimeSnake); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("pubsubtrace: push envelope has a malformed publishTime %q", truncate(ts, 64))
		}
		m.PublishTime = t
	}
	return m, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// truncate keeps error messages short when a hostile body is quoted.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
