package pulsartest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"

	"github.com/asynctrace/asynctrace/pulsartrace/pulsartest"
)

func Example() {
	srv, err := pulsartest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: srv.URL(), Logger: plog.DefaultNopLogger()})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	consumer, err := client.Subscribe(pulsar.ConsumerOptions{Topic: "greetings", SubscriptionName: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Close()
	producer, err := client.CreateProducer(pulsar.ProducerOptions{Topic: "greetings"})
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := producer.Send(ctx, &pulsar.ProducerMessage{
		Payload:    []byte("hello"),
		Properties: map[string]string{"lang": "en"},
	}); err != nil {
		log.Fatal(err)
	}
	msg, err := consumer.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("received %s (lang=%s)\n", msg.Payload(), msg.Properties()["lang"])
	if err := consumer.Ack(msg); err != nil {
		log.Fatal(err)
	}

	// What the broker stored, as a test would check it.
	for _, m := range srv.Messages("greetings") {
		fmt.Printf("stored on %s: %s %v\n", m.Topic, m.Payload, m.Properties)
	}
	// Output:
	// received hello (lang=en)
	// stored on persistent://public/default/greetings: hello map[lang:en]
}
