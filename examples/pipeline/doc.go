// Command pipeline follows one request across HTTP, Apache Pulsar, Watermill
// and Google Cloud Pub/Sub and prints the single trace that connects them.
//
//	curl POST /v1/process
//	   │
//	   ▼
//	gateway ──── Pulsar "jobs" ────► job-worker ──── Watermill "job-events" ────►
//	(httptrace,   (pulsartrace)      (pulsartrace     (watermilltrace)
//	 pulsartrace)                     consumer)
//
//	    event-router ──── Pub/Sub "notifications" ────► notifier
//	    (watermilltrace     (pubsubtrace)               (pubsubtrace handler:
//	     middleware)                                      completes the job)
//
// gateway, job-worker, event-router and notifier are four services, each
// with its own service.name, as they would be deployed. The trace that results,
// as the command prints it:
//
//	SPAN                                            SERVICE       KIND
//	POST /v1/process                                gateway       server
//	`- send jobs                                    gateway       producer
//	   `- process jobs                              job-worker    consumer
//	      `- send job-events                        job-worker    producer
//	         `- process job-events                  event-router  consumer
//	            `- send notifications               event-router  producer
//	               `- process notifications-sender  notifier      consumer
//	                  `- complete job               notifier      internal
//
// Besides the names and kinds, the tests check these attributes
// (expect.go): on the server span http.request.method, http.route and
// http.response.status_code; on every send and process span
// messaging.system (pulsar; watermill for a GoChannel or redis for Redis
// Streams; gcp_pubsub), messaging.operation.type and the destination
// (messaging.destination.name, or messaging.destination.subscription.name
// for the Pub/Sub process span); the broker's message id where the broker
// assigns one; server.address on the Pulsar send span;
// watermill.handler.name on the router's process span; and
// app.job.id on "complete job".
//
// # Run it
//
//	cd examples && go run ./pipeline
//
// starts every service in one process on embedded brokers (an in-process
// Pulsar broker from pulsartrace/pulsartest, a Watermill GoChannel and the
// Pub/Sub fake server pstest), sends one request to itself, waits until the
// notifier has completed the job and prints the trace as a tree with each
// span's service, kind, duration and status. It exits with status 1 and says
// what is missing when the job does not complete within --timeout (30 s).
// With --serve it keeps running and prints the trace of every job that a
// command like this one submits:
//
//	curl -i -X POST -d '{"input":"hello"}' http://127.0.0.1:8080/v1/process
//
// The response carries the trace id in its traceresponse header.
//
// # Real brokers and backends
//
// Each hop can use a real broker instead of the embedded one:
//
//	PULSAR_URL=pulsar://127.0.0.1:6650       Pulsar broker
//	WATERMILL_REDIS_ADDR=127.0.0.1:6379      Watermill over Redis Streams (or --redis)
//	PUBSUB_EMULATOR_HOST=127.0.0.1:8085      Pub/Sub emulator
//
// With OTEL_EXPORTER_OTLP_ENDPOINT set (for example http://127.0.0.1:4318)
// the spans are also exported over OTLP to Jaeger, Tempo or a collector; the
// other OTEL_* variables the provider package reads apply too, except that
// OTEL_SERVICE_NAME would give all four services one name in this
// single-process mode.
//
// # One process per service
//
// --role runs one service per process, as in production:
//
//	pipeline --role brokers            # Pub/Sub (pstest), and Pulsar (pulsartest) unless PULSAR_URL is set; prints their addresses
//	pipeline --role gateway            # HTTP on --addr (127.0.0.1:8080)
//	pipeline --role pulsar-consumer    # job-worker
//	pipeline --role watermill-router   # event-router
//	pipeline --role pubsub-consumer    # notifier; prints "job <id> done trace <trace-id>"
//
// A standalone Pulsar for the roles, with an admin API, is the pulsartest
// command:
//
//	go run github.com/asynctrace/asynctrace/pulsartrace/pulsartest/cmd/pulsartest --listen 127.0.0.1:6650 --admin 127.0.0.1:8080
//	PULSAR_URL=pulsar://127.0.0.1:6650 pipeline --role brokers
//
// The service roles find the brokers through PULSAR_URL and
// PUBSUB_EMULATOR_HOST, and Watermill crosses processes over Redis Streams
// (WATERMILL_REDIS_ADDR, default 127.0.0.1:6379). Each role exports its spans
// as configured by the OTEL_* variables (OTEL_SERVICE_NAME renames it) and
// flushes them when it stops on SIGINT or SIGTERM. scripts/e2e.sh runs the
// roles this way against a real Jaeger and checks the stored trace.
package main
