// Package server is the blob store's HTTP API: upload and verified
// download of objects and directories, Sign-In with Ethereum, key release
// of private objects to license holders, fingerprinted exports and leak
// tracing.
package server

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"sahara/platform/siwe"
	"sahara/platform/store"
	"sahara/platform/store/fingerprint"
)

// Config wires a server.
type Config struct {
	Store     *store.Store
	Access    Access
	SIWE      *siwe.Server
	Ledger    *Ledger
	MaxUpload int64 // bytes per upload (0: 64 GiB)
}

type srv struct{ Config }

// New returns the API handler. Routes (all JSON unless bytes):
//
//	GET  /v1/auth/nonce                     a single-use SIWE nonce
//	POST /v1/auth/login                     {message, signature} → {token, address, expires}
//	PUT  /v1/objects?name=&private=1&dir=1  upload (dir=1: a tar of a directory); signed-in
//	GET  /v1/objects                        list
//	GET  /v1/objects/{root}                 bytes, verified; Range; private: ?asset=ID and a license
//	GET  /v1/objects/{root}?format=tar      a directory as a tar stream
//	GET  /v1/objects/{root}/manifest        the manifest
//	GET  /v1/objects/{root}/export?asset=ID the caller's fingerprinted copy (CSV / JSONL)
//	POST /v1/trace?asset=ID&format=csv      who leaked this copy
func New(cfg Config) http.Handler {
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = 64 << 30
	}
	s := &srv{cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /v1/auth/nonce", s.nonce)
	mux.HandleFunc("POST /v1/auth/login", s.login)
	mux.HandleFunc("PUT /v1/objects", s.put)
	mux.HandleFunc("GET /v1/objects", s.list)
	mux.HandleFunc("GET /v1/objects/{root}", s.get)
	mux.HandleFunc("GET /v1/objects/{root}/manifest", s.manifest)
	mux.HandleFunc("GET /v1/objects/{root}/export", s.export)
	mux.HandleFunc("POST /v1/trace", s.trace)
	return mux
}

// apiError is every error the API returns: a status and a sentence.
type apiError struct {
	Status int    `json:"-"`
	Error  string `json:"error"`
}

func fail(status int, format string, a ...any) *apiError {
	return &apiError{Status: status, Error: fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, e *apiError) { writeJSON(w, e.Status, e) }

// storeErr maps store errors to statuses.
func storeErr(err error) *apiError {
	var nf *store.NotFoundError
	var tl *store.TooLargeError
	var rm *store.RootMismatchError
	var ce *store.CorruptError
	var ac *store.AccessConflictError
	switch {
	case errors.As(err, &ac):
		return fail(409, "%s", err)
	case errors.As(err, &nf):
		return fail(404, "%s", err)
	case errors.As(err, &tl):
		return fail(413, "%s", err)
	case errors.As(err, &rm):
		return fail(422, "%s", err)
	case errors.As(err, &ce):
		return fail(500, "%s", err)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fail(413, "the upload is larger than the limit of %d bytes (nothing was stored)", mbe.Limit)
	}
	return fail(400, "%s", err)
}

func (s *srv) nonce(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"nonce": s.SIWE.Nonce(), "domain": s.SIWE.Domain, "chain_id": s.SIWE.ChainID})
}

