package watermillbackends_test

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/asynctrace/asynctrace"
	"github.com/asynctrace/asynctrace/httptrace"
	"github.com/asynctrace/asynctrace/internal/servicetest"
	"github.com/asynctrace/asynctrace/internal/telemetrytest"
	"github.com/asynctrace/asynctrace/internal/watermilltest"
	"github.com/asynctrace/asynctrace/watermilltrace"
)

// The servers these tests use, on the loopback interface.
const (
	redisAddr    = "127.0.0.1:6379"
	amqpURI      = "amqp://guest:guest@127.0.0.1:5672/"
	amqpAddr     = "127.0.0.1:5672"
	natsURL      = "nats://127.0.0.1:4222"
	natsAddr     = "127.0.0.1:4222"
	postgresAddr = "127.0.0.1:5432"
)

// backend builds a publisher and a subscriber over one broker, closing
// them and removing what the run created when the test ends.
type backend struct {
	name   string
	system string
	// setup returns the publisher and a constructor of subscribers: each
	// router handler gets a subscriber of its own, which the router closes
	// when it stops. Closing it a second time is left out: not every
	// subscriber's Close is safe to call again from another goroutine.
	setup func(t *testing.T, topics []string) (message.Publisher, func() message.Subscriber)
}

var backends = []backend{
	{name: "gochannel", system: "watermill", setup: setupGoChannel},
	{name: "redis", system: "redis", setup: setupRedis},
	{name: "rabbitmq", system: "rabbitmq", setup: setupRabbitMQ},
	{name: "nats", system: "nats", setup: setupNATS},
	{name: "postgresql", system: "postgresql", setup: setupPostgres},
}

func setupGoChannel(t *testing.T, _ []string) (message.Publisher, func() message.Subscriber) {
	g := watermilltest.NewGoChannel(t, gochannel.Config{})
	return g, func() message.Subscriber { return g }
}

func setupRedis(t *testing.T, topics []string) (message.Publisher, func() message.Subscriber) {
	servicetest.RequireReachable(t, "Redis", redisAddr)
	// The publisher and subscribers close the client they are given; the
	// streams are removed through a client of the test's own.
	admin := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := admin.Del(ctx, topics...).Err(); err != nil {
			t.Errorf("removing streams: %v", err)
		}
		_ = admin.Close()
	})
	if err := admin.Ping(context.Background()).Err(); err != nil {
		servicetest.SkipOrFail(t, "Redis at %s does not answer: %v", redisAddr, err)
	}
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: redis.NewClient(&redis.Options{Addr: redisAddr})}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, pub)
	group := servicetest.UniqueName("group")
	return pub, func() message.Subscriber {
		sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
			Client:        redis.NewClient(&redis.Options{Addr: redisAddr}),
			ConsumerGroup: group,
			BlockTime:     100 * time.Millisecond,
			// Close does not wait for the read loop, which sleeps 500 ms
			// after a read error (the one closing the client causes)
			// before it notices the subscriber is closing: stop at once.
			ShouldStopOnReadErrors: stopOnReadError,
		}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		return sub // the router closes it
	}
}

func stopOnReadError(error) bool { return true }

