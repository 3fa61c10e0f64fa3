package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
)

// Hash is a sha256 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex characters (an optional 0x prefix is allowed).
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) == 66 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	if len(s) != 64 {
		return h, fmt.Errorf("root %q: want 64 hex characters (a sha256), got %d characters", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("root %q is not hex: %v", s, err)
	}
	return h, nil
}

// Domain-separated hashing: a leaf can never be mistaken for an inner node.
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// LeafHash commits to one chunk: its length and its sha256.
func LeafHash(chunk Hash, size uint64) Hash {
	var b [1 + 8 + 32]byte
	b[0] = leafPrefix
	binary.BigEndian.PutUint64(b[1:9], size)
	copy(b[9:], chunk[:])
	return sha256.Sum256(b[:])
}

func nodeHash(l, r Hash) Hash {
	var b [1 + 64]byte
	b[0] = nodePrefix
	copy(b[1:33], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// MerkleRoot is the root over the leaves in order: pairs are hashed level by
// level and an odd last node moves up unchanged. An empty object is one
// empty chunk.
func MerkleRoot(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return LeafHash(sha256.Sum256(nil), 0)
	}
	level := append([]Hash(nil), leaves...)
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 < len(level) {
				next = append(next, nodeHash(level[i], level[i+1]))
			} else {
				next = append(next, level[i])
			}
		}
		level = next
	}
	return level[0]
}

// MarshalText and UnmarshalText keep hashes as hex in manifests.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// RootOf computes the content root and size of a stream without storing it (the same chunking
// and tree as Put), e.g. to register an asset whose bytes live elsewhere.
func RootOf(r io.Reader) (Hash, int64, error) {
	cs := startChunkStream(r, DefaultChunking, nil)
	var leaves []Hash
	var size int64
	_, err := cs.each(func(ch *streamChunk) error {
		leaves = append(leaves, LeafHash(ch.hash, uint64(len(ch.data))))
		size += int64(len(ch.data))
		return nil
	})
	if err != nil {
		return Hash{}, size, err
	}
	return MerkleRoot(leaves), size, nil
}
