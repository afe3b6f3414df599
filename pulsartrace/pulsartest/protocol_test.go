package pulsartest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// rawClient speaks the wire protocol directly, for what the real client
// never sends.
type rawClient struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, s *Server) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc}
}

func (r *rawClient) write(cmd *pb.BaseCommand) {
	r.t.Helper()
	b, err := appendFrame(nil, cmd, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawClient) read() *pb.BaseCommand {
	r.t.Helper()
	f, _, err := readFrame(r.nc, nil, DefaultMaxMessageSize+framePadding)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return f.cmd
}

func (r *rawClient) connect() {
	r.t.Helper()
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_CONNECT.Enum(), Connect: &pb.CommandConnect{
		ClientVersion: proto.String("raw"), ProtocolVersion: proto.Int32(21),
	}})
	if got := r.read(); got.GetType() != pb.BaseCommand_CONNECTED {
		r.t.Fatalf("handshake reply %v", got.GetType())
	}
}

// expectClosed waits for the server to close the connection.
func (r *rawClient) expectClosed() {
	r.t.Helper()
	buf := make([]byte, 4096)
	for {
		_, err := r.nc.Read(buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				r.t.Fatal("connection left open")
			}
			return
		}
	}
}

func TestUnsupportedCommandGetsErrorReply(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.connect()
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_CONSUMER_STATS.Enum(), ConsumerStats: &pb.CommandConsumerStats{
		RequestId: proto.Uint64(42), ConsumerId: proto.Uint64(1),
	}})
	got := r.read()
	if got.GetType() != pb.BaseCommand_ERROR || got.GetError().GetRequestId() != 42 ||
		got.GetError().GetError() != pb.ServerError_NotAllowedError {
		t.Fatalf("reply %v", got)
	}
	// The connection stays usable.
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_PING.Enum(), Ping: &pb.CommandPing{}})
	if got := r.read(); got.GetType() != pb.BaseCommand_PONG {
		t.Fatalf("reply to PING %v", got.GetType())
	}
}

func TestCommandBeforeConnectIsRefused(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_LOOKUP.Enum(), LookupTopic: &pb.CommandLookupTopic{
		Topic: proto.String("t"), RequestId: proto.Uint64(7),
	}})
	got := r.read()
	if got.GetType() != pb.BaseCommand_ERROR || got.GetError().GetRequestId() != 7 {
		t.Fatalf("reply %v", got)
	}
	r.expectClosed()
}

func TestMalformedFramesCloseOnlyThatConnection(t *testing.T) {
	s := NewServer(t)
	frames := map[string][]byte{
		"oversized":        binary.BigEndian.AppendUint32(nil, 1<<30),
		"command too long": append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), 100), 0, 0, 0, 0),
		"garbage command":  append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 10), 6), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"tiny":             binary.BigEndian.AppendUint32(nil, 2),
	}
	for name, b := range frames {
		t.Run(name, func(t *testing.T) {
			r := dialRaw(t, s)
			r.connect()
			if _, err := r.nc.Write(b); err != nil {
				t.Fatal(err)
			}
			r.expectClosed()
		})
	}
	t.Run("send without checksum", func(t *testing.T) {
		r := dialRaw(t, s)
		r.connect()
		r.write(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER.Enum(), Producer: &pb.CommandProducer{
			Topic: proto.String("raw"), ProducerId: proto.Uint64(1), RequestId: proto.Uint64(1),
		}})
		if got := r.read(); got.GetType() != pb.BaseCommand_PRODUCER_SUCCESS {
			t.Fatalf("producer reply %v", got)
		}
		b, _ := appendFrame(nil, &pb.BaseCommand{Type: pb.BaseCommand_SEND.Enum(), Send: &pb.CommandSend{
			ProducerId: proto.Uint64(1), SequenceId: proto.Uint64(0),
		}}, []byte("not a message"))
		if _, err := r.nc.Write(b); err != nil {
			t.Fatal(err)
		}
		if got := r.read(); got.GetType() != pb.BaseCommand_ERROR {
			t.Fatalf("reply %v", got)
		}
		r.expectClosed()
		if n := len(s.Messages("raw")); n != 0 {
			t.Fatalf("stored %d messages", n)
		}
	})
	// The server still serves new connections.
	r := dialRaw(t, s)
	r.connect()
}

