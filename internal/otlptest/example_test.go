package otlptest_test

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/asynctrace/asynctrace/internal/otlptest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func Example() {
	srv := otlptest.NewServer()
	defer srv.Close()

	ctx := context.Background()
	u, _ := url.Parse(srv.URL())
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithInsecure())
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))),
	)
	_, span := tp.Tracer("example").Start(ctx, "send orders")
	span.End()
	_ = tp.Shutdown(ctx)

	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	spans, err := srv.WaitSpans(wctx, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spans[0].ServiceName(), spans[0].Name)
	// Output: checkout send orders
}