func setupRabbitMQ(t *testing.T, _ []string) (message.Publisher, func() message.Subscriber) {
	servicetest.RequireReachable(t, "RabbitMQ", amqpAddr)
	cfg := amqp.NewNonDurablePubSubConfig(amqpURI, amqp.GenerateQueueNameTopicNameWithSuffix("asynctrace"))
	// Queues and exchanges go away with the run's connections.
	cfg.Queue.AutoDelete = true
	cfg.Exchange.AutoDeleted = true
	pub, err := amqp.NewPublisher(cfg, watermill.NopLogger{})
	if err != nil {
		servicetest.SkipOrFail(t, "RabbitMQ at %s refuses the connection: %v", amqpURI, err)
	}
	closeOnCleanup(t, pub)
	return pub, func() message.Subscriber {
		sub, err := amqp.NewSubscriber(cfg, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		return sub // the router closes it
	}
}

func setupNATS(t *testing.T, topics []string) (message.Publisher, func() message.Subscriber) {
	servicetest.RequireReachable(t, "NATS", natsAddr)
	nc, err := nats.Connect(natsURL, nats.Timeout(5*time.Second))
	if err != nil {
		servicetest.SkipOrFail(t, "NATS at %s: %v", natsURL, err)
	}
	js, err := nc.JetStream()
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(); err != nil {
		nc.Close()
		servicetest.SkipOrFail(t, "NATS at %s has no JetStream: %v", natsURL, err)
	}
	t.Cleanup(func() {
		for _, topic := range topics {
			if err := js.DeleteStream(topic); err != nil {
				t.Errorf("removing stream %s: %v", topic, err)
			}
		}
		nc.Close()
	})
	jsCfg := wmnats.JetStreamConfig{
		AutoProvision:    true,
		SubscribeOptions: []nats.SubOpt{nats.DeliverAll(), nats.AckExplicit()},
		DurablePrefix:    servicetest.UniqueName("durable"),
		DurableCalculator: func(prefix, topic string) string {
			return prefix + "_" + topic
		},
	}
	pub, err := wmnats.NewPublisher(wmnats.PublisherConfig{URL: natsURL, JetStream: jsCfg}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, pub)
	return pub, func() message.Subscriber {
		sub, err := wmnats.NewSubscriber(wmnats.SubscriberConfig{
			URL:              natsURL,
			SubscribersCount: 1,
			AckWaitTimeout:   10 * time.Second,
			CloseTimeout:     10 * time.Second,
			JetStream:        jsCfg,
		}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		return sub // the router closes it
	}
}

func setupPostgres(t *testing.T, topics []string) (message.Publisher, func() message.Subscriber) {
	servicetest.RequireReachable(t, "PostgreSQL", postgresAddr)
	var db *stdsql.DB
	var errs []error
	for _, user := range []string{"postgres", "root"} {
		d, err := stdsql.Open("pgx", fmt.Sprintf("postgres://%s@%s/test?sslmode=disable&connect_timeout=5", user, postgresAddr))
		if err == nil {
			if err = d.Ping(); err == nil {
				db = d
				break
			}
			_ = d.Close()
		}
		errs = append(errs, fmt.Errorf("user %s: %w", user, err))
	}
	if db == nil {
		servicetest.SkipOrFail(t, "PostgreSQL at %s, database test: %v", postgresAddr, errs)
	}
	schema := &wmsql.DefaultPostgreSQLSchema{}
	offsets := wmsql.DefaultPostgreSQLOffsetsAdapter{}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, topic := range topics {
			for _, table := range []string{schema.MessagesTable(topic), offsets.MessagesOffsetsTable(topic)} {
				if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
					t.Errorf("dropping %s: %v", table, err)
				}
			}
		}
		_ = db.Close()
	})
	pub, err := wmsql.NewPublisher(wmsql.BeginnerFromStdSQL(db), wmsql.PublisherConfig{SchemaAdapter: schema, AutoInitializeSchema: true}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, pub)
	group := servicetest.UniqueName("group")
	return pub, func() message.Subscriber {
		sub, err := wmsql.NewSubscriber(wmsql.BeginnerFromStdSQL(db), wmsql.SubscriberConfig{
			ConsumerGroup:    group,
			PollInterval:     20 * time.Millisecond,
			ResendInterval:   20 * time.Millisecond,
			SchemaAdapter:    schema,
			OffsetsAdapter:   offsets,
			InitializeSchema: true,
		}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		return sub // the router closes it
	}
}

// closeOnCleanup closes c when the test ends, after the router (whose
// cleanup is registered later, so runs earlier).
func closeOnCleanup(t *testing.T, c interface{ Close() error }) {
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.Close()
		}()
		select {
		case <-done:
		case <-time.After(telemetrytest.WaitTimeout):
			t.Errorf("%T did not close within %s", c, telemetrytest.WaitTimeout)
		}
	})
}

// TestTraceFromHTTPThroughTwoHandlers runs, for every backend: an HTTP
// request whose handler publishes a message; a router handler that returns
// a message; a second handler that consumes it. One trace must hold it all,
// each span the child of the one before.
func TestTraceFromHTTPThroughTwoHandlers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			runHTTPToTwoHandlers(t, b)
		})
	}
}