func TestParseTopic(t *testing.T) {
	cases := map[string]topicName{
		"t":                              {full: "persistent://public/default/t", base: "persistent://public/default/t", namespace: "public/default", partition: -1},
		"a/b/t":                          {full: "persistent://a/b/t", base: "persistent://a/b/t", namespace: "a/b", partition: -1},
		"persistent://a/b/t-partition-3": {full: "persistent://a/b/t-partition-3", base: "persistent://a/b/t", namespace: "a/b", partition: 3},
		"t-partition-x":                  {full: "persistent://public/default/t-partition-x", base: "persistent://public/default/t-partition-x", namespace: "public/default", partition: -1},
		"non-persistent://a/b/t":         {full: "non-persistent://a/b/t", base: "non-persistent://a/b/t", namespace: "a/b", partition: -1},
		"a/c/b/t":                        {full: "persistent://a/c/b/t", base: "persistent://a/c/b/t", namespace: "a/c/b", partition: -1},
	}
	for in, want := range cases {
		got, err := parseTopic(in)
		if err != nil || got != want {
			t.Errorf("parseTopic(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a/b", "http://a/b/t", "persistent://t", "a//t", "persistent://a/b/c/d/e"} {
		if _, err := parseTopic(bad); err == nil {
			t.Errorf("parseTopic(%q) accepted", bad)
		}
	}
}

func TestAckSetHelpers(t *testing.T) {
	if got := countSet(allSet(70), 70); got != 70 {
		t.Fatalf("countSet(allSet(70)) = %d", got)
	}
	if got := countSet([]int64{-1}, 10); got != 10 {
		t.Fatalf("bits beyond the batch counted: %d", got)
	}
}

func (r *rawClient) subscribe(consumerID, requestID uint64, topic, sub string, typ pb.CommandSubscribe_SubType) *pb.BaseCommand {
	r.t.Helper()
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_SUBSCRIBE.Enum(), Subscribe: &pb.CommandSubscribe{
		Topic: proto.String(topic), Subscription: proto.String(sub), SubType: typ.Enum(),
		ConsumerId: proto.Uint64(consumerID), RequestId: proto.Uint64(requestID), Durable: proto.Bool(true),
	}})
	return r.read()
}

func (r *rawClient) unsubscribe(consumerID, requestID uint64) *pb.BaseCommand {
	r.t.Helper()
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_UNSUBSCRIBE.Enum(), Unsubscribe: &pb.CommandUnsubscribe{
		ConsumerId: proto.Uint64(consumerID), RequestId: proto.Uint64(requestID),
	}})
	return r.read()
}

// Unsubscribe is exercised on the wire: pulsar-client-go v0.19.0 leaves a
// consumer's goroutines running after a successful Unsubscribe (Close is
// then a no-op), which the leak check would report.
func TestUnsubscribe(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.connect()
	for i := uint64(1); i <= 2; i++ {
		if got := r.subscribe(i, i, "unsub", "sub", pb.CommandSubscribe_Shared); got.GetType() != pb.BaseCommand_SUCCESS {
			t.Fatalf("subscribe %d: %v", i, got)
		}
	}
	if got := r.unsubscribe(1, 3); got.GetType() != pb.BaseCommand_ERROR || got.GetError().GetError() != pb.ServerError_ConsumerBusy {
		t.Fatalf("unsubscribe with another consumer attached: %v", got)
	}
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_CLOSE_CONSUMER.Enum(), CloseConsumer: &pb.CommandCloseConsumer{
		ConsumerId: proto.Uint64(2), RequestId: proto.Uint64(4),
	}})
	if got := r.read(); got.GetType() != pb.BaseCommand_SUCCESS {
		t.Fatalf("close consumer: %v", got)
	}
	if got := r.unsubscribe(1, 5); got.GetType() != pb.BaseCommand_SUCCESS {
		t.Fatalf("unsubscribe: %v", got)
	}
	if subs := s.Subscriptions("unsub"); len(subs) != 0 {
		t.Fatalf("after unsubscribe: %+v", subs)
	}
}

