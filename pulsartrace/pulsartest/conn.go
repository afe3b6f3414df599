package pulsartest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// writeTimeout bounds a single socket write so that a client that stops
// reading cannot hold a server goroutine forever.
const writeTimeout = 10 * time.Second

// conn is one client connection: a reader goroutine that decodes and
// handles commands in order, and a writer goroutine that flushes queued
// frames and sends keepalive pings.
type conn struct {
	s  *Server
	nc net.Conn
	id uint64

	// outMu guards out; frames are queued without blocking so that dispatch
	// can run under the server lock.
	outMu    sync.Mutex
	out      []byte
	inflight bool // the writer holds frames taken from out
	wake     chan struct{}

	done      chan struct{}
	closeOnce sync.Once
	lastRead  atomic.Int64 // unix nanos of the last frame received

	// Guarded by s.mu.
	connected     bool
	clientVersion string
	since         time.Time
	producers     map[uint64]*producer
	consumers     map[uint64]*consumer
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	c := &conn{
		s:         s,
		nc:        nc,
		id:        id,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		producers: map[uint64]*producer{},
		consumers: map[uint64]*consumer{},
	}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// close ends the connection once; the broker forgets its producers and
// returns its consumers' unacknowledged messages for redelivery.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.nc.Close()
		c.s.mu.Lock()
		delete(c.s.conns, c)
		for _, p := range c.producers {
			p.topic.removeProducer(p)
		}
		c.producers = map[uint64]*producer{}
		for _, cons := range c.consumers {
			cons.sub.removeConsumer(cons)
		}
		c.consumers = map[uint64]*consumer{}
		c.s.mu.Unlock()
	})
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// send queues a command frame (with an optional verbatim message block).
// It never blocks; frames for a closed connection are discarded.
func (c *conn) send(cmd *pb.BaseCommand, headersAndPayload []byte) {
	c.outMu.Lock()
	if c.closed() {
		c.outMu.Unlock()
		return
	}
	var err error
	c.out, err = appendFrame(c.out, cmd, headersAndPayload)
	c.outMu.Unlock()
	if err != nil {
		// Only the broker's own commands are encoded here; a failure is a
		// bug in this package, reported rather than hidden. The connection
		// is not closed here because callers may hold the server lock.
		c.s.log.Error("pulsartest: encode command", "type", cmd.GetType().String(), "err", err)
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	ka := c.s.cfg.keepAlive
	ticker := time.NewTicker(ka)
	defer ticker.Stop()
	var buf []byte
	for {
		select {
		case <-c.done:
			return
		case <-ticker.C:
			idle := time.Since(time.Unix(0, c.lastRead.Load()))
			if idle > 2*ka {
				c.s.log.Info("pulsartest: closing idle connection", "conn", c.id, "idle", idle)
				c.close()
				return
			}
			c.send(&pb.BaseCommand{Type: pb.BaseCommand_PING.Enum(), Ping: &pb.CommandPing{}}, nil)
		case <-c.wake:
			c.outMu.Lock()
			buf, c.out = c.out, buf[:0]
			c.inflight = len(buf) > 0
			c.outMu.Unlock()
			if len(buf) == 0 {
				continue
			}
			_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			_, err := c.nc.Write(buf)
			c.outMu.Lock()
			c.inflight = false
			c.outMu.Unlock()
			if err != nil {
				c.close()
				return
			}
			// Keep the larger buffer for reuse, but do not hold on to a
			// huge one forever.
			if cap(buf) > 1<<20 {
				buf = nil
			}
		}
	}
}

func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer c.close()
	defer func() {
		// A bug in a handler must not take down the test binary: log it,
		// drop this connection and keep serving the others.
		if r := recover(); r != nil {
			c.s.log.Error("pulsartest: internal error, closing connection", "conn", c.id, "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	r := bufio.NewReaderSize(c.nc, 64*1024)
	var buf []byte
	for {
		f, nb, err := readFrame(r, buf, uint32(c.s.cfg.maxMessageSize+framePadding))
		buf = nb
		if err != nil {
			if errors.Is(err, errMalformed) {
				c.s.log.Warn("pulsartest: malformed frame, closing connection", "conn", c.id, "err", err)
				c.sendError(0, pb.ServerError_UnknownError, err.Error())
				c.flushAndClose()
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.closed() {
				c.s.log.Debug("pulsartest: read failed", "conn", c.id, "err", err)
			}
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		if !c.handle(f) {
			c.flushAndClose()
			return
		}
	}
}

// flushAndClose gives the writer a moment to send a final ERROR before the
// socket goes away, so the client learns why.
func (c *conn) flushAndClose() {
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) && !c.closed() {
		c.outMu.Lock()
		flushed := len(c.out) == 0 && !c.inflight
		c.outMu.Unlock()
		if flushed {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.close()
}

func (c *conn) sendError(requestID uint64, code pb.ServerError, msg string) {
	c.send(&pb.BaseCommand{
		Type: pb.BaseCommand_ERROR.Enum(),
		Error: &pb.CommandError{
			RequestId: &requestID,
			Error:     code.Enum(),
			Message:   &msg,
		},
	}, nil)
}

func (c *conn) sendSuccess(requestID uint64) {
	c.send(&pb.BaseCommand{
		Type:    pb.BaseCommand_SUCCESS.Enum(),
		Success: &pb.CommandSuccess{RequestId: &requestID},
	}, nil)
}
