package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // URL, e.g. http://127.0.0.1:7070 or https://s3.amazonaws.com
	Bucket    string
	Prefix    string // key prefix inside the bucket (optional)
	AccessKey string
	SecretKey string
	Region    string
}

// ParseS3URL reads s3://ACCESS:SECRET@host:port/bucket/prefix?region=R&tls=1
// (tls=1 for https) into a config.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, fmt.Errorf("S3 location %q: want s3://ACCESS:SECRET@host:port/bucket[/prefix][?tls=1&region=R]", raw)
	}
	path := strings.Trim(u.Path, "/")
	bucket, prefix, _ := strings.Cut(path, "/")
	if bucket == "" {
		return S3Config{}, fmt.Errorf("S3 location %q names no bucket: want s3://ACCESS:SECRET@host:port/bucket", raw)
	}
	scheme := "http"
	if u.Query().Get("tls") == "1" {
		scheme = "https"
	}
	secret, _ := u.User.Password()
	return S3Config{
		Endpoint: scheme + "://" + u.Host, Bucket: bucket, Prefix: prefix,
		AccessKey: u.User.Username(), SecretKey: secret, Region: u.Query().Get("region"),
	}, nil
}

// S3 keeps chunks as objects <prefix>chunks/<hash> and manifests as
// <prefix>objects/<root>.json. S3 writes are atomic and durable per
// object, so a batch uploads its chunks in parallel and writes the
// manifest only after every upload has succeeded.
type S3 struct {
	c        *minio.Client
	cfg      S3Config
	parallel int
}

// OpenS3 connects to the bucket, creating it if it does not exist.
func OpenS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("S3 endpoint %q is not a URL like http://host:port", cfg.Endpoint)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: cfg.Region,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	s := &S3{c: c, cfg: cfg, parallel: 8}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("reaching S3 at %s: %w", cfg.Endpoint, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("creating bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
		}
	}
	return s, nil
}

func (s *S3) Describe() string {
	return fmt.Sprintf("S3 bucket %s at %s", s.cfg.Bucket, s.cfg.Endpoint)
}

func (s *S3) chunkKey(h Hash) string    { return s.cfg.Prefix + "chunks/" + h.String() }
func (s *S3) manifestKey(h Hash) string { return s.cfg.Prefix + "objects/" + h.String() + ".json" }

func isNoSuchKey(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

func (s *S3) HasChunk(h Hash) (bool, error) {
	_, err := s.c.StatObject(context.Background(), s.cfg.Bucket, s.chunkKey(h), minio.StatObjectOptions{})
	if isNoSuchKey(err) {
		return false, nil
	}
	return err == nil, err
}

func (s *S3) get(key string, buf []byte) ([]byte, error) {
	o, err := s.c.GetObject(context.Background(), s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer o.Close()
	out := bytes.NewBuffer(buf[:0])
	if _, err := io.Copy(out, o); err != nil {
		if isNoSuchKey(err) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	return out.Bytes(), nil
}

func (s *S3) ReadChunk(h Hash, size int64, buf []byte) ([]byte, error) {
	if int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	return s.get(s.chunkKey(h), buf)
}

func (s *S3) ReadManifest(root Hash) ([]byte, error) { return s.get(s.manifestKey(root), nil) }

func (s *S3) ListManifests() ([]Hash, error) {
	var out []Hash
	prefix := s.cfg.Prefix + "objects/"
	for o := range s.c.ListObjects(context.Background(), s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if o.Err != nil {
			return nil, o.Err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), ".json")
		if h, err := ParseHash(name); err == nil {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

func (s *S3) Close() error { return nil }

func (s *S3) put(key string, data []byte) error {
	_, err := s.c.PutObject(context.Background(), s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	return err
}

type s3Batch struct {
	s    *S3
	jobs chan s3Job
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

type s3Job struct {
	h    Hash
	data []byte
}

func (s *S3) NewBatch() (Batch, error) {
	jobs := make(chan s3Job, s.parallel)
	b := &s3Batch{s: s, jobs: jobs}
	for i := 0; i < s.parallel; i++ {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for j := range jobs { // not b.jobs: wait() sets it to nil
				if b.failed() {
					continue
				}
				if err := s.put(s.chunkKey(j.h), j.data); err != nil {
					b.fail(fmt.Errorf("uploading chunk %s: %w", j.h, err))
				}
			}
		}()
	}
	return b, nil
}

func (b *s3Batch) failed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err != nil
}

func (b *s3Batch) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

func (b *s3Batch) PutChunk(h Hash, data []byte) error {
	if b.failed() {
		return b.err
	}
	// The caller reuses data: the upload gets its own copy (memory stays
	// bounded by the queue and the workers).
	b.jobs <- s3Job{h, append([]byte(nil), data...)}
	return nil
}

func (b *s3Batch) wait() error {
	if b.jobs != nil {
		close(b.jobs)
		b.jobs = nil
		b.wg.Wait()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *s3Batch) Commit(root Hash, manifest []byte) error {
	if err := b.wait(); err != nil {
		return err
	}
	return b.s.put(b.s.manifestKey(root), manifest)
}

// Abort waits for the uploads in flight; chunks already uploaded stay
// unreferenced (content-addressed, so a later put reuses them).
func (b *s3Batch) Abort() { _ = b.wait() }

// ReadAhead: chunks fetched in parallel on reads, to overlap round trips.
func (s *S3) ReadAhead() int { return s.parallel }
