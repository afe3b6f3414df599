package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/redis/go-redis/v9"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

// embeddedBrokers are the in-process stand-ins for Pulsar and Pub/Sub.
type embeddedBrokers struct {
	pulsar *pulsartest.Server
	pubsub *pstest.Server
}

// startEmbeddedBrokers starts the embedded Pulsar broker unless pulsarURL
// names a real one, and pstest unless pubsubAddr names an emulator.
func startEmbeddedBrokers(pulsarURL, pubsubAddr string) (*embeddedBrokers, error) {
	b := &embeddedBrokers{}
	if pulsarURL == "" {
		srv, err := pulsartest.Start()
		if err != nil {
			return nil, fmt.Errorf("starting the embedded Pulsar broker: %w", err)
		}
		b.pulsar = srv
	}
	if pubsubAddr == "" {
		b.pubsub = pstest.NewServerWithAddress("127.0.0.1:0")
	}
	return b, nil
}

// PulsarURL returns the embedded broker's URL, or fallback without one.
func (b *embeddedBrokers) PulsarURL(fallback string) string {
	if b.pulsar != nil {
		return b.pulsar.URL()
	}
	return fallback
}

// PubSubAddr returns pstest's address, or fallback without it.
func (b *embeddedBrokers) PubSubAddr(fallback string) string {
	if b.pubsub != nil {
		return b.pubsub.Addr
	}
	return fallback
}

func (b *embeddedBrokers) Close() error {
	var errs []error
	if b.pubsub != nil {
		errs = append(errs, b.pubsub.Close())
	}
	if b.pulsar != nil {
		errs = append(errs, b.pulsar.Close())
	}
	return errors.Join(errs...)
}

// libraryLogger is where the broker clients log: warnings and errors only,
// so that the trace stays the first thing a person sees.
func libraryLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newPulsarClient(url string) (pulsar.Client, error) {
	if url == "" {
		return nil, errors.New("no Pulsar URL: set PULSAR_URL (or start --role brokers to get one)")
	}
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               url,
		ConnectionTimeout: 5 * time.Second,
		OperationTimeout:  10 * time.Second,
		Logger:            pulsarlog.NewLoggerWithSlog(libraryLogger()),
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to Pulsar at %s: %w", url, err)
	}
	return c, nil
}

// newPubSubClient connects to the Pub/Sub emulator (or pstest) at addr.
func newPubSubClient(ctx context.Context, project, addr string) (*pubsub.Client, error) {
	if addr == "" {
		return nil, errors.New("no Pub/Sub emulator: set PUBSUB_EMULATOR_HOST (or start --role brokers to get one)")
	}
	c, err := pubsub.NewClient(ctx, project,
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithTelemetryDisabled(),
	)
	if err != nil {
		return nil, fmt.Errorf("connecting to Pub/Sub at %s: %w", addr, err)
	}
	return c, nil
}

func pubsubTopicName(t topology) string {
	return "projects/" + t.PubSubProject + "/topics/" + t.NotificationsTopic
}

func pubsubSubscriptionName(t topology) string {
	return "projects/" + t.PubSubProject + "/subscriptions/" + t.NotificationsSub
}

// ensurePubSub creates the notifications topic, and with subscription its
// subscription, unless they exist. Several services may race to do it.
func ensurePubSub(ctx context.Context, c *pubsub.Client, t topology, subscription bool) error {
	// The client keeps retrying an emulator that is not there.
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: pubsubTopicName(t)})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("creating Pub/Sub topic %s: %w", pubsubTopicName(t), err)
	}
	if !subscription {
		return nil
	}
	_, err = c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               pubsubSubscriptionName(t),
		Topic:              pubsubTopicName(t),
		AckDeadlineSeconds: 30,
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("creating Pub/Sub subscription %s: %w", pubsubSubscriptionName(t), err)
	}
	return nil
}

// newRedisPublisher and newRedisSubscriber carry Watermill messages over
// Redis Streams. Each owns its Redis client and closes it.
func newRedisPublisher(ctx context.Context, addr string) (message.Publisher, error) {
	rdb, err := connectRedis(ctx, addr)
	if err != nil {
		return nil, err
	}
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: rdb}, watermillLogger())
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return pub, nil
}

func newRedisSubscriber(ctx context.Context, addr, group string) (message.Subscriber, error) {
	rdb, err := connectRedis(ctx, addr)
	if err != nil {
		return nil, err
	}
	sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client:        rdb,
		ConsumerGroup: group,
		// A short block keeps Close prompt.
		BlockTime:                     200 * time.Millisecond,
		DisableIndefiniteInitialBlock: true,
	}, watermillLogger())
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return sub, nil
}

func connectRedis(ctx context.Context, addr string) (*redis.Client, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("connecting to Redis at %s: %w", addr, err)
	}
	return rdb, nil
}

func watermillLogger() watermill.LoggerAdapter {
	return watermill.NewSlogLogger(libraryLogger())
}
