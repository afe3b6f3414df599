package pulsartest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// Wire format of a Pulsar frame:
//
//	[totalSize uint32][commandSize uint32][BaseCommand]
//	[magic 0x0e01 uint16][crc32c uint32][metadataSize uint32][MessageMetadata][payload]
//
// The second line is present only for SEND and MESSAGE. totalSize counts
// everything after itself; the checksum covers everything after itself.
const (
	magicCRC32C = 0x0e01
	// framePadding is what a frame may carry beyond the max message size:
	// the command and the message metadata.
	framePadding = 64 * 1024
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errMalformed marks protocol violations that end the connection.
var errMalformed = errors.New("pulsartest: malformed frame")

// frame is one decoded client frame.
type frame struct {
	cmd *pb.BaseCommand
	// headersAndPayload is everything after the command (magic, checksum,
	// metadata and payload) exactly as sent, or nil.
	headersAndPayload []byte
}

// readFrame reads one frame. Any size or decoding inconsistency is reported
// as errMalformed so the caller can drop the connection instead of guessing.
func readFrame(r io.Reader, buf []byte, maxFrameSize uint32) (frame, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, buf, err
	}
	total := binary.BigEndian.Uint32(hdr[:])
	if total < 4 || total > maxFrameSize {
		return frame{}, buf, fmt.Errorf("%w: frame size %d", errMalformed, total)
	}
	if cap(buf) < int(total) {
		buf = make([]byte, total)
	}
	data := buf[:total]
	if _, err := io.ReadFull(r, data); err != nil {
		return frame{}, buf, err
	}
	cmdSize := binary.BigEndian.Uint32(data[:4])
	if cmdSize > total-4 {
		return frame{}, buf, fmt.Errorf("%w: command size %d exceeds frame size %d", errMalformed, cmdSize, total)
	}
	cmd := &pb.BaseCommand{}
	if err := proto.Unmarshal(data[4:4+cmdSize], cmd); err != nil {
		return frame{}, buf, fmt.Errorf("%w: %v", errMalformed, err)
	}
	f := frame{cmd: cmd}
	if rest := data[4+cmdSize:]; len(rest) > 0 {
		// The buffer is reused for the next frame; stored messages need
		// their own copy.
		f.headersAndPayload = append([]byte(nil), rest...)
	}
	return f, buf, nil
}

// appendFrame encodes cmd (and an optional headersAndPayload block, which is
// copied verbatim) onto dst.
func appendFrame(dst []byte, cmd *pb.BaseCommand, headersAndPayload []byte) ([]byte, error) {
	size := proto.Size(cmd)
	total := 4 + size + len(headersAndPayload)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, cmd)
	if err != nil {
		return dst, err
	}
	return append(dst, headersAndPayload...), nil
}

// parsedMessage is the broker's view of a SEND payload.
type parsedMessage struct {
	metadata *pb.MessageMetadata
	payload  []byte // possibly compressed, possibly a batch
}

// parseHeadersAndPayload validates the checksum and decodes the metadata of
// a SEND payload. The input is not modified.
func parseHeadersAndPayload(b []byte) (parsedMessage, error) {
	if len(b) < 2+4+4 || binary.BigEndian.Uint16(b) != magicCRC32C {
		return parsedMessage{}, fmt.Errorf("%w: message without crc32c magic number", errMalformed)
	}
	sum := binary.BigEndian.Uint32(b[2:])
	if got := crc32.Checksum(b[6:], crcTable); got != sum {
		return parsedMessage{}, errChecksum
	}
	metaSize := binary.BigEndian.Uint32(b[6:])
	if uint64(metaSize) > uint64(len(b)-10) {
		return parsedMessage{}, fmt.Errorf("%w: metadata size %d exceeds message", errMalformed, metaSize)
	}
	md := &pb.MessageMetadata{}
	if err := proto.Unmarshal(b[10:10+metaSize], md); err != nil {
		return parsedMessage{}, fmt.Errorf("%w: message metadata: %v", errMalformed, err)
	}
	return parsedMessage{metadata: md, payload: b[10+metaSize:]}, nil
}

var errChecksum = errors.New("pulsartest: checksum mismatch")
