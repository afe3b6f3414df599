package messaging

// Version is the version of asynctrace, reported as the instrumentation
// scope version of every tracer and meter it creates.
const Version = "1.0.0"