func TestSubscribeErrors(t *testing.T) {
	s := NewServer(t, WithPartitionedTopic("parted", 2))
	r := dialRaw(t, s)
	r.connect()
	if got := r.subscribe(1, 1, "parted", "sub", pb.CommandSubscribe_Shared); got.GetType() != pb.BaseCommand_ERROR {
		t.Fatalf("subscribe to a partitioned base topic: %v", got)
	}
	if got := r.subscribe(2, 2, "a//b", "sub", pb.CommandSubscribe_Shared); got.GetError().GetError() != pb.ServerError_InvalidTopicName {
		t.Fatalf("subscribe to an invalid name: %v", got)
	}
	if got := r.subscribe(3, 3, "t", "sub", pb.CommandSubscribe_Shared); got.GetType() != pb.BaseCommand_SUCCESS {
		t.Fatalf("subscribe: %v", got)
	}
	if got := r.subscribe(4, 4, "t", "sub", pb.CommandSubscribe_Failover); got.GetError().GetError() != pb.ServerError_ConsumerBusy {
		t.Fatalf("subscribe with another type: %v", got)
	}
}

func TestKeepAlive(t *testing.T) {
	s := NewServer(t, WithKeepAliveInterval(200*time.Millisecond))
	r := dialRaw(t, s)
	r.connect()
	// Answering the broker's pings keeps the connection open.
	pings := 0
	for pings < 3 {
		cmd := r.read()
		if cmd.GetType() != pb.BaseCommand_PING {
			t.Fatalf("unexpected %v", cmd.GetType())
		}
		pings++
		r.write(&pb.BaseCommand{Type: pb.BaseCommand_PONG.Enum(), Pong: &pb.CommandPong{}})
	}
	// A silent client is dropped after twice the interval.
	r.expectClosed()
}

func TestCloseIsBoundedWithSilentClients(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	r := dialRaw(t, s)
	r.connect()
	half, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	_, _ = half.Write([]byte{0, 0, 1}) // a partial frame header
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCommandWithoutBodyIsRefused(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.connect()
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_SEND.Enum()})
	if got := r.read(); got.GetType() != pb.BaseCommand_ERROR {
		t.Fatalf("reply %v", got)
	}
	r.expectClosed()
}

// The body check relies on every command type number being the field
// number of its body.
func TestCommandTypesMatchBodyFields(t *testing.T) {
	fields := (&pb.BaseCommand{}).ProtoReflect().Descriptor().Fields()
	values := pb.BaseCommand_Type(0).Descriptor().Values()
	for i := range values.Len() {
		v := values.Get(i)
		fd := fields.ByNumber(protoreflect.FieldNumber(v.Number()))
		if fd == nil || fd.Message() == nil {
			t.Errorf("command %s has no body field %d", v.Name(), v.Number())
		}
	}
}

