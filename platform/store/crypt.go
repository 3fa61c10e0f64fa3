package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Envelope says how a private object's chunks are encrypted: each chunk
// with AES-256-GCM under a random per-object data key, and the data key
// itself encrypted ("wrapped") with the node key. Only the wrapped key is
// stored, so the chunks (on disk or in S3) are useless without the node.
type Envelope struct {
	Alg        string `json:"alg"`         // AES-256-GCM
	KeyID      string `json:"key_id"`      // which node key wrapped it
	WrappedKey []byte `json:"wrapped_key"` // nonce | GCM(node key, data key)
}

const (
	encAlg       = "AES-256-GCM"
	gcmNonceSize = 12
	gcmOverhead  = gcmNonceSize + 16 // nonce in front, tag behind
)

// NodeKey is the key that wraps data keys. It never leaves the node.
type NodeKey struct {
	key [32]byte
	ID  string
}

// ReadNodeKey reads an existing node key.
func ReadNodeKey(path string) (*NodeKey, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no node key at %s (is --dir the store's folder?): %w", path, err)
	}
	return LoadNodeKey(path)
}

// LoadNodeKey reads the node key from path, creating a random one (mode
// 0600) the first time.
func LoadNodeKey(path string) (*NodeKey, error) {
	bz, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		bz = make([]byte, 32)
		if _, err := rand.Read(bz); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, bz, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if len(bz) != 32 {
		return nil, fmt.Errorf("node key %s has %d bytes, want 32 (restore it from a backup: private objects cannot be read without it)", path, len(bz))
	}
	k := &NodeKey{}
	copy(k.key[:], bz)
	id := sha256.Sum256(append([]byte("sahara-store-node-key"), bz...))
	k.ID = hex.EncodeToString(id[:8])
	return k, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

var wrapAAD = []byte("sahara-store-data-key")

// newDataKey makes a random data key and its envelope.
func (k *NodeKey) newDataKey() ([]byte, *Envelope, error) {
	dk := make([]byte, 32)
	if _, err := rand.Read(dk); err != nil {
		return nil, nil, err
	}
	g, err := newGCM(k.key[:])
	if err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return dk, &Envelope{Alg: encAlg, KeyID: k.ID, WrappedKey: g.Seal(nonce, nonce, dk, wrapAAD)}, nil
}

// unwrap returns the data key of an envelope.
func (k *NodeKey) unwrap(e *Envelope) ([]byte, error) {
	if e.Alg != encAlg {
		return nil, fmt.Errorf("unknown encryption %q", e.Alg)
	}
	if e.KeyID != k.ID {
		return nil, fmt.Errorf("the object's data key was wrapped by node key %s, this node has %s", e.KeyID, k.ID)
	}
	if len(e.WrappedKey) < gcmOverhead {
		return nil, errors.New("wrapped data key is truncated")
	}
	g, err := newGCM(k.key[:])
	if err != nil {
		return nil, err
	}
	dk, err := g.Open(nil, e.WrappedKey[:gcmNonceSize], e.WrappedKey[gcmNonceSize:], wrapAAD)
	if err != nil {
		return nil, errors.New("the wrapped data key does not open with the node key (damaged manifest)")
	}
	return dk, nil
}

// sealChunk encrypts one chunk; the plaintext hash is bound as associated
// data so chunks cannot be swapped between positions.
func sealChunk(g cipher.AEAD, plainHash Hash, plain, dst []byte) ([]byte, error) {
	nonce := make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	dst = append(dst[:0], nonce...)
	return g.Seal(dst, nonce, plain, plainHash[:]), nil
}

func openChunk(g cipher.AEAD, plainHash Hash, sealed, dst []byte) ([]byte, error) {
	if len(sealed) < gcmOverhead {
		return nil, errors.New("encrypted chunk is truncated")
	}
	return g.Open(dst[:0], sealed[:gcmNonceSize], sealed[gcmNonceSize:], plainHash[:])
}

// Derive returns a secret for another use (e.g. fingerprint keys) bound
// to the node key, so there is one secret to back up.
func (k *NodeKey) Derive(label string) []byte {
	m := hmac.New(sha256.New, k.key[:])
	m.Write([]byte("sahara-store-derive:" + label))
	return m.Sum(nil)
}

// NodeKey returns the store's node key (nil when it has none).
func (s *Store) NodeKey() *NodeKey { return s.key }
