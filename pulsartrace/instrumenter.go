package pulsartrace

import (
	"github.com/asynctrace/asynctrace/carrier"
	"github.com/asynctrace/asynctrace/internal/config"
	"github.com/asynctrace/asynctrace/internal/messaging"
)

// ScopeName is the instrumentation scope of the spans and metrics this
// package creates.
const ScopeName = "github.com/asynctrace/asynctrace/pulsartrace"

// system is the messaging.system value of the semantic conventions for
// Apache Pulsar.
const system = "pulsar"

func newInstrumenter(cfg config.Shared) *messaging.Instrumenter {
	// Properties travel in the message's metadata, which counts with the
	// payload toward the broker's maximum message size.
	return messaging.New(messaging.Spec{Scope: ScopeName, System: system, Limits: carrier.PulsarLimits, Settlement: messaging.PulsarVocabulary}, cfg)
}
