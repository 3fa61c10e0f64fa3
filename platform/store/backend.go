package store

import "errors"

// Backend is where chunks and manifests live. Chunks are immutable and
// named by the sha256 of their stored bytes; a manifest is the commit
// point of an object and is written only after every chunk it names is
// durable.
type Backend interface {
	// HasChunk says whether a durable chunk with this hash exists.
	HasChunk(h Hash) (bool, error)
	// ReadChunk returns the stored bytes of a chunk of the given size,
	// reusing buf when it is large enough; a missing chunk is ErrNotExist.
	// The caller verifies the bytes.
	ReadChunk(h Hash, size int64, buf []byte) ([]byte, error)
	// NewBatch starts the writes of one object.
	NewBatch() (Batch, error)
	// ReadManifest returns a manifest's bytes or ErrNotExist.
	ReadManifest(root Hash) ([]byte, error)
	// ListManifests returns every committed root.
	ListManifests() ([]Hash, error)
	// Describe names the backend for logs and errors.
	Describe() string
	Close() error
}

// Batch collects one object's chunks; nothing is visible until Commit,
// which makes the chunks durable first and then writes the manifest.
type Batch interface {
	// PutChunk stores a chunk; data is not referenced after it returns.
	// Errors may be reported here or by Commit.
	PutChunk(h Hash, data []byte) error
	// Commit makes every chunk durable, then the manifest (atomically).
	Commit(root Hash, manifest []byte) error
	// Abort drops the batch; its chunks are never referenced.
	Abort()
}

// ErrNotExist is returned by backends for a missing chunk or manifest.
var ErrNotExist = errors.New("does not exist")
