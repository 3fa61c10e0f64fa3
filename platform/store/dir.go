package store

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// A directory is stored as one object per file plus a listing object
// (kind "dir") naming each file's path, root, size and mode. The listing's
// root commits to every file's root, so it is the directory's root; it is
// written last, so a failed put leaves no directory.
type DirEntry struct {
	Path string `json:"path"` // slash-separated, relative, no "..": checked on put and on get
	Root Hash   `json:"root"`
	Size int64  `json:"size"`
	Mode uint32 `json:"mode"`
}

// DirListing is the content of a directory object.
type DirListing struct {
	Entries []DirEntry `json:"entries"`
}

// KindDir marks a directory listing object.
const KindDir = "dir"

// CleanEntryPath checks a path inside a directory object: relative,
// slash-separated, no "." or ".." elements, no empty names, no NUL and no
// backslashes, so that extracting it can never write outside the target.
func CleanEntryPath(p string) (string, error) {
	bad := func(why string) error { return fmt.Errorf("directory entry %q: %s", p, why) }
	switch {
	case p == "":
		return "", bad("empty path")
	case strings.ContainsAny(p, "\x00\\"):
		return "", bad("NUL or backslash in the path")
	case strings.HasPrefix(p, "/"):
		return "", bad("absolute path (entries must be relative)")
	}
	for _, el := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if el == "" || el == "." || el == ".." {
			return "", bad(`"", "." or ".." element (path traversal is refused)`)
		}
	}
	return strings.TrimSuffix(p, "/"), nil
}

// putEntries stores each file of a directory (from next) and then the
// listing; next returns io.EOF when done.
func (s *Store) putEntries(o PutOptions, next func() (name string, mode uint32, r io.Reader, err error)) (*Manifest, error) {
	var l DirListing
	seen := map[string]bool{}
	var total int64
	for {
		name, mode, r, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		p, err := CleanEntryPath(name)
		if err != nil {
			return nil, fmt.Errorf("%w (nothing was stored)", err)
		}
		if seen[p] {
			return nil, fmt.Errorf("directory entry %q appears twice (nothing was stored)", p)
		}
		seen[p] = true
		fo := o
		fo.Name, fo.Kind, fo.Expect = path.Base(p), "", nil
		if o.MaxSize > 0 {
			fo.MaxSize = o.MaxSize - total
		}
		if o.Progress != nil {
			base := total
			fo.Progress = func(n int64) { o.Progress(base + n) }
		}
		m, _, err := s.PutWith(r, fo)
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", p, err)
		}
		total += m.Size
		l.Entries = append(l.Entries, DirEntry{Path: p, Root: m.Root, Size: m.Size, Mode: mode & 0o777})
	}
	sort.Slice(l.Entries, func(i, j int) bool { return l.Entries[i].Path < l.Entries[j].Path })
	bz, err := json.Marshal(&l)
	if err != nil {
		return nil, err
	}
	lo := o
	lo.Kind, lo.MaxSize, lo.Progress = KindDir, 0, nil
	m, _, err := s.PutWith(bytes.NewReader(bz), lo)
	return m, err
}

// PutDir stores a folder of the local disk (regular files only; symbolic
// links are refused rather than followed).
func (s *Store) PutDir(dir string, o PutOptions) (*Manifest, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link: copy the target in instead (nothing was stored)", p)
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	i := 0
	var open *os.File
	defer func() {
		if open != nil {
			open.Close()
		}
	}()
	return s.putEntries(o, func() (string, uint32, io.Reader, error) {
		if open != nil {
			open.Close()
			open = nil
		}
		if i == len(files) {
			return "", 0, nil, io.EOF
		}
		p := files[i]
		i++
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return "", 0, nil, err
		}
		f, err := os.Open(p)
		if err != nil {
			return "", 0, nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return "", 0, nil, err
		}
		open = f
		return filepath.ToSlash(rel), uint32(fi.Mode().Perm()), f, nil
	})
}

// PutTar stores a directory sent as a tar stream (the HTTP API's form).
// Only regular files and folders are accepted; links, devices and paths
// that would leave the directory are refused before anything is stored.
func (s *Store) PutTar(r io.Reader, o PutOptions) (*Manifest, error) {
	tr := tar.NewReader(r)
	return s.putEntries(o, func() (string, uint32, io.Reader, error) {
		for {
			h, err := tr.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return "", 0, nil, io.EOF
				}
				return "", 0, nil, fmt.Errorf("reading the tar stream: %w (nothing was stored)", err)
			}
			switch h.Typeflag {
			case tar.TypeDir:
				if _, err := CleanEntryPath(h.Name); err != nil {
					return "", 0, nil, fmt.Errorf("%w (nothing was stored)", err)
				}
				continue
			case tar.TypeReg:
				return h.Name, uint32(h.Mode), tr, nil
			default:
				return "", 0, nil, fmt.Errorf("tar entry %q is not a regular file or folder (type %q): links and devices are refused (nothing was stored)", h.Name, string(h.Typeflag))
			}
		}
	})
}

// ReadDir returns a directory object's listing, every path checked.
func (s *Store) ReadDir(root Hash) (*DirListing, error) {
	m, err := s.Manifest(root)
	if err != nil {
		return nil, err
	}
	if m.Kind != KindDir {
		return nil, fmt.Errorf("object %s is a file, not a directory", root)
	}
	var buf bytes.Buffer
	if err := s.CopyRange(m, 0, m.Size, &buf); err != nil {
		return nil, err
	}
	var l DirListing
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
		return nil, fmt.Errorf("directory %s has a damaged listing: %w", root, err)
	}
	for _, e := range l.Entries {
		if _, err := CleanEntryPath(e.Path); err != nil {
			return nil, fmt.Errorf("directory %s: %w", root, err)
		}
	}
	return &l, nil
}

// GetDir writes a directory object into dest, which must not exist. The
// files go to a temporary folder beside dest, renamed into place only
// when every file has verified: dest is complete or absent.
func (s *Store) GetDir(root Hash, dest string) error {
	l, err := s.ReadDir(root)
	if err != nil {
		return err
	}
	return IntoNewFolder(dest, func(tmp string) error { return s.writeEntries(l, tmp) })
}

// IntoNewFolder fills a temporary folder beside dest and renames it to
// dest only if fill succeeds: dest, which must not exist, ends up
// complete or absent.
func IntoNewFolder(dest string, fill func(tmp string) error) error {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%s already exists: choose a new folder", dest)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

// writeEntries writes a listing's files, verified, under tmp.
func (s *Store) writeEntries(l *DirListing, tmp string) error {
	for _, e := range l.Entries {
		p := filepath.Join(tmp, filepath.FromSlash(e.Path))
		if !strings.HasPrefix(p, tmp+string(filepath.Separator)) {
			return fmt.Errorf("directory entry %q leaves the target folder", e.Path)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(e.Mode & 0o777)
		if mode == 0 {
			mode = 0o644
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return err
		}
		m, err := s.Manifest(e.Root)
		if err == nil && m.Size != e.Size {
			err = fmt.Errorf("%s: listing says %d bytes, object has %d", e.Path, e.Size, m.Size)
		}
		if err == nil {
			err = s.CopyRange(m, 0, m.Size, f)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
	}
	return nil
}
