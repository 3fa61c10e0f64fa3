package cli

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"sahara/platform/store"
	"sahara/platform/store/server"
)

// remoteStore is the CLI over a store's HTTP API (--server), signed in
// with Ethereum as the key's address.
type remoteStore struct{ c *server.Client }

func signIn(base string, keys keyFlags) (*remoteStore, error) {
	k, err := readKey(keys.hex, keys.file)
	if err != nil {
		return nil, fmt.Errorf("--server needs a key to sign in with: %w", err)
	}
	c, err := server.SignIn(base, k)
	if err != nil {
		return nil, fmt.Errorf("signing in to %s: %w", base, err)
	}
	return &remoteStore{c}, nil
}

// put uploads a file, standard input or a directory (as a tar stream).
func (r *remoteStore) put(cmd *cobra.Command, path string, private, showBar bool) error {
	q := url.Values{}
	if private {
		q.Set("private", "1")
	}
	src, err := openPutSource(path)
	if err != nil {
		return err
	}
	defer src.Close()
	q.Set("name", src.name)
	body, total := src.file, src.total
	if src.isDir {
		q.Set("dir", "1")
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, path)) }()
		body = pr
	}
	var bar *progress
	if showBar {
		bar = newProgress(cmd.ErrOrStderr(), "put", total)
		body = io.TeeReader(body, &countingWriter{w: io.Discard, f: bar.set})
	}
	t0 := time.Now()
	res, err := r.c.Do("PUT", "/v1/objects?"+q.Encode(), body, nil)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return err
	}
	out["seconds"] = time.Since(t0).Seconds()
	return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
}

// writeTar streams a folder's regular files as a tar (symbolic links are
// refused, as a local put does).
func writeTar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link: copy the target in instead", p)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: int64(fi.Mode().Perm()), Size: fi.Size(), Typeflag: tar.TypeReg, ModTime: fi.ModTime()}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// get downloads an object. A whole file is checked again here: its bytes
// must hash to the root asked for, or the output is not written. A
// directory comes as a tar and is extracted into a new folder.
func (r *remoteStore) get(cmd *cobra.Command, arg string, asset uint64, out string, offset, length int64, showBar bool) error {
	root, err := store.ParseHash(arg)
	if err != nil {
		return err
	}
	var m store.Manifest
	if err := r.c.JSON("GET", "/v1/objects/"+root.String()+"/manifest", nil, &m); err != nil {
		return err
	}
	q := url.Values{}
	if asset != 0 {
		q.Set("asset", strconv.FormatUint(asset, 10))
	}
	if m.Kind == store.KindDir {
		if out == "" {
			return fmt.Errorf("object %s is a directory: give --out FOLDER (a new folder)", root)
		}
		q.Set("format", "tar")
		res, err := r.c.Do("GET", "/v1/objects/"+root.String()+"?"+q.Encode(), nil, nil)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		return extractTar(res.Body, out)
	}
	if length < 0 {
		length = m.Size - offset
	}
	hdr := map[string]string{}
	whole := offset == 0 && length == m.Size
	if !whole {
		hdr["Range"] = fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
	}
	res, err := r.c.Do("GET", "/v1/objects/"+root.String()+"?"+q.Encode(), nil, hdr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	w, commit, err := outputFile(cmd, out)
	if err != nil {
		return err
	}
	var bar *progress
	if showBar && out != "" {
		bar = newProgress(cmd.ErrOrStderr(), "get", length)
		w = &countingWriter{w: w, f: bar.set}
	}
	var src io.Reader = io.LimitReader(res.Body, length)
	var check *io.PipeWriter
	rootc := make(chan store.Hash, 1)
	if whole {
		pr, pw := io.Pipe()
		check = pw
		go func() {
			h, _, err := store.RootOf(pr)
			pr.CloseWithError(err)
			rootc <- h
		}()
		src = io.TeeReader(src, pw)
	}
	n, err := io.Copy(w, src)
	if bar != nil {
		bar.finish()
	}
	if err == nil && n != length {
		err = fmt.Errorf("the server sent %d of %d bytes", n, length)
	}
	if check != nil {
		check.Close()
		if got := <-rootc; err == nil && got != root {
			err = fmt.Errorf("the bytes received hash to %s, not %s: not written", got, root)
		}
	}
	return commit(err)
}

// extractTar writes a tar into a new folder, all or nothing, refusing
// entries that would leave it.
func extractTar(r io.Reader, dest string) error {
	return store.IntoNewFolder(dest, func(tmp string) error {
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading the directory stream: %w", err)
			}
			p, err := store.CleanEntryPath(h.Name)
			if err != nil {
				return err
			}
			if h.Typeflag != tar.TypeReg {
				return fmt.Errorf("entry %q is not a regular file", h.Name)
			}
			full := filepath.Join(tmp, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(h.Mode&0o777)|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	})
}

// list returns the server's objects as manifests (without chunk lists).
func (r *remoteStore) list() ([]*store.Manifest, error) {
	var ls []server.Listing
	if err := r.c.JSON("GET", "/v1/objects", nil, &ls); err != nil {
		return nil, err
	}
	out := make([]*store.Manifest, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Manifest())
	}
	return out, nil
}
