package pulsartest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// FuzzDecode feeds arbitrary bytes to every decoder that sees client input:
// frames, message blocks and the inspection path. None may panic.
func FuzzDecode(f *testing.F) {
	md, _ := proto.Marshal(&pb.MessageMetadata{
		ProducerName: proto.String("p"), SequenceId: proto.Uint64(1), PublishTime: proto.Uint64(1),
		NumMessagesInBatch: proto.Int32(2), Compression: pb.CompressionType_LZ4.Enum(), UncompressedSize: proto.Uint32(10),
	})
	body := binary.BigEndian.AppendUint32(nil, uint32(len(md)))
	body = append(body, md...)
	body = append(body, 1, 2, 3, 4)
	block := binary.BigEndian.AppendUint16(nil, magicCRC32C)
	block = binary.BigEndian.AppendUint32(block, crc32.Checksum(body, crcTable))
	block = append(block, body...)
	frame, _ := appendFrame(nil, &pb.BaseCommand{Type: pb.BaseCommand_SEND.Enum(), Send: &pb.CommandSend{
		ProducerId: proto.Uint64(1), SequenceId: proto.Uint64(1),
	}}, block)
	f.Add(frame)
	f.Add(block)
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if fr, _, err := readFrame(bytes.NewReader(data), nil, DefaultMaxMessageSize+framePadding); err == nil {
			_ = requestIDOf(fr.cmd)
			if fr.headersAndPayload != nil {
				decodeBlock(fr.headersAndPayload)
			}
		}
		decodeBlock(data)
	})
}

func decodeBlock(b []byte) {
	pm, err := parseHeadersAndPayload(b)
	if err != nil {
		// Exercise the inspection decoders even when the checksum is
		// wrong, which random input almost always is.
		if len(b) < 10 {
			return
		}
		size := binary.BigEndian.Uint32(b[6:])
		if uint64(size) > uint64(len(b)-10) {
			return
		}
		md := &pb.MessageMetadata{}
		if proto.Unmarshal(b[10:10+size], md) != nil {
			return
		}
		pm = parsedMessage{metadata: md, payload: b[10+size:]}
	}
	n := max(int(pm.metadata.GetNumMessagesInBatch()), 1)
	e := &entry{headersAndPayload: b, meta: pm.metadata, numMessages: min(n, maxBatchMessages)}
	_ = decodeEntry("t", 1, -1, e)
	if payload, err := decompress(pm.metadata, pm.payload); err == nil {
		_, _, _ = splitBatch(payload, e.numMessages)
	}
}

// failOnInternalErrors is a log handler that records the server's reports
// of recovered panics.
type failOnInternalErrors struct {
	mu   sync.Mutex
	msgs []string
}

func (h *failOnInternalErrors) Enabled(context.Context, slog.Level) bool { return true }
func (h *failOnInternalErrors) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.mu.Lock()
		h.msgs = append(h.msgs, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *failOnInternalErrors) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *failOnInternalErrors) WithGroup(string) slog.Handler      { return h }

func (h *failOnInternalErrors) check(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) > 0 {
		t.Fatalf("server reported internal errors: %v", h.msgs)
	}
}

