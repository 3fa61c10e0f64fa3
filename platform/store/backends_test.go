package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/syndtr/goleveldb/leveldb/util"

	"sahara/platform/store/s3test"
)

var s3Bucket atomic.Int64

// startS3 returns a config for a fresh bucket on the tests' S3 server.
func startS3(t testing.TB) S3Config {
	srv := s3test.Start(t)
	return S3Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.Secret,
		Bucket: fmt.Sprintf("sahara-test-%d", s3Bucket.Add(1))}
}

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

// eachBackend runs a test against the local backend and a real S3 server.
func eachBackend(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Run("local", func(t *testing.T) {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		f(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		b, err := OpenS3(startS3(t))
		if err != nil {
			t.Fatal(err)
		}
		k, err := LoadNodeKey(filepath.Join(t.TempDir(), "node.key"))
		if err != nil {
			t.Fatal(err)
		}
		f(t, New(b, k))
	})
}

// damageChunk flips one byte of a stored chunk behind the store's back.
func damageChunk(t *testing.T, s *Store, h Hash) {
	switch b := s.b.(type) {
	case *Local:
		p, loc, err := b.locate(h)
		if errors.Is(err, ErrNotExist) { // an inlined chunk
			v, err := b.db.Get(inlineKey(h), nil)
			if err != nil {
				t.Fatal(err)
			}
			v[len(v)/2] ^= 1
			if err := b.db.Put(inlineKey(h), v, nil); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		one := make([]byte, 1)
		f.ReadAt(one, loc.off+loc.size/2)
		one[0] ^= 1
		if _, err := f.WriteAt(one, loc.off+loc.size/2); err != nil {
			t.Fatal(err)
		}
	case *S3:
		pack, loc, ok := b.locate(h)
		if !ok {
			t.Fatalf("chunk %s is in no index", h)
		}
		data, err := b.get(pack, nil)
		if err != nil {
			t.Fatal(err)
		}
		data[loc.off+int64(loc.size)/2] ^= 1
		if err := b.put(pack, data); err != nil {
			t.Fatal(err)
		}
		b.spanMu.Lock() // packs never change, so reads keep spans: forget them
		b.spans = nil
		b.spanMu.Unlock()
	}
}

func removeChunk(t *testing.T, s *Store, h Hash) {
	switch b := s.b.(type) {
	case *Local:
		if err := b.db.Delete(chunkKey(h), nil); err != nil {
			t.Fatal(err)
		}
		if err := b.db.Delete(inlineKey(h), nil); err != nil {
			t.Fatal(err)
		}
	case *S3:
		// Rewrite every index without the chunk, and forget it.
		keys, err := b.listKeys(b.indexPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			bz, err := b.get(k, nil)
			if err != nil {
				t.Fatal(err)
			}
			ix, err := decodeS3Index(bz)
			if err != nil {
				t.Fatal(err)
			}
			kept := ix.entries[:0]
			for _, e := range ix.entries {
				if e.hash != h {
					kept = append(kept, e)
				}
			}
			ix.entries = kept
			if err := b.put(k, ix.encode()); err != nil {
				t.Fatal(err)
			}
		}
		b.mu.Lock()
		delete(b.where, h)
		b.mu.Unlock()
	}
}

// forgeManifest stores bz as the manifest of root.
func forgeManifest(t *testing.T, s *Store, root Hash, bz []byte) {
	switch b := s.b.(type) {
	case *Local:
		if err := b.db.Put(manifestKey(root), bz, nil); err != nil {
			t.Fatal(err)
		}
	case *S3:
		if err := b.put(b.manifestKey(root), bz); err != nil {
			t.Fatal(err)
		}
	}
}

// storedChunks counts the chunks the backend holds (referenced or not).
func storedChunks(t *testing.T, s *Store) int {
	n := 0
	switch b := s.b.(type) {
	case *Local:
		for _, p := range []byte{prefixChunk, prefixInline} {
			it := b.db.NewIterator(util.BytesPrefix([]byte{p}), nil)
			for it.Next() {
				n++
			}
			it.Release()
		}
	case *S3:
		// What a fresh open of the bucket finds.
		fresh, err := OpenS3(b.cfg)
		if err != nil {
			t.Fatal(err)
		}
		n = len(fresh.where)
	}
	return n
}

var _ = bytes.Equal
