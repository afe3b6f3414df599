package main

import tracetree "github.com/asynctrace/asynctrace/tracecheck"

// expectedTrace is the trace one job leaves behind: the gateway's server
// span is the root, and every consumer's process span is a child of the
// send span of the service before it. watermillSystem is the
// messaging.system of the Watermill hop ("watermill" for a GoChannel,
// "redis" for Redis Streams).
func expectedTrace(t topology, watermillSystem string) tracetree.Expectation {
	server := tracetree.SpanRef{Service: t.GatewayService, Name: "POST /v1/process"}
	sendJobs := tracetree.SpanRef{Service: t.GatewayService, Name: "send " + t.JobsTopic}
	processJobs := tracetree.SpanRef{Service: t.WorkerService, Name: "process " + t.JobsTopic}
	sendEvents := tracetree.SpanRef{Service: t.WorkerService, Name: "send " + t.EventsTopic}
	processEvents := tracetree.SpanRef{Service: t.RouterService, Name: "process " + t.EventsTopic}
	sendNotifications := tracetree.SpanRef{Service: t.RouterService, Name: "send " + t.NotificationsTopic}
	processNotifications := tracetree.SpanRef{Service: t.NotifierService, Name: "process " + t.NotificationsSub}
	completeJob := tracetree.SpanRef{Service: t.NotifierService, Name: "complete job"}

	span := func(ref tracetree.SpanRef, kind string, parent tracetree.SpanRef, attrs map[string]string) tracetree.ExpectedSpan {
		return tracetree.ExpectedSpan{Service: ref.Service, Name: ref.Name, Kind: kind, Parent: parent, Attributes: attrs}
	}
	return tracetree.Expectation{Spans: []tracetree.ExpectedSpan{
		span(server, tracetree.KindServer, tracetree.SpanRef{}, map[string]string{
			"http.request.method":       "POST",
			"http.route":                "/v1/process",
			"http.response.status_code": "202",
		}),
		span(sendJobs, tracetree.KindProducer, server, map[string]string{
			"messaging.system":           "pulsar",
			"messaging.operation.type":   "send",
			"messaging.destination.name": t.JobsTopic,
			"messaging.message.id":       "",
			"server.address":             "127.0.0.1",
		}),
		span(processJobs, tracetree.KindConsumer, sendJobs, map[string]string{
			"messaging.system":                        "pulsar",
			"messaging.operation.type":                "process",
			"messaging.destination.name":              t.JobsTopic,
			"messaging.destination.subscription.name": t.JobsSubscription,
			"messaging.message.id":                    "",
		}),
		span(sendEvents, tracetree.KindProducer, processJobs, map[string]string{
			"messaging.system":           watermillSystem,
			"messaging.operation.type":   "send",
			"messaging.destination.name": t.EventsTopic,
		}),
		span(processEvents, tracetree.KindConsumer, sendEvents, map[string]string{
			"messaging.system":           watermillSystem,
			"messaging.operation.type":   "process",
			"messaging.destination.name": t.EventsTopic,
			"watermill.handler.name":     t.RouterHandler,
		}),
		span(sendNotifications, tracetree.KindProducer, processEvents, map[string]string{
			"messaging.system":           "gcp_pubsub",
			"messaging.operation.type":   "send",
			"messaging.destination.name": t.NotificationsTopic,
			"messaging.message.id":       "",
		}),
		span(processNotifications, tracetree.KindConsumer, sendNotifications, map[string]string{
			"messaging.system":                        "gcp_pubsub",
			"messaging.operation.type":                "process",
			"messaging.destination.subscription.name": t.NotificationsSub,
			"messaging.message.id":                    "",
		}),
		span(completeJob, tracetree.KindInternal, processNotifications, map[string]string{
			string(jobIDKey): "",
		}),
	}}
}
