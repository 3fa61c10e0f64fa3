package server

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"sahara/platform/siwe"
	"sahara/platform/store"
)

type env struct {
	srv    *httptest.Server
	store  *store.Store
	access *StaticAccess
	ledger *Ledger
}

func newEnv(t *testing.T, maxUpload int64) *env {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{store: st, access: &StaticAccess{}, ledger: OpenLedger(filepath.Join(dir, "exports.jsonl"))}
	var domain string
	sw := siwe.NewServer("", 4817293)
	e.srv = httptest.NewServer(New(Config{Store: st, Access: e.access, SIWE: sw, Ledger: e.ledger, MaxUpload: maxUpload}))
	t.Cleanup(e.srv.Close)
	u, _ := url.Parse(e.srv.URL)
	domain = u.Host
	sw.Domain = domain
	return e
}

type user struct {
	key  []byte
	addr common.Address
	c    *Client
}

func (e *env) user(t *testing.T) *user {
	k, _ := crypto.GenerateKey()
	kb := crypto.FromECDSA(k)
	c, err := SignIn(e.srv.URL, kb)
	if err != nil {
		t.Fatal(err)
	}
	return &user{kb, crypto.PubkeyToAddress(k.PublicKey), c}
}

func wantStatus(t *testing.T, err error, status int, substr string) {
	t.Helper()
	var se *StatusError
	if !errors.As(err, &se) || se.Status != status || !strings.Contains(se.Message, substr) {
		t.Fatalf("want %d %q, got %v", status, substr, err)
	}
}

