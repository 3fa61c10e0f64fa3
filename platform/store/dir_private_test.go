package store

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDirectoryRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		src := t.TempDir()
		files := map[string]string{"a.txt": "alpha", "sub/b.csv": "x,y\n1,2\n", "sub/deeper/c.bin": string(randomBytes(300_000, 9)), "empty": ""}
		writeTree(t, src, files)
		m, err := s.PutDir(src, PutOptions{Name: "tree"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != KindDir {
			t.Fatalf("kind %q", m.Kind)
		}
		// Same tree, same root.
		m2, _ := s.PutDir(src, PutOptions{Name: "again"})
		if m2.Root != m.Root {
			t.Fatalf("same tree, roots %s and %s", m.Root, m2.Root)
		}
		dest := filepath.Join(t.TempDir(), "out")
		if err := s.GetDir(m.Root, dest); err != nil {
			t.Fatal(err)
		}
		for p, body := range files {
			got, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(p)))
			if err != nil || string(got) != body {
				t.Fatalf("%s: %v (equal %v)", p, err, string(got) == body)
			}
		}
		fi, _ := os.Stat(filepath.Join(dest, "a.txt"))
		if fi.Mode().Perm() != 0o640 {
			t.Fatalf("mode %v", fi.Mode())
		}
		if err := s.GetDir(m.Root, dest); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("extracting over an existing folder: %v", err)
		}
		// A file root is not a directory.
		l, _ := s.ReadDir(m.Root)
		if _, err := s.ReadDir(l.Entries[0].Root); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("file as directory: %v", err)
		}
	})
}

func tarOf(t *testing.T, entries ...*tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		body := strings.Repeat("z", int(h.Size))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

// Path traversal and links in a tar upload are refused before anything
// is stored; a listing forged to escape is refused on extraction.
func TestDirectoryPathTraversalIsRefused(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := func(name string) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: 3, Mode: 0o644}
	}
	for _, c := range []struct {
		tar  []byte
		want string
	}{
		{tarOf(t, reg("ok.txt"), reg("../evil.txt")), "path traversal"},
		{tarOf(t, reg("/etc/passwd")), "absolute path"},
		{tarOf(t, reg("a/./b")), "path traversal"},
		{tarOf(t, reg(`a\..\b`)), "backslash"},
		{tarOf(t, &tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}), "links and devices are refused"},
		{tarOf(t, reg("x"), reg("x")), "appears twice"},
		{[]byte("this is not a tar stream at all, just text that goes on for a while......" + strings.Repeat(".", 600)), "reading the tar stream"},
	} {
		_, err := s.PutTar(bytes.NewReader(c.tar), PutOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
	if objs, _ := s.List(); len(objs) != 1 { // only ok.txt of the first tar, never a directory
		for _, o := range objs {
			if o.Kind == KindDir {
				t.Fatalf("a refused upload left directory %s", o.Root)
			}
		}
	}
	// A well-formed tar works.
	m, err := s.PutTar(bytes.NewReader(tarOf(t, &tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}, reg("d/f.txt"))), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := s.ReadDir(m.Root)
	if len(l.Entries) != 1 || l.Entries[0].Path != "d/f.txt" {
		t.Fatalf("listing %+v", l)
	}
	// A listing forged with "../" (e.g. written by another tool) is refused
	// on extraction and nothing is written.
	f, _, _ := s.Put(strings.NewReader("pwned"), "f")
	forged := `{"entries":[{"path":"../escaped.txt","root":"` + f.Root.String() + `","size":5,"mode":420}]}`
	fm, _, err := s.PutWith(strings.NewReader(forged), PutOptions{Kind: KindDir})
	if err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	if err := s.GetDir(fm.Root, filepath.Join(parent, "out")); err == nil || !strings.Contains(err.Error(), "path traversal") {
		t.Fatalf("forged listing: %v", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Fatalf("a refused extraction left %d entries", len(ents))
	}
}

func TestPrivateObjectsAreEncryptedAtRest(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		secret := []byte(strings.Repeat("the secret training set row\n", 20_000))
		m, _, err := s.PutWith(bytes.NewReader(secret), PutOptions{Name: "private.txt", Private: true})
		if err != nil {
			t.Fatal(err)
		}
		// The root is the plaintext's: the same as a public copy's and RootOf's.
		want, _, _ := RootOf(bytes.NewReader(secret))
		if m.Root != want || !m.Private() || m.Encryption.KeyID != s.key.ID {
			t.Fatalf("root %s want %s, private %v", m.Root, want, m.Private())
		}
		// No stored chunk contains plaintext.
		for _, c := range m.Chunks {
			raw, err := s.b.ReadChunk(*c.Stored, c.Size+gcmOverhead, nil)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte("secret training")) {
				t.Fatal("plaintext found in a stored chunk")
			}
		}
		var out bytes.Buffer
		if err := s.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), secret) {
			t.Fatalf("get: %v", err)
		}
		out.Reset()
		if err := s.GetRange(m.Root, 100_000, 50, &out); err != nil || !bytes.Equal(out.Bytes(), secret[100_000:100_050]) {
			t.Fatalf("range: %v", err)
		}
		// Another node's key cannot open it.
		other, _ := LoadNodeKey(filepath.Join(t.TempDir(), "k"))
		s2 := New(s.b, other)
		if err := s2.Get(m.Root, &out); err == nil || !strings.Contains(err.Error(), "wrapped by node key") {
			t.Fatalf("other node: %v", err)
		}
		// A damaged encrypted chunk is detected, the first or the second of a pair read together.
		damageChunk(t, s, *m.Chunks[0].Stored)
		var ce *CorruptError
		if err := s.Verify(m.Root); !errors.As(err, &ce) || ce.Chunk != 0 {
			t.Fatalf("damaged private chunk: %v", err)
		}
		m2, _, err := s.PutWith(bytes.NewReader(randomBytes(1<<20, 77)), PutOptions{Name: "private2", Private: true})
		if err != nil || len(m2.Chunks) < 2 {
			t.Fatalf("put: %v", err)
		}
		damageChunk(t, s, *m2.Chunks[1].Stored)
		if err := s.Verify(m2.Root); !errors.As(err, &ce) || ce.Chunk != 1 || !strings.Contains(err.Error(), "does not decrypt") {
			t.Fatalf("damaged second private chunk: %v", err)
		}
	})
}

