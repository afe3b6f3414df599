// Package watermillbackends runs watermilltrace over the real Watermill
// backends (Redis Streams, RabbitMQ, NATS JetStream, PostgreSQL) and the
// real servers on the machine. It holds tests only; it lives in its own
// module so that the library's go.mod names none of those backends.
package watermillbackends