func TestOversizedBatchCountIsRefused(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.connect()
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER.Enum(), Producer: &pb.CommandProducer{
		Topic: proto.String("huge"), ProducerId: proto.Uint64(1), RequestId: proto.Uint64(1),
	}})
	if got := r.read(); got.GetType() != pb.BaseCommand_PRODUCER_SUCCESS {
		t.Fatalf("producer reply %v", got)
	}
	md, _ := proto.Marshal(&pb.MessageMetadata{
		ProducerName: proto.String("x"), SequenceId: proto.Uint64(0), PublishTime: proto.Uint64(1),
		NumMessagesInBatch: proto.Int32(1 << 30),
	})
	body := binary.BigEndian.AppendUint32(nil, uint32(len(md)))
	body = append(body, md...)
	block := binary.BigEndian.AppendUint16(nil, magicCRC32C)
	block = binary.BigEndian.AppendUint32(block, crc32.Checksum(body, crcTable))
	block = append(block, body...)
	b, _ := appendFrame(nil, &pb.BaseCommand{Type: pb.BaseCommand_SEND.Enum(), Send: &pb.CommandSend{
		ProducerId: proto.Uint64(1), SequenceId: proto.Uint64(0),
	}}, block)
	if _, err := r.nc.Write(b); err != nil {
		t.Fatal(err)
	}
	if got := r.read(); got.GetType() != pb.BaseCommand_ERROR {
		t.Fatalf("reply %v", got)
	}
	r.expectClosed()
	if n := len(s.Messages("huge")); n != 0 {
		t.Fatalf("stored %d", n)
	}
}

// The broker forwards what the producer sent byte for byte and echoes the
// sequence ids of a batch in the receipt.
func TestMessagesAreForwardedVerbatim(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.connect()
	if got := r.subscribe(1, 1, "verbatim", "sub", pb.CommandSubscribe_Exclusive); got.GetType() != pb.BaseCommand_SUCCESS {
		t.Fatalf("subscribe: %v", got)
	}
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_FLOW.Enum(), Flow: &pb.CommandFlow{
		ConsumerId: proto.Uint64(1), MessagePermits: proto.Uint32(100),
	}})
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER.Enum(), Producer: &pb.CommandProducer{
		Topic: proto.String("verbatim"), ProducerId: proto.Uint64(7), RequestId: proto.Uint64(2),
	}})
	if got := r.read(); got.GetType() != pb.BaseCommand_PRODUCER_SUCCESS || got.GetProducerSuccess().GetLastSequenceId() != -1 {
		t.Fatalf("producer reply %v", got)
	}
	md, _ := proto.Marshal(&pb.MessageMetadata{
		ProducerName: proto.String("raw"), SequenceId: proto.Uint64(10), PublishTime: proto.Uint64(1),
		NumMessagesInBatch: proto.Int32(3), Compression: pb.CompressionType_ZSTD.Enum(),
		UncompressedSize: proto.Uint32(1000),
	})
	body := binary.BigEndian.AppendUint32(nil, uint32(len(md)))
	body = append(body, md...)
	body = append(body, "opaque bytes the broker must not touch"...)
	block := binary.BigEndian.AppendUint16(nil, magicCRC32C)
	block = binary.BigEndian.AppendUint32(block, crc32.Checksum(body, crcTable))
	block = append(block, body...)
	b, _ := appendFrame(nil, &pb.BaseCommand{Type: pb.BaseCommand_SEND.Enum(), Send: &pb.CommandSend{
		ProducerId: proto.Uint64(7), SequenceId: proto.Uint64(10), NumMessages: proto.Int32(3),
		HighestSequenceId: proto.Uint64(12),
	}}, block)
	if _, err := r.nc.Write(b); err != nil {
		t.Fatal(err)
	}
	var receipt *pb.CommandSendReceipt
	var delivered []byte
	for receipt == nil || delivered == nil {
		f, _, err := readFrame(r.nc, nil, DefaultMaxMessageSize+framePadding)
		if err != nil {
			t.Fatal(err)
		}
		switch f.cmd.GetType() {
		case pb.BaseCommand_SEND_RECEIPT:
			receipt = f.cmd.GetSendReceipt()
		case pb.BaseCommand_MESSAGE:
			delivered = f.headersAndPayload
			if f.cmd.GetMessage().GetRedeliveryCount() != 0 || f.cmd.GetMessage().GetConsumerId() != 1 {
				t.Fatalf("message %v", f.cmd.GetMessage())
			}
		default:
			t.Fatalf("unexpected %v", f.cmd.GetType())
		}
	}
	if receipt.GetSequenceId() != 10 || receipt.GetHighestSequenceId() != 12 || receipt.GetProducerId() != 7 {
		t.Fatalf("receipt %v", receipt)
	}
	if !bytes.Equal(delivered, block) {
		t.Fatalf("delivered block differs from the one sent")
	}
	// The undecodable payload is still inspectable, with the error said.
	msgs := s.Messages("verbatim")
	if len(msgs) != 1 || msgs[0].Err == nil || msgs[0].Compression != "ZSTD" {
		t.Fatalf("inspection %+v", msgs)
	}
}

