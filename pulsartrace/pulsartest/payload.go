package pulsartest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"google.golang.org/protobuf/proto"

	pb "github.com/asynctrace/asynctrace/pulsartrace/pulsartest/internal/pulsarproto"
)

// The broker never decodes payloads on the message path; these helpers are
// only used to show stored messages to tests.

// maxUncompressed bounds what a declared uncompressed size may make the
// inspection code allocate.
const maxUncompressed = 64 << 20

func decompress(md *pb.MessageMetadata, payload []byte) ([]byte, error) {
	codec := md.GetCompression()
	if codec == pb.CompressionType_NONE {
		return payload, nil
	}
	size := int(md.GetUncompressedSize())
	if size < 0 || size > maxUncompressed {
		return nil, fmt.Errorf("uncompressed size %d out of range", size)
	}
	switch codec {
	case pb.CompressionType_LZ4:
		out := make([]byte, size)
		n, err := lz4.UncompressBlock(payload, out)
		if err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
		return out[:n], nil
	case pb.CompressionType_ZLIB:
		r, err := zlib.NewReader(bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("zlib: %w", err)
		}
		defer r.Close()
		return readBounded(r, size)
	case pb.CompressionType_ZSTD:
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxUncompressed))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer d.Close()
		out, err := d.DecodeAll(payload, make([]byte, 0, size))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	case pb.CompressionType_SNAPPY:
		out, err := snappy.Decode(nil, payload)
		if err != nil {
			return nil, fmt.Errorf("snappy: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown compression %v", codec)
	}
}

func readBounded(r io.Reader, size int) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, int64(size)+1))
	if err != nil {
		return nil, err
	}
	if len(out) > size {
		return nil, fmt.Errorf("payload larger than declared size %d", size)
	}
	return out, nil
}

// splitBatch returns the single-message metadata and payload of every
// message in an uncompressed batch payload.
func splitBatch(b []byte, n int) ([]*pb.SingleMessageMetadata, [][]byte, error) {
	// Each message needs at least its 4-byte size prefix, which bounds
	// what a lying batch count can make this allocate.
	capacity := min(n, len(b)/4)
	metas := make([]*pb.SingleMessageMetadata, 0, capacity)
	payloads := make([][]byte, 0, capacity)
	for i := range n {
		if len(b) < 4 {
			return nil, nil, fmt.Errorf("batch truncated at message %d", i)
		}
		size := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(size) > uint64(len(b)) {
			return nil, nil, fmt.Errorf("batch message %d metadata truncated", i)
		}
		smm := &pb.SingleMessageMetadata{}
		if err := proto.Unmarshal(b[:size], smm); err != nil {
			return nil, nil, fmt.Errorf("batch message %d metadata: %w", i, err)
		}
		b = b[size:]
		ps := smm.GetPayloadSize()
		if ps < 0 || int(ps) > len(b) {
			return nil, nil, fmt.Errorf("batch message %d payload truncated", i)
		}
		metas = append(metas, smm)
		payloads = append(payloads, b[:ps])
		b = b[ps:]
	}
	return metas, payloads, nil
}
