package pulsartest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// Server is an in-process Pulsar broker listening on a loopback TCP port.
// All methods are safe for concurrent use.
type Server struct {
	ln     net.Listener
	url    string
	log    *slog.Logger
	cfg    config
	done   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup

	// mu guards all broker state below and the per-connection producer and
	// consumer tables. One lock keeps dispatch, acks and inspection
	// consistent; the broker is built for tests, not for throughput.
	mu          sync.Mutex
	conns       map[*conn]struct{}
	topics      map[string]*topic     // by full name, partitions included
	partitioned map[string]int        // partitioned base topic name → partitions
	schemas     map[string]*schemaLog // by topic name without partition suffix
	nextLedger  uint64
	nextConnID  uint64
	nextProdNum uint64
	faults      faults
}

// Start starts a broker on 127.0.0.1 with a free port. Close it when done.
func Start(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		log:         cfg.logger,
		cfg:         cfg,
		done:        make(chan struct{}),
		conns:       map[*conn]struct{}{},
		topics:      map[string]*topic{},
		partitioned: map[string]int{},
		schemas:     map[string]*schemaLog{},
		nextLedger:  1,
	}
	for name, n := range cfg.partitioned {
		if err := s.CreatePartitionedTopic(name, n); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pulsartest: listen: %w", err)
	}
	s.ln = ln
	s.url = "pulsar://" + ln.Addr().String()
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
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

// Addr returns the listening address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting connections, closes every client connection and
// waits for the server's goroutines to end. Stored messages stay
// inspectable. Close is idempotent.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.done)
		err = s.ln.Close()
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