func (u *user) put(t *testing.T, path string, body io.Reader, hdr map[string]string) (map[string]any, error) {
	res, err := u.c.Do("PUT", path, body, hdr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	decodeJSON(res.Body, &out)
	return out, nil
}

func (u *user) get(path string, hdr map[string]string) ([]byte, *http.Response, error) {
	res, err := u.c.Do("GET", path, nil, hdr)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	bz, err := io.ReadAll(res.Body)
	return bz, res, err
}

func TestPrivateObjectsAreReleasedOnlyToLicenseHolders(t *testing.T) {
	e := newEnv(t, 0)
	owner, licensee, stranger, expired, revoked := e.user(t), e.user(t), e.user(t), e.user(t), e.user(t)
	secret := bytes.Repeat([]byte("private row\n"), 100_000)
	out, err := owner.put(t, "/v1/objects?name=data.csv&private=1", bytes.NewReader(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := store.ParseHash(out["root"].(string))
	if out["private"] != true {
		t.Fatalf("put: %v", out)
	}
	const asset = 42
	e.access.Set(licensee.addr, asset, root, "")
	e.access.Set(expired.addr, asset, root, "license 7 expired at 2026-11-22T10:00:00Z")
	e.access.Set(revoked.addr, asset, root, "license 8 was revoked")
	path := "/v1/objects/" + root.String()

	anon := &Client{Base: e.srv.URL, HTTP: http.DefaultClient}
	_, err = anon.Do("GET", path+"?asset=42", nil, nil)
	wantStatus(t, err, 401, "sign in first")
	_, _, err = licensee.get(path, nil)
	wantStatus(t, err, 400, "?asset=<id>")
	_, _, err = stranger.get(path+"?asset=42", nil)
	wantStatus(t, err, 403, "no license of asset 42")
	_, _, err = expired.get(path+"?asset=42", nil)
	wantStatus(t, err, 403, "expired at")
	_, _, err = revoked.get(path+"?asset=42", nil)
	wantStatus(t, err, 403, "revoked")
	_, _, err = licensee.get(path+"?asset=43", nil)
	wantStatus(t, err, 403, "asset 43")

	bz, _, err := licensee.get(path+"?asset=42", nil)
	if err != nil || !bytes.Equal(bz, secret) {
		t.Fatalf("licensee: %v (equal %v)", err, bytes.Equal(bz, secret))
	}
	// Ranges work on private objects too.
	bz, res, err := licensee.get(path+"?asset=42", map[string]string{"Range": "bytes=100-199"})
	if err != nil || res.StatusCode != 206 || !bytes.Equal(bz, secret[100:200]) || res.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(secret)) {
		t.Fatalf("range: %v %v", err, res)
	}
	// The manifest never carries the wrapped key.
	var m store.Manifest
	if err := anon.JSON("GET", path+"/manifest", nil, &m); err != nil || m.Encryption == nil || m.Encryption.WrappedKey != nil {
		t.Fatalf("manifest: %v %+v", err, m.Encryption)
	}
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t, 0)
	k, _ := crypto.GenerateKey()
	kb := crypto.FromECDSA(k)
	anon := &Client{Base: e.srv.URL, HTTP: http.DefaultClient}
	var n struct {
		Nonce string `json:"nonce"`
	}
	anon.JSON("GET", "/v1/auth/nonce", nil, &n)
	u, _ := url.Parse(e.srv.URL)
	text := siwe.NewMessage(u.Host, crypto.PubkeyToAddress(k.PublicKey), e.srv.URL, 4817293, n.Nonce, nowUTC()).String()
	sig, _ := siwe.Sign(text, kb)
	body := map[string]string{"message": text, "signature": fmt.Sprintf("0x%x", sig)}
	var ok struct{ Token string }
	if err := anon.JSON("POST", "/v1/auth/login", body, &ok); err != nil || ok.Token == "" {
		t.Fatalf("login: %v", err)
	}
	// The same signed message again: the nonce is spent.
	wantStatus(t, anon.JSON("POST", "/v1/auth/login", body, nil), 401, "already used")
	wantStatus(t, anon.JSON("POST", "/v1/auth/login", map[string]string{"message": "hello"}, nil), 401, "sign-in message")
	_, err := anon.Do("POST", "/v1/auth/login", strings.NewReader("{"), nil)
	wantStatus(t, err, 400, "want a JSON body")
	bad := &Client{Base: e.srv.URL, HTTP: http.DefaultClient, Token: "forged"}
	_, err = bad.Do("PUT", "/v1/objects", strings.NewReader("x"), nil)
	wantStatus(t, err, 401, "unknown session")
}

func TestUploadsBadInput(t *testing.T) {
	e := newEnv(t, 1<<20)
	u := e.user(t)
	data := make([]byte, 300_000)
	rand.New(rand.NewSource(1)).Read(data)
	// Wrong expected root: refused, nothing stored.
	_, err := u.put(t, "/v1/objects", bytes.NewReader(data), map[string]string{"X-Sahara-Expect-Root": strings.Repeat("ab", 32)})
	wantStatus(t, err, 422, "not the expected")
	_, err = u.put(t, "/v1/objects", bytes.NewReader(data), map[string]string{"X-Sahara-Expect-Root": "zz"})
	wantStatus(t, err, 400, "X-Sahara-Expect-Root")
	// Over the limit, declared or streamed (no Content-Length).
	_, err = u.put(t, "/v1/objects", bytes.NewReader(make([]byte, 2<<20)), nil)
	wantStatus(t, err, 413, "limit")
	_, err = u.put(t, "/v1/objects", io.MultiReader(bytes.NewReader(make([]byte, 2<<20))), nil)
	wantStatus(t, err, 413, "limit")
	// Path traversal in a directory upload.
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "../../etc/cron.d/x", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	_, err = u.put(t, "/v1/objects?dir=1", &tb, nil)
	wantStatus(t, err, 400, "path traversal")
	// A truncated upload: the client promises more bytes than it sends
	// and stops sending (a half-close, so the refusal can still be read
	// and the check below comes after the server has handled it).
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v1/objects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 500000\r\n\r\n", u.c.Token)
	conn.Write(data[:200_000])
	conn.(*net.TCPConn).CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the truncated upload: %v", err)
	}
	msg, _ := io.ReadAll(res.Body)
	conn.Close()
	if res.StatusCode != 400 || !strings.Contains(string(msg), "nothing was stored") {
		t.Fatalf("truncated upload: %d %s", res.StatusCode, msg)
	}
	// Nothing above left an object.
	var list []Listing
	if err := u.c.JSON("GET", "/v1/objects", nil, &list); err != nil || len(list) != 0 {
		t.Fatalf("after bad uploads: %v, %d objects", err, len(list))
	}
	// The right root is accepted.
	want, _, _ := store.RootOf(bytes.NewReader(data))
	out, err := u.put(t, "/v1/objects", bytes.NewReader(data), map[string]string{"X-Sahara-Expect-Root": want.String()})
	if err != nil || out["root"] != want.String() {
		t.Fatalf("good upload: %v %v", err, out)
	}
	bz, _, err := u.get("/v1/objects/"+want.String(), nil)
	if err != nil || !bytes.Equal(bz, data) {
		t.Fatalf("get public: %v", err)
	}
	_, _, err = u.get("/v1/objects/"+want.String(), map[string]string{"Range": "bytes=999999-"})
	wantStatus(t, err, 416, "not one satisfiable")
	_, _, err = u.get("/v1/objects/"+strings.Repeat("00", 32), nil)
	wantStatus(t, err, 404, "no object")
	_, _, err = u.get("/v1/objects/nothex", nil)
	wantStatus(t, err, 400, "")
}

