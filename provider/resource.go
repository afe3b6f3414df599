package provider

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// newResource builds the resource shared by all signals. Later sources win
// over earlier ones: detected SDK, host and process facts, then the options,
// then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME. The semconv version
// is the one the SDK's detectors use, so merging never meets a schema URL
// conflict.
func newResource(ctx context.Context, c *config) (*resource.Resource, error) {
	// Validate the environment on its own first: a malformed
	// OTEL_RESOURCE_ATTRIBUTES must fail Start, while a detector that cannot
	// read, say, the host name must not.
	if _, err := resource.New(ctx, resource.WithFromEnv()); err != nil {
		return nil, invalidf("OTEL_RESOURCE_ATTRIBUTES: %v (want key=value pairs separated by commas, "+
			"values percent-encoded, e.g. team=payments,region=eu)", err)
	}

	var attrs []attribute.KeyValue
	if c.serviceName != "" {
		attrs = append(attrs, semconv.ServiceName(c.serviceName))
	}
	if c.serviceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(c.serviceVersion))
	}
	if c.environment != "" {
		attrs = append(attrs, semconv.DeploymentEnvironmentNameKey.String(c.environment))
	}
	attrs = append(attrs, c.attrs...)

	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		// WithService supplies the specification's unknown_service:<exe>
		// fallback and a service.instance.id; anything below overrides it.
		resource.WithService(),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithOSType(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("provider: build resource: %w", err)
	}
	if res == nil {
		return nil, fmt.Errorf("provider: build resource: %w", err)
	}
	return res, nil
}