func runHTTPToTwoHandlers(t *testing.T, b backend) {
	tr := telemetrytest.New(t)
	topicA, topicB := servicetest.UniqueName("orders"), servicetest.UniqueName("invoices")
	pub, newSub := b.setup(t, []string{topicA, topicB})
	opts := tr.Options(asynctrace.WithMessagingSystem(b.system))

	r := watermilltest.NewRouter(t)
	r.AddMiddleware(watermilltrace.NewMiddleware(opts...))
	r.AddPublisherDecorators(watermilltrace.NewPublisherDecorator(opts...))
	r.AddHandler("bill", topicA, newSub(), topicB, pub, func(msg *message.Message) ([]*message.Message, error) {
		return []*message.Message{message.NewMessage(watermill.NewUUID(), []byte(`{"invoice":1}`))}, nil
	})
	last := make(chan handled, 1)
	r.AddConsumerHandler("archive", topicB, newSub(), func(msg *message.Message) error {
		select {
		case last <- handled{span: trace.SpanContextFromContext(msg.Context()), msg: msg}:
		default: // a redelivery; the first one is what the test checks
		}
		return nil
	})
	watermilltest.StartRouter(t, r)

	tracedPub := watermilltrace.WrapPublisher(pub, opts...)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, req *http.Request) {
		msg := message.NewMessageWithContext(req.Context(), watermill.NewUUID(), []byte(`{"order":1}`))
		if err := tracedPub.Publish(topicA, msg); err != nil {
			t.Errorf("publishing from the HTTP handler: %v", err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewServer(httptrace.WrapHandler(mux, tr.Options()...))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{}, Timeout: telemetrytest.WaitTimeout}
	t.Cleanup(client.CloseIdleConnections)

	resp, err := client.Post(srv.URL+"/orders", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /orders: %s", resp.Status)
	}
	got := telemetrytest.Recv(t, last, "message in the second handler")

	server := serverSpan(t, tr)
	send1 := tr.WaitEnded(t, "send "+topicA, 1)[0]
	proc1 := tr.WaitEnded(t, "process "+topicA, 1)[0]
	send2 := tr.WaitEnded(t, "send "+topicB, 1)[0]
	proc2 := tr.WaitEnded(t, "process "+topicB, 1)[0]
	tr.CheckChain(t, server.Name()+"/server", send1.Name()+"/producer", proc1.Name()+"/consumer", send2.Name()+"/producer", proc2.Name()+"/consumer")
	if got.span.SpanID() != proc2.SpanContext().SpanID() || got.span.TraceID() != server.SpanContext().TraceID() {
		t.Errorf("second handler runs in span %s of trace %s, want %s of trace %s",
			got.span.SpanID(), got.span.TraceID(), proc2.SpanContext().SpanID(), server.SpanContext().TraceID())
	}
	for _, s := range []sdktrace.ReadOnlySpan{send1, proc1, send2, proc2} {
		if got := telemetrytest.AttrString(s, "messaging.system"); got != b.system {
			t.Errorf("%s: messaging.system %s, want %s", s.Name(), got, b.system)
		}
	}
	if telemetrytest.AttrString(proc1, "watermill.handler.name") != "bill" || telemetrytest.AttrString(proc2, "watermill.handler.name") != "archive" {
		t.Errorf("handler names %s, %s", telemetrytest.AttrString(proc1, "watermill.handler.name"), telemetrytest.AttrString(proc2, "watermill.handler.name"))
	}
	if telemetrytest.AttrString(proc2, "messaging.message.id") != got.msg.UUID {
		t.Errorf("process span message id %s, want %s", telemetrytest.AttrString(proc2, "messaging.message.id"), got.msg.UUID)
	}
}

func serverSpan(t *testing.T, tr *telemetrytest.Telemetry) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(telemetrytest.WaitTimeout)
	for time.Now().Before(deadline) {
		for _, s := range tr.Recorder.Ended() {
			if s.SpanKind() == trace.SpanKindServer {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no HTTP server span; ended: %v", telemetrytest.SpanNames(tr.Recorder.Ended()))
	return nil
}

// TestWrapSubscriberOverBackends reads a subscriber's channel directly, for
// every backend: the message's context carries its process span, a child
// of the send span, which ends when the message is acked.
func TestWrapSubscriberOverBackends(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			tr := telemetrytest.New(t)
			topic := servicetest.UniqueName("jobs")
			pub, newSub := b.setup(t, []string{topic})
			opts := tr.Options(asynctrace.WithMessagingSystem(b.system))
			sub := watermilltrace.WrapSubscriber(newSub(), opts...)
			closeOnCleanup(t, sub)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			msgs, err := sub.Subscribe(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}

			pctx, root := tr.Root(context.Background(), "request")
			if err := watermilltrace.WrapPublisher(pub, opts...).Publish(topic, message.NewMessageWithContext(pctx, watermill.NewUUID(), []byte(`{"job":1}`))); err != nil {
				t.Fatal(err)
			}
			root.End()
			msg := telemetrytest.Recv(t, msgs, "message")
			inHandler := trace.SpanContextFromContext(msg.Context())
			msg.Ack()

			send := tr.WaitEnded(t, "send "+topic, 1)[0]
			proc := tr.WaitEnded(t, "process "+topic, 1)[0]
			if !proc.SpanContext().Equal(inHandler) {
				t.Errorf("the message's context does not carry its process span")
			}
			if proc.Parent().SpanID() != send.SpanContext().SpanID() || proc.SpanContext().TraceID() != root.SpanContext().TraceID() {
				t.Errorf("process span: parent %s in trace %s, want send %s in trace %s",
					proc.Parent().SpanID(), proc.SpanContext().TraceID(), send.SpanContext().SpanID(), root.SpanContext().TraceID())
			}
			if got := telemetrytest.AttrString(proc, "asynctrace.message.settlement"); got != "ack" {
				t.Errorf("settlement %s, want ack", got)
			}
			if got := telemetrytest.AttrString(proc, "messaging.system"); got != b.system {
				t.Errorf("messaging.system %s, want %s", got, b.system)
			}
		})
	}
}

// handled is what a test handler saw.
type handled struct {
	span trace.SpanContext
	msg  *message.Message
}