func TestPutLimitsAndExpectedRoot(t *testing.T) {
	s, _ := Open(t.TempDir())
	data := randomBytes(1<<20, 11)
	var tl *TooLargeError
	if _, _, err := s.PutWith(bytes.NewReader(data), PutOptions{MaxSize: 1<<20 - 1}); !errors.As(err, &tl) || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("over the limit: %v", err)
	}
	if _, _, err := s.PutWith(bytes.NewReader(data), PutOptions{MaxSize: 1 << 20}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	wrong := Hash{1}
	var rm *RootMismatchError
	if _, _, err := s.PutWith(bytes.NewReader(data[:1000]), PutOptions{Expect: &wrong}); !errors.As(err, &rm) {
		t.Fatalf("wrong root: %v", err)
	}
	if objs, _ := s.List(); len(objs) != 1 {
		t.Fatalf("%d objects, want only the one put within the limit", len(objs))
	}
}

// Committed objects are immutable: the same bytes again return the stored
// object; a copy with the other access is refused either way.
func TestSameBytesOtherAccessIsRefused(t *testing.T) {
	s, _ := Open(t.TempDir())
	defer s.Close()
	secret := randomBytes(200_000, 31)
	m, _, err := s.PutWith(bytes.NewReader(secret), PutOptions{Name: "secret", Private: true})
	if err != nil {
		t.Fatal(err)
	}
	var ac *AccessConflictError
	if _, _, err := s.PutWith(bytes.NewReader(secret), PutOptions{Name: "leak"}); !errors.As(err, &ac) || !strings.Contains(err.Error(), "stored privately") {
		t.Fatalf("public copy of a private object: %v", err)
	}
	again, st, err := s.PutWith(bytes.NewReader(secret), PutOptions{Private: true})
	if err != nil || again.Name != "secret" || st.NewBytes != 0 || !again.Private() {
		t.Fatalf("same private bytes again: %+v %+v %v", again, st, err)
	}
	pub := randomBytes(100_000, 32)
	if _, _, err := s.Put(bytes.NewReader(pub), "public"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutWith(bytes.NewReader(pub), PutOptions{Private: true}); !errors.As(err, &ac) || !strings.Contains(err.Error(), "publicly already") {
		t.Fatalf("private copy of a public object: %v", err)
	}
	var out bytes.Buffer
	if err := s.Get(m.Root, &out); err != nil || !bytes.Equal(out.Bytes(), secret) {
		t.Fatalf("the private object after the refused copies: %v", err)
	}
}

// A directory whose listing does not hash to the expected root is not
// committed.
func TestDirectoryExpectedRoot(t *testing.T) {
	s, _ := Open(t.TempDir())
	defer s.Close()
	src := t.TempDir()
	writeTree(t, src, map[string]string{"x.txt": "x"})
	wrong := Hash{9}
	var rm *RootMismatchError
	if _, err := s.PutDir(src, PutOptions{Expect: &wrong}); !errors.As(err, &rm) {
		t.Fatalf("wrong root: %v", err)
	}
	objs, _ := s.List()
	for _, o := range objs {
		if o.Kind == KindDir {
			t.Fatal("a directory with the wrong root was committed")
		}
	}
	m, err := s.PutDir(src, PutOptions{Expect: &rm.Got})
	if err != nil || m.Root != rm.Got {
		t.Fatalf("right root: %v", err)
	}
}