// FuzzFrames sends arbitrary bytes after a valid handshake to a running
// server: whatever comes, the server answers or closes the connection in
// bounded time, and no handler fails.
func FuzzFrames(f *testing.F) {
	log := &failOnInternalErrors{}
	srv, err := Start(WithLogger(slog.New(log)))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close() })
	seed := func(cmds ...*pb.BaseCommand) []byte {
		var b []byte
		for _, c := range cmds {
			b, _ = appendFrame(b, c, nil)
		}
		return b
	}
	f.Add(seed(&pb.BaseCommand{Type: pb.BaseCommand_PING.Enum(), Ping: &pb.CommandPing{}}))
	f.Add(seed(&pb.BaseCommand{Type: pb.BaseCommand_SUBSCRIBE.Enum(), Subscribe: &pb.CommandSubscribe{
		Topic: proto.String("f"), Subscription: proto.String("s"), SubType: pb.CommandSubscribe_Failover.Enum(),
		ConsumerId: proto.Uint64(1), RequestId: proto.Uint64(1),
	}}, &pb.BaseCommand{Type: pb.BaseCommand_FLOW.Enum(), Flow: &pb.CommandFlow{ConsumerId: proto.Uint64(1), MessagePermits: proto.Uint32(10)}}))
	f.Add(seed(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER.Enum(), Producer: &pb.CommandProducer{
		Topic: proto.String("f"), ProducerId: proto.Uint64(1), RequestId: proto.Uint64(2),
		ProducerAccessMode: pb.ProducerAccessMode_WaitForExclusive.Enum(),
	}}))
	f.Add(seed(&pb.BaseCommand{Type: pb.BaseCommand_SEEK.Enum(), Seek: &pb.CommandSeek{
		ConsumerId: proto.Uint64(1), RequestId: proto.Uint64(3), MessagePublishTime: proto.Uint64(1),
	}}))
	f.Add([]byte{0, 0, 0, 8, 0, 0, 0, 4, 8, 99, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	connect, _ := appendFrame(nil, &pb.BaseCommand{Type: pb.BaseCommand_CONNECT.Enum(), Connect: &pb.CommandConnect{
		ClientVersion: proto.String("fuzz"), ProtocolVersion: proto.Int32(21),
	}}, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(append(slices.Clone(connect), data...)); err != nil {
			return // the server may close the connection while we write
		}
		_ = nc.(*net.TCPConn).CloseWrite()
		// The server must end the connection once the input is exhausted.
		if _, err := io.Copy(io.Discard, nc); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("server left the connection open")
			}
		}
		log.check(t)
	})
}

// FuzzAdmin sends arbitrary requests to the admin API: every one gets a
// reply, and none makes a handler fail.
func FuzzAdmin(f *testing.F) {
	log := &failOnInternalErrors{}
	srv, err := Start(WithLogger(slog.New(log)), WithPartitionedTopic("parted", 2))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close() })
	for _, s := range []struct{ method, path, body string }{
		{"PUT", "/admin/v2/tenants/acme", `{"adminRoles":[],"allowedClusters":["standalone"]}`},
		{"PUT", "/admin/v2/namespaces/acme/ns", ``},
		{"PUT", "/admin/v2/persistent/public/default/t", `{}`},
		{"PUT", "/admin/v2/persistent/public/default/p/partitions", `{"partitions":2}`},
		{"POST", "/admin/v2/persistent/public/default/parted/partitions", `3`},
		{"PUT", "/admin/v2/persistent/public/default/parted/subscription/s", `{"ledgerId":-1,"entryId":-1}`},
		{"POST", "/admin/v2/persistent/public/default/parted/subscription/s/resetcursor", `{"ledgerId":1,"entryId":0,"partitionIndex":1}`},
		{"POST", "/admin/v2/persistent/public/default/t/subscription/s/skip/3", ``},
		{"GET", "/admin/v2/persistent/public/default/parted/partitioned-stats?perPartition=true", ``},
		{"GET", "/admin/v2/persistent/public/default/t/internalStats", ``},
		{"GET", "/admin/v2/persistent/public/default/t/ledger/1/entry/0", ``},
		{"POST", "/admin/v2/persistent/public/default/t/backlogQuota?backlogQuotaType=message_age", `{"limitTime":1,"policy":"producer_exception"}`},
		{"POST", "/admin/v2/persistent/public/default/t/terminate", ``},
		{"PUT", "/admin/v2/persistent/public/default/t/unload", ``},
		{"POST", "/admin/v2/schemas/public/default/t/schema", `{"type":"JSON","schema":"{}","properties":{}}`},
		{"GET", "/admin/v2/namespaces/public/default/topics?mode=ALL", ``},
		{"GET", "/lookup/v2/topic/persistent/public/default/t", ``},
		{"DELETE", "/admin/v2/persistent/public/default/parted/partitions?force=true", ``},
	} {
		f.Add(s.method, s.path, []byte(s.body))
	}
	h := srv.adminHandler()
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		u, err := url.ParseRequestURI(path)
		if err != nil || !validMethod(method) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", bytes.NewReader(body))
		req.Method, req.URL = method, u
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", method, path, rec.Code, rec.Body)
		}
		if rec.Code >= 300 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: error reply is not JSON: %q", method, path, rec.Body)
		}
		log.check(t)
	})
}

func validMethod(m string) bool {
	return m != "" && !strings.ContainsFunc(m, func(r rune) bool { return r <= ' ' || r >= 0x7f })
}
