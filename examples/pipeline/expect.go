package main

import "github.com/asynctrace/asynctrace/tracecheck"

// expectedTrace is the trace one job leaves behind: the gateway's server
// span is the root, and every consumer's process span is a child of the
// send span of the service before it. watermillSystem is the
// messaging.system of the Watermill hop ("watermill" for a GoChannel,
// "redis" for Redis Streams).
func expectedTrace(t topology, watermillSystem string) tracecheck.Expectation {
	server := tracecheck.SpanRef{Service: t.GatewayService, Name: "POST /v1/process"}
	sendJobs := tracecheck.SpanRef{Service: t.GatewayService, Name: "send " + t.JobsTopic}
	processJobs := tracecheck.SpanRef{Service: t.WorkerService, Name: "process " + t.JobsTopic}
	sendEvents := tracecheck.SpanRef{Service: t.WorkerService, Name: "send " + t.EventsTopic}
	processEvents := tracecheck.SpanRef{Service: t.RouterService, Name: "process " + t.EventsTopic}
	sendNotifications := tracecheck.SpanRef{Service: t.RouterService, Name: "send " + t.NotificationsTopic}
	processNotifications := tracecheck.SpanRef{Service: t.NotifierService, Name: "process " + t.NotificationsSub}
	completeJob := tracecheck.SpanRef{Service: t.NotifierService, Name: "complete job"}

	span := func(ref tracecheck.SpanRef, kind string, parent tracecheck.SpanRef, attrs map[string]string) tracecheck.ExpectedSpan {
		return tracecheck.ExpectedSpan{Service: ref.Service, Name: ref.Name, Kind: kind, Parent: parent, Attributes: attrs}
	}
	return tracecheck.Expectation{Spans: []tracecheck.ExpectedSpan{
		span(server, tracecheck.KindServer, tracecheck.SpanRef{}, map[string]string{
			"http.request.method":       "POST",
			"http.route":                "/v1/process",
			"http.response.status_code": "202",
		}),
		span(sendJobs, tracecheck.KindProducer, server, map[string]string{
			"messaging.system":           "pulsar",
			"messaging.operation.type":   "send",
			"messaging.destination.name": t.JobsTopic,
			"messaging.message.id":       "",
			"server.address":             "127.0.0.1",
		}),
		span(processJobs, tracecheck.KindConsumer, sendJobs, map[string]string{
			"messaging.system":                        "pulsar",
			"messaging.operation.type":                "process",
			"messaging.destination.name":              t.JobsTopic,
			"messaging.destination.subscription.name": t.JobsSubscription,
			"messaging.message.id":                    "",
		}),
		span(sendEvents, tracecheck.KindProducer, processJobs, map[string]string{
			"messaging.system":           watermillSystem,
			"messaging.operation.type":   "send",
			"messaging.destination.name": t.EventsTopic,
		}),
		span(processEvents, tracecheck.KindConsumer, sendEvents, map[string]string{
			"messaging.system":           watermillSystem,
			"messaging.operation.type":   "process",
			"messaging.destination.name": t.EventsTopic,
			"watermill.handler.name":     t.RouterHandler,
		}),
		span(sendNotifications, tracecheck.KindProducer, processEvents, map[string]string{
			"messaging.system":           "gcp_pubsub",
			"messaging.operation.type":   "send",
			"messaging.destination.name": t.NotificationsTopic,
			"messaging.message.id":       "",
		}),
		span(processNotifications, tracecheck.KindConsumer, sendNotifications, map[string]string{
			"messaging.system":                        "gcp_pubsub",
			"messaging.operation.type":                "process",
			"messaging.destination.subscription.name": t.NotificationsSub,
			"messaging.message.id":                    "",
		}),
		span(completeJob, tracecheck.KindInternal, processNotifications, map[string]string{
			string(jobIDKey): "",
		}),
	}}
}
