package pulsartest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Server is an in-process Pulsar broker: the binary protocol on one TCP
// address and the admin REST API on another. All methods are safe for
// concurrent use.
type Server struct {
	ln       net.Listener
	url      string
	adminLn  net.Listener
	adminURL string
	http     *http.Server
	log      *slog.Logger
	cfg      config
	done     chan struct{}
	closed   sync.Once
	wg       sync.WaitGroup

	// mu guards all broker state below and the per-connection producer and
	// consumer tables. One lock keeps dispatch, acks and inspection
	// consistent; the broker is built for tests, not for throughput.
	mu          sync.Mutex
	conns       map[*conn]struct{}
	topics      map[string]*topic     // by full name, partitions included
	partitioned map[string]int        // partitioned base topic name → partitions
	schemas     map[string]*schemaLog // by topic name without partition suffix
	tenants     map[string]*tenantInfo
	namespaces  map[string]*namespaceInfo          // "tenant/ns"
	topicQuotas map[string]map[string]backlogQuota // base topic name → quota type → quota
	nextLedger  uint64
	nextConnID  uint64
	nextProdNum uint64
	faults      faults
}

// Start starts a broker, by default on 127.0.0.1 with free ports for the
// binary protocol and the admin API. Close it when done.
func Start(opts ...Option) (*Server, error) {
	cfg := newConfig(opts)
	s := &Server{
		log:         cfg.logger,
		cfg:         cfg,
		done:        make(chan struct{}),
		conns:       map[*conn]struct{}{},
		topics:      map[string]*topic{},
		partitioned: map[string]int{},
		schemas:     map[string]*schemaLog{},
		tenants:     map[string]*tenantInfo{},
		namespaces:  map[string]*namespaceInfo{},
		topicQuotas: map[string]map[string]backlogQuota{},
		nextLedger:  1,
	}
	// A standalone broker starts with these.
	s.ensureNamespaceLocked("public/default")
	for name, n := range cfg.partitioned {
		if err := s.CreatePartitionedTopic(name, n); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.listenAddr)
	if err != nil {
		return nil, fmt.Errorf("pulsartest: listen: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.adminAddr)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("pulsartest: listen for admin API: %w", err)
	}
	s.ln = ln
	s.url = "pulsar://" + advertised(ln.Addr())
	s.adminLn = adminLn
	s.adminURL = "http://" + advertised(adminLn.Addr())
	s.http = &http.Server{
		Handler:           s.adminHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(2)
	go s.acceptLoop()
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("pulsartest: admin API stopped", "err", err)
		}
	}()
	return s, nil
}

// advertised turns a listening address into one clients can dial: a
// wildcard host becomes 127.0.0.1.
func advertised(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// NewServer starts a broker for the test and closes it in tb.Cleanup. It
// fails the test if the broker cannot start.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatalf("pulsartest: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// URL returns the service URL to give to pulsar.ClientOptions.URL,
// "pulsar://127.0.0.1:PORT".
func (s *Server) URL() string { return s.url }

// Addr returns the listening address of the binary protocol,
// "127.0.0.1:PORT" by default.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// AdminURL returns the base URL of the admin REST API, such as
// "http://127.0.0.1:PORT". Give it to the pulsaradmin client as its
// WebServiceURL, or to pulsar.ClientOptions.URL to look topics up over
// HTTP.
func (s *Server) AdminURL() string { return s.adminURL }

// AdminAddr returns the listening address of the admin REST API.
func (s *Server) AdminAddr() string { return s.adminLn.Addr().String() }

// Close stops accepting connections, closes every client connection and
// waits for the server's goroutines to end. Stored messages stay
// inspectable. Close is idempotent.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.done)
		err = s.ln.Close()
		// Close, not Shutdown: a long-polling or stuck request must not
		// keep Close from returning.
		_ = s.http.Close()
		s.mu.Lock()
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.close()
		}
		// Closing connections dispatches to the remaining consumers, which
		// may arm delayed-delivery timers; stop them last.
		s.mu.Lock()
		for _, t := range s.topics {
			for _, sub := range t.subs {
				sub.stopTimer()
			}
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (e.g. too many open files) are retried
			// with a short backoff rather than ending the server.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("pulsartest: accept failed", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-s.done:
				return
			}
			continue
		}
		delay = 0
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			_ = nc.Close()
			return
		default:
		}
		s.nextConnID++
		c := newConn(s, nc, s.nextConnID)
		s.conns[c] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		go c.readLoop()
		go c.writeLoop()
	}
}
