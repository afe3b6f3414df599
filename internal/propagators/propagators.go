// Package propagators decides which propagator carries trace context when
// the user chose none: the global one once it is installed, W3C Trace
// Context and Baggage until then.
//
// OpenTelemetry's global propagator is a no-op until a service installs one.
// Many services install a tracer provider and forget the propagator; falling
// back to that no-op would silently break every trace at the first broker
// hop, which is the one thing asynctrace exists to prevent.
package propagators

import (
	"context"
	"reflect"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// W3C is the propagator used while no global one is installed.
var W3C propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// unset is OpenTelemetry's own global propagator as it was when this
// package was initialised, or nil if a service had already installed
// another one. otel.GetTextMapPropagator keeps returning that value until
// otel.SetTextMapPropagator replaces it, so comparing with it tells whether
// one was installed. It is a pointer, so the comparison cannot panic on a
// non-comparable propagator type.
var unset = func() propagation.TextMapPropagator {
	p := otel.GetTextMapPropagator()
	if p == nil || reflect.TypeOf(p).Kind() != reflect.Pointer || len(p.Fields()) != 0 {
		return nil
	}
	return p
}()

// Global returns the global propagator, or [W3C] while none is installed.
func Global() propagation.TextMapPropagator {
	p := otel.GetTextMapPropagator()
	if unset != nil && p == unset {
		return W3C
	}
	return p
}

// Resolve returns p, or [Global] when p is nil.
func Resolve(p propagation.TextMapPropagator) propagation.TextMapPropagator {
	if p != nil {
		return p
	}
	return Global()
}

// Dynamic is a propagator that is [Global] at the time of each call, for
// code that takes one propagator value when it is built (otelhttp) while
// the service may install its own later.
type Dynamic struct{}

// Inject injects with the propagator [Global] returns now.
func (Dynamic) Inject(ctx context.Context, c propagation.TextMapCarrier) { Global().Inject(ctx, c) }

// Extract extracts with the propagator [Global] returns now.
func (Dynamic) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	return Global().Extract(ctx, c)
}

// Fields lists the fields of the propagator [Global] returns now.
func (Dynamic) Fields() []string { return Global().Fields() }