// messageBlock builds a SEND payload block with a valid checksum.
func messageBlock(md *pb.MessageMetadata, payload []byte) []byte {
	mdb, _ := proto.Marshal(md)
	body := binary.BigEndian.AppendUint32(nil, uint32(len(mdb)))
	body = append(body, mdb...)
	body = append(body, payload...)
	block := binary.BigEndian.AppendUint16(nil, magicCRC32C)
	block = binary.BigEndian.AppendUint32(block, crc32.Checksum(body, crcTable))
	return append(block, body...)
}

// A batch costs one permit per message in it; an entry is still sent while
// any permit is left, as brokers do.
func TestFlowPermitsCountBatchMessages(t *testing.T) {
	s := NewServer(t)
	r := dialRaw(t, s)
	r.connect()
	if got := r.subscribe(1, 1, "permits", "sub", pb.CommandSubscribe_Exclusive); got.GetType() != pb.BaseCommand_SUCCESS {
		t.Fatalf("subscribe: %v", got)
	}
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_PRODUCER.Enum(), Producer: &pb.CommandProducer{
		Topic: proto.String("permits"), ProducerId: proto.Uint64(1), RequestId: proto.Uint64(2),
	}})
	if got := r.read(); got.GetType() != pb.BaseCommand_PRODUCER_SUCCESS {
		t.Fatalf("producer reply %v", got)
	}
	for i := range 3 {
		b, _ := appendFrame(nil, &pb.BaseCommand{Type: pb.BaseCommand_SEND.Enum(), Send: &pb.CommandSend{
			ProducerId: proto.Uint64(1), SequenceId: proto.Uint64(uint64(2 * i)), NumMessages: proto.Int32(2),
		}}, messageBlock(&pb.MessageMetadata{
			ProducerName: proto.String("p"), SequenceId: proto.Uint64(uint64(2 * i)), PublishTime: proto.Uint64(1),
			NumMessagesInBatch: proto.Int32(2),
		}, nil))
		if _, err := r.nc.Write(b); err != nil {
			t.Fatal(err)
		}
		if got := r.read(); got.GetType() != pb.BaseCommand_SEND_RECEIPT {
			t.Fatalf("send reply %v", got)
		}
	}
	flow := func(n uint32) {
		r.write(&pb.BaseCommand{Type: pb.BaseCommand_FLOW.Enum(), Flow: &pb.CommandFlow{
			ConsumerId: proto.Uint64(1), MessagePermits: proto.Uint32(n),
		}})
	}
	// 3 permits: the first batch leaves 1, the second takes it (to -1).
	flow(3)
	for want := uint64(0); want < 2; want++ {
		got := r.read()
		if got.GetType() != pb.BaseCommand_MESSAGE || got.GetMessage().GetMessageId().GetEntryId() != want {
			t.Fatalf("delivery %d: %v", want, got)
		}
	}
	// 1 more permit only brings the balance to 0: nothing is sent. PING
	// is answered in order, so a PONG proves no MESSAGE came first.
	flow(1)
	r.write(&pb.BaseCommand{Type: pb.BaseCommand_PING.Enum(), Ping: &pb.CommandPing{}})
	if got := r.read(); got.GetType() != pb.BaseCommand_PONG {
		t.Fatalf("got %v before PONG", got)
	}
	flow(1)
	if got := r.read(); got.GetType() != pb.BaseCommand_MESSAGE || got.GetMessage().GetMessageId().GetEntryId() != 2 {
		t.Fatalf("third delivery %v", got)
	}
}
