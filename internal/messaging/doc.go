// Package messaging is the messaging-instrumentation core shared by every
// broker adapter of asynctrace. The adapters translate broker concepts
// (topic, subscription, message id, ack) into calls on an [Instrumenter];
// everything that is the same for every broker lives here once: span names
// and kinds, the OpenTelemetry messaging semantic conventions, the choice
// between parent and link, error recording, option handling and the
// messaging metrics.
//
// A send:
//
//	ctx, op, props := in.StartSend(ctx, dest, props, len(payload))
//	id, err := client.Send(ctx, payload, props)
//	op.End(id, err)
//
// A received message:
//
//	ctx, op := in.StartProcess(ctx, dest, props, id, len(payload))
//	err := handler(ctx, msg)
//	op.End(SettleAck, err)
package messaging