func TestDirectoryUploadAndTarDownload(t *testing.T) {
	e := newEnv(t, 0)
	u := e.user(t)
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	files := map[string]string{"model/config.json": `{"layers":2}`, "model/weights.bin": strings.Repeat("w", 200_000), "README": "hi"}
	for _, name := range []string{"README", "model/config.json", "model/weights.bin"} {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(files[name])), Mode: 0o644})
		tw.Write([]byte(files[name]))
	}
	tw.Close()
	out, err := u.put(t, "/v1/objects?dir=1&name=model", &tb, nil)
	if err != nil || out["kind"] != "dir" {
		t.Fatalf("dir put: %v %v", err, out)
	}
	bz, _, err := u.get("/v1/objects/"+out["root"].(string)+"?format=tar", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(bz))
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		body, _ := io.ReadAll(tr)
		if files[h.Name] != string(body) {
			t.Fatalf("%s differs", h.Name)
		}
		n++
	}
	if n != len(files) {
		t.Fatalf("%d files back", n)
	}
}

func TestExportAndTrace(t *testing.T) {
	e := newEnv(t, 0)
	owner := e.user(t)
	var csv strings.Builder
	csv.WriteString("id,text,label\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&csv, "%d,sentence number %d,%s\n", i, i*7, []string{"yes", "no"}[i%2])
	}
	out, err := owner.put(t, "/v1/objects?name=labels.csv&private=1", strings.NewReader(csv.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := store.ParseHash(out["root"].(string))
	var copies [][]byte
	var users []*user
	for i := 0; i < 4; i++ {
		u := e.user(t)
		e.access.Set(u.addr, 9, root, "")
		bz, res, err := u.get("/v1/objects/"+root.String()+"/export?asset=9", nil)
		if err != nil || res.Header.Get("X-Sahara-Licensee") != strings.ToLower(u.addr.Hex()) {
			t.Fatalf("export: %v", err)
		}
		copies, users = append(copies, bz), append(users, u)
	}
	if bytes.Equal(copies[0], copies[1]) {
		t.Fatal("two licensees got the same bytes")
	}
	stranger := e.user(t)
	_, _, err = stranger.get("/v1/objects/"+root.String()+"/export?asset=9", nil)
	wantStatus(t, err, 403, "no license")
	// 2% of licensee 2's rows, shuffled.
	lines := strings.Split(strings.TrimSpace(string(copies[2])), "\n")[1:]
	rand.New(rand.NewSource(2)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	leak := strings.Join(lines[:100], "\n") + "\n"
	var v struct {
		Licensee string
		Reason   string
	}
	res, err := owner.c.Do("POST", "/v1/trace?asset=9&format=csv", strings.NewReader(leak), nil)
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON(res.Body, &v)
	if v.Licensee != strings.ToLower(users[2].addr.Hex()) {
		t.Fatalf("trace accused %q: %s", v.Licensee, v.Reason)
	}
}

func decodeJSON(r io.Reader, v any) { _ = json.NewDecoder(r).Decode(v) }

func nowUTC() time.Time { return time.Now().UTC() }