func (s *srv) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message   string `json:"message"`
		Signature string `json:"signature"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || req.Message == "" {
		writeErr(w, fail(400, `want a JSON body {"message": "<EIP-4361 text>", "signature": "0x…"}`))
		return
	}
	sig, err := siwe.DecodeSignature(req.Signature)
	if err == nil {
		var tok string
		var sess siwe.Session
		if tok, sess, err = s.SIWE.Login(req.Message, sig); err == nil {
			writeJSON(w, 200, map[string]any{"token": tok, "address": sess.Address.Hex(), "expires": sess.Expires})
			return
		}
	}
	writeErr(w, fail(401, "sign-in refused: %s", err))
}

// session returns the signed-in address of a request.
func (s *srv) session(r *http.Request) (common.Address, *apiError) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return common.Address{}, fail(401, "sign in first: GET /v1/auth/nonce, sign the EIP-4361 message, POST /v1/auth/login, then send Authorization: Bearer <token>")
	}
	sess, err := s.SIWE.Check(tok)
	if err != nil {
		return common.Address{}, fail(401, "%s", err)
	}
	return sess.Address, nil
}

func boolParam(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	return v == "1" || v == "true"
}

func (s *srv) put(w http.ResponseWriter, r *http.Request) {
	if _, e := s.session(r); e != nil {
		writeErr(w, e)
		return
	}
	if r.ContentLength > s.MaxUpload {
		writeErr(w, fail(413, "the upload declares %d bytes, over the limit of %d (nothing was stored)", r.ContentLength, s.MaxUpload))
		return
	}
	o := store.PutOptions{Name: r.URL.Query().Get("name"), Private: boolParam(r, "private"), MaxSize: s.MaxUpload}
	if v := r.Header.Get("X-Sahara-Expect-Root"); v != "" {
		h, err := store.ParseHash(v)
		if err != nil {
			writeErr(w, fail(400, "X-Sahara-Expect-Root: %s", err))
			return
		}
		o.Expect = &h
	}
	body := http.MaxBytesReader(w, r.Body, s.MaxUpload)
	var m *store.Manifest
	var st store.PutStats
	var err error
	if boolParam(r, "dir") {
		// The expected root is the listing's: checked before the directory
		// is committed (its files are objects of their own).
		m, err = s.Store.PutTar(body, o)
	} else {
		m, st, err = s.Store.PutWith(body, o)
	}
	if err != nil {
		writeErr(w, storeErr(err))
		return
	}
	writeJSON(w, 201, map[string]any{"root": m.Root, "size": m.Size, "kind": kindOf(m), "private": m.Private(),
		"chunks": len(m.Chunks), "new_chunks": st.NewChunks, "new_bytes": st.NewBytes})
}

func kindOf(m *store.Manifest) string {
	if m.Kind == "" {
		return "file"
	}
	return m.Kind
}

// Listing is one object in GET /v1/objects.
type Listing struct {
	Root    store.Hash `json:"root"`
	Size    int64      `json:"size"`
	Name    string     `json:"name,omitempty"`
	Kind    string     `json:"kind"`
	Private bool       `json:"private"`
	Created time.Time  `json:"created"`
}

// Manifest is the listing as a manifest without its chunk list; a private object gets an empty
// envelope so Private() reports it.
func (l Listing) Manifest() *store.Manifest {
	m := &store.Manifest{Root: l.Root, Size: l.Size, Name: l.Name, Kind: l.Kind, Created: l.Created}
	if m.Kind == "file" {
		m.Kind = ""
	}
	if l.Private {
		m.Encryption = &store.Envelope{}
	}
	return m
}

func (s *srv) list(w http.ResponseWriter, r *http.Request) {
	ms, err := s.Store.List()
	if err != nil {
		writeErr(w, storeErr(err))
		return
	}
	out := make([]Listing, 0, len(ms))
	for _, m := range ms {
		out = append(out, Listing{m.Root, m.Size, m.Name, kindOf(m), m.Private(), m.Created})
	}
	writeJSON(w, 200, out)
}

func (s *srv) loadManifest(r *http.Request) (*store.Manifest, *apiError) {
	root, err := store.ParseHash(r.PathValue("root"))
	if err != nil {
		return nil, fail(400, "%s", err)
	}
	m, err := s.Store.Manifest(root)
	if err != nil {
		return nil, storeErr(err)
	}
	return m, nil
}

func (s *srv) manifest(w http.ResponseWriter, r *http.Request) {
	m, e := s.loadManifest(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	if m.Encryption != nil { // the wrapped key is of no use outside the node
		env := *m.Encryption
		env.WrappedKey = nil
		m.Encryption = &env
	}
	writeJSON(w, 200, m)
}

// authorize checks a signed-in caller's license for an object as an
// asset (?asset=ID). Returns the caller.
func (s *srv) authorize(r *http.Request, m *store.Manifest) (common.Address, uint64, *apiError) {
	addr, e := s.session(r)
	if e != nil {
		return addr, 0, e
	}
	v := r.URL.Query().Get("asset")
	asset, err := strconv.ParseUint(v, 10, 64)
	if err != nil || asset == 0 {
		return addr, 0, fail(400, "name the asset this object belongs to: ?asset=<id> (got %q)", v)
	}
	if s.Access == nil {
		return addr, 0, fail(403, "this store has no license checker configured, so private objects are not released")
	}
	ok, reason, err := s.Access.MayAccess(r.Context(), addr, asset, m.Root)
	if err != nil {
		return addr, 0, fail(503, "could not check the license: %s", err)
	}
	if !ok {
		return addr, 0, fail(403, "access denied for %s to asset %d: %s", addr.Hex(), asset, reason)
	}
	return addr, asset, nil
}

func (s *srv) get(w http.ResponseWriter, r *http.Request) {
	m, e := s.loadManifest(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	if m.Private() {
		if _, _, e := s.authorize(r, m); e != nil {
			writeErr(w, e)
			return
		}
	}
	if r.URL.Query().Get("format") == "tar" {
		s.getTar(w, m)
		return
	}
	start, length := int64(0), m.Size
	status := 200
	if rg := r.Header.Get("Range"); rg != "" {
		var ok bool
		if start, length, ok = parseRange(rg, m.Size); !ok {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", m.Size))
			writeErr(w, fail(416, "range %q is not one satisfiable byte range of this %d-byte object", rg, m.Size))
			return
		}
		status = 206
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, m.Size))
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", `"`+m.Root.String()+`"`)
	h.Set("X-Sahara-Root", m.Root.String())
	w.WriteHeader(status)
	if err := s.Store.CopyRange(m, start, length, w); err != nil {
		// The status is sent; cutting the connection makes the client see a
		// short body instead of a complete-looking one. Bad bytes were
		// never written.
		panic(http.ErrAbortHandler)
	}
}

// parseRange reads a single "bytes=a-b", "bytes=a-" or "bytes=-n".
func parseRange(h string, size int64) (int64, int64, bool) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false
	}
	if a == "" { // suffix
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		n = min(n, size)
		return size - n, n, size > 0
	}
	from, err := strconv.ParseInt(a, 10, 64)
	if err != nil || from < 0 || from >= size {
		return 0, 0, false
	}
	to := size - 1
	if b != "" {
		if to, err = strconv.ParseInt(b, 10, 64); err != nil || to < from {
			return 0, 0, false
		}
		to = min(to, size-1)
	}
	return from, to - from + 1, true
}

func (s *srv) getTar(w http.ResponseWriter, m *store.Manifest) {
	if m.Kind != store.KindDir {
		writeErr(w, fail(400, "object %s is a file: format=tar is for directories", m.Root))
		return
	}
	l, err := s.Store.ReadDir(m.Root)
	if err != nil {
		writeErr(w, storeErr(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("X-Sahara-Root", m.Root.String())
	tw := tar.NewWriter(w)
	for _, e := range l.Entries {
		fm, err := s.Store.Manifest(e.Root)
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: e.Path, Mode: int64(e.Mode), Size: fm.Size, Typeflag: tar.TypeReg, ModTime: fm.Created})
		}
		if err == nil {
			err = s.Store.CopyRange(fm, 0, fm.Size, tw)
		}
		if err != nil {
			panic(http.ErrAbortHandler)
		}
	}
	tw.Close()
}

func (s *srv) fingerprintFormat(r *http.Request, name string, head []byte) (fingerprint.Format, *apiError) {
	if f := r.URL.Query().Get("format"); f != "" {
		if f != string(fingerprint.CSV) && f != string(fingerprint.JSONL) {
			return "", fail(400, "format %q: use csv or jsonl", f)
		}
		return fingerprint.Format(f), nil
	}
	f, err := fingerprint.Detect(name, head)
	if err != nil {
		return "", fail(400, "%s", err)
	}
	return f, nil
}

// export serves the caller's own fingerprinted copy of a tabular object,
// recording it in the ledger first (a copy is never served unrecorded).
func (s *srv) export(w http.ResponseWriter, r *http.Request) {
	m, e := s.loadManifest(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	addr, asset, e := s.authorize(r, m)
	if e != nil {
		writeErr(w, e)
		return
	}
	if m.Kind == store.KindDir {
		writeErr(w, fail(400, "object %s is a directory: export one of its files", m.Root))
		return
	}
	head := &headWriter{max: 4096}
	s.Store.CopyRange(m, 0, min(m.Size, 4096), head)
	f, e := s.fingerprintFormat(r, m.Name, head.b)
	if e != nil {
		writeErr(w, e)
		return
	}
	if s.Store.NodeKey() == nil {
		writeErr(w, fail(500, "this store has no node key to derive fingerprint keys from"))
		return
	}
	licensee := strings.ToLower(addr.Hex())
	if err := s.Ledger.Append(Export{Asset: asset, Root: m.Root, Licensee: licensee, Format: f, Time: time.Now().UTC()}); err != nil {
		writeErr(w, fail(500, "recording the export: %s", err))
		return
	}
	key := fingerprint.LicenseeKey(s.Store.NodeKey().Derive("fingerprint"), asset, licensee)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.Store.CopyRange(m, 0, m.Size, pw)) }()
	ct := "text/csv"
	if f == fingerprint.JSONL {
		ct = "application/x-ndjson"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Sahara-Licensee", licensee)
	w.WriteHeader(200)
	if _, err := fingerprint.Mark(f, pr, w, key); err != nil {
		pr.CloseWithError(err)
		panic(http.ErrAbortHandler)
	}
}

type headWriter struct {
	b   []byte
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if n := h.max - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

func (s *srv) trace(w http.ResponseWriter, r *http.Request) {
	if _, e := s.session(r); e != nil {
		writeErr(w, e)
		return
	}
	asset, err := strconv.ParseUint(r.URL.Query().Get("asset"), 10, 64)
	if err != nil {
		writeErr(w, fail(400, "name the asset: ?asset=<id>"))
		return
	}
	f, e := s.fingerprintFormat(r, "", nil)
	if e != nil || f == "" {
		writeErr(w, fail(400, "name the format: ?format=csv or ?format=jsonl"))
		return
	}
	v, err := Trace(s.Store.NodeKey(), s.Ledger, asset, f, http.MaxBytesReader(w, r.Body, s.MaxUpload))
	if err != nil {
		writeErr(w, storeErr(err))
		return
	}
	writeJSON(w, 200, v)
}
