package web

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"sahara/platform/store"
)

// GET /upload: the publish form (file, kind, name, description, terms).
func (a *App) uploadPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.requireSession(w, r); !ok {
		return
	}
	q := r.URL.Query() // "Register a derivative" links prefill the parent and license
	a.render(w, r, "upload", "Publish an asset", map[string]any{"MaxUpload": a.cfg.MaxUpload, "Kinds": kinds, "StoreOn": a.cfg.Store != nil,
		"Parent": q.Get("parent"), "License": q.Get("license")})
}

// POST /api/upload (multipart: file, private=1): stores the file in the blob store and answers
// its content root and size, which the registration then commits on chain. A file over the
// limit is refused whole (413), with nothing stored.
func (a *App) upload(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.requireSession(w, r); !ok {
		return
	}
	if a.cfg.Store == nil {
		a.fail(w, r, http.StatusServiceUnavailable, "this node runs no blob store: start sahara up with --store-addr")
		return
	}
	if r.ContentLength > a.cfg.MaxUpload+1<<20 {
		a.fail(w, r, http.StatusRequestEntityTooLarge, "the file is %s; the limit is %s", humanBytes(r.ContentLength), humanBytes(a.cfg.MaxUpload))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "want a multipart form with a file field: %v", err)
		return
	}
	private := false
	for {
		part, err := mr.NextPart()
		if err != nil {
			a.fail(w, r, http.StatusBadRequest, "no file in the form: choose a file to upload")
			return
		}
		switch part.FormName() {
		case "private":
			buf := make([]byte, 8)
			n, _ := part.Read(buf)
			private = string(buf[:n]) == "1" || string(buf[:n]) == "on" || string(buf[:n]) == "true"
			continue
		case "file":
		default:
			continue
		}
		name := filepath.Base(part.FileName())
		if name == "." || name == "/" || name == "" {
			a.fail(w, r, http.StatusBadRequest, "the file has no name")
			return
		}
		lr := &limitReader{r: part, left: a.cfg.MaxUpload}
		m, _, err := a.cfg.Store.PutWith(lr, store.PutOptions{Name: name, Private: private})
		if lr.over {
			a.fail(w, r, http.StatusRequestEntityTooLarge, "the file is larger than the limit of %s: nothing was stored", humanBytes(a.cfg.MaxUpload))
			return
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				a.fail(w, r, http.StatusRequestEntityTooLarge, "the upload is larger than the limit of %s: nothing was stored", humanBytes(a.cfg.MaxUpload))
				return
			}
			var ac *store.AccessConflictError
			if errors.As(err, &ac) {
				a.fail(w, r, http.StatusConflict, "%v", err)
				return
			}
			a.fail(w, r, 500, "storing the file: %v", err)
			return
		}
		if m.Size == 0 {
			a.fail(w, r, http.StatusBadRequest, "the file is empty")
			return
		}
		writeJSON(w, 200, map[string]any{"root": m.Root.String(), "size": m.Size, "name": name, "private": m.Private()})
		return
	}
}

// limitReader fails a read past the limit, so the store never commits an oversized object.
type limitReader struct {
	r    interface{ Read([]byte) (int, error) }
	left int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return n, fmt.Errorf("the file is larger than the upload limit")
	}
	return n, err
}
