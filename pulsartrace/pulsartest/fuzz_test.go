package pulsartest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

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
