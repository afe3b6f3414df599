package otlptest

import (
	"context"
	"net"
	"net/http"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Full gRPC method names, as recorded in [Request.Path] for calls received
// over gRPC.
const (
	GRPCTracesMethod  = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	GRPCMetricsMethod = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
	GRPCLogsMethod    = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// grpcReceiver serves the three OTLP gRPC services on their own listener.
type grpcReceiver struct {
	srv    *grpc.Server
	addr   string
	served chan struct{}
}

func startGRPC(s *Server) *grpcReceiver {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("otlptest: listen for gRPC on a loopback port: " + err.Error())
	}
	g := &grpcReceiver{srv: grpc.NewServer(), addr: lis.Addr().String(), served: make(chan struct{})}
	coltracepb.RegisterTraceServiceServer(g.srv, traceService{s: s})
	colmetricpb.RegisterMetricsServiceServer(g.srv, metricsService{s: s})
	collogspb.RegisterLogsServiceServer(g.srv, logsService{s: s})
	go func() {
		defer close(g.served)
		_ = g.srv.Serve(lis)
	}()
	return g
}

func (g *grpcReceiver) stop() {
	g.srv.Stop()
	<-g.served
}

// GRPCAddr returns the gRPC listening address as host:port, or "" without
// [WithGRPC].
func (s *Server) GRPCAddr() string {
	if s.grpc == nil {
		return ""
	}
	return s.grpc.addr
}

// GRPCURL returns "http://" + [Server.GRPCAddr], the form expected by
// OTEL_EXPORTER_OTLP_ENDPOINT together with OTEL_EXPORTER_OTLP_PROTOCOL=grpc,
// or "" without [WithGRPC].
func (s *Server) GRPCURL() string {
	if s.grpc == nil {
		return ""
	}
	return "http://" + s.grpc.addr
}

// admit records a gRPC call and applies the mode; a nil error means the
// request is to be stored and acknowledged.
func (s *Server) admit(ctx context.Context, method string) error {
	h := http.Header{}
	md, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range md {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	switch s.addRequest(Request{Method: http.MethodPost, Path: method, Header: h}) {
	case Hang:
		select {
		case <-ctx.Done():
		case <-s.closing:
		}
		return status.Error(codes.Unavailable, "otlptest: hanging")
	case Reject:
		// InvalidArgument is not retried by OTLP exporters.
		return status.Error(codes.InvalidArgument, "otlptest: rejecting request")
	}
	return nil
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	s *Server
}

func (t traceService) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	if err := t.s.admit(ctx, GRPCTracesMethod); err != nil {
		return nil, err
	}
	t.s.addSpans(spansFrom(req))
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	s *Server
}

func (m metricsService) Export(ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	if err := m.s.admit(ctx, GRPCMetricsMethod); err != nil {
		return nil, err
	}
	m.s.addMetrics(metricsFrom(req))
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	s *Server
}

func (l logsService) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	if err := l.s.admit(ctx, GRPCLogsMethod); err != nil {
		return nil, err
	}
	l.s.addLogs(logsFrom(req))
	return &collogspb.ExportLogsServiceResponse{}, nil
}
