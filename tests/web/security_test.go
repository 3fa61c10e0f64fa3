package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"sahara/platform/siwe"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

// client is a script's HTTP session with the web app: cookies, and the CSRF token of its pages.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]+)">`)

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.refreshCSRF()
	return c
}

func (c *client) refreshCSRF() {
	res, err := c.http.Get(c.base + "/login")
	if err != nil {
		c.t.Fatal(err)
	}
	bz, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfMeta.FindSubmatch(bz)
	if m == nil {
		c.t.Fatal("no CSRF token on the login page")
	}
	c.csrf = string(m[1])
}

// do sends a request (JSON body unless body is a reader) and returns status and body.
func (c *client) do(method, path string, body any, hdr map[string]string) (int, string) {
	c.t.Helper()
	var r io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r = b
	case url.Values:
		r, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		bz, _ := json.Marshal(b)
		r = bytes.NewReader(bz)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	bz, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(bz)
}

func (c *client) post(path string, body any) (int, string) {
	return c.do("POST", path, body, map[string]string{"X-CSRF-Token": c.csrf})
}

func (c *client) devLogin(n int) {
	c.t.Helper()
	code, body := c.do("POST", "/auth/dev", url.Values{"n": {fmt.Sprint(n)}, "csrf": {c.csrf}}, nil)
	if code != http.StatusSeeOther {
		c.t.Fatalf("dev login: %d %s", code, body)
	}
}

// siweLogin signs in with key through the wallet path; edit may change the message first.
func (c *client) siweLogin(key []byte, edit func(m *siwe.Message)) (int, string) {
	c.t.Helper()
	k, _ := crypto.ToECDSA(key)
	addr := crypto.PubkeyToAddress(k.PublicKey)
	var n struct {
		Message string `json:"message"`
	}
	code, body := c.do("GET", "/api/auth/nonce?address="+addr.Hex(), nil, nil)
	if code != 200 {
		c.t.Fatalf("nonce: %d %s", code, body)
	}
	json.Unmarshal([]byte(body), &n)
	m, err := siwe.Parse(n.Message)
	if err != nil {
		c.t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	text := m.String()
	sig, _ := siwe.Sign(text, key)
	return c.post("/api/auth/login", map[string]string{"message": text, "signature": fmt.Sprintf("0x%x", sig)})
}

func mustStatus(t *testing.T, what string, code int, body string, want int, contains string) {
	t.Helper()
	if code != want || !strings.Contains(body, contains) {
		t.Fatalf("%s: got %d %s, want %d with %q", what, code, body, want, contains)
	}
}

// TestBadInputAndSecurity: markup in names, descriptions and URIs stays inert; oversized
// uploads are refused whole; forged, replayed, expired and misdirected sign-ins are refused;
// a state-changing request without the CSRF token is refused; nobody acts as somebody else.
func TestBadInputAndSecurity(t *testing.T) {
	n := startNode(t, "sqlite", "--web-max-upload", "65536")
	ctx := ctxFor(t, 5*time.Minute)
	ec, err := n.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evil := `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`
	dev0 := n.Wallet(0)
	send := func(call protocol.Call, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ec.SendAndWait(ctx, dev0, &call.To, nil, call.Data, call.Gas); err != nil {
			t.Fatal(err)
		}
	}
	send(protocol.RegisterAsset("DATASET", evil, "javascript:window.__xss=3", [32]byte{1}, 1, nil))
	send(protocol.RegisterAsset("MODEL", "plain name", "data:text/plain,"+url.PathEscape(`<img src=x onerror="window.__xss=4"> described`), [32]byte{2}, 1, nil))
	var st struct {
		Height int64 `json:"indexed_height"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		getJSON(t, n.Web+"/api/status", &st)
		var list struct{ Assets []any }
		getJSON(t, n.Web+"/api/assets", &list)
		if len(list.Assets) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the assets were not indexed")
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("markup is inert", func(t *testing.T) {
		u := newUser(t, "visitor", n.Web, newShots(t))
		for _, p := range []string{"/", "/?q=script", "/assets/1", "/assets/2", "/accounts/" + dev0.Address.Hex()} {
			u.open(p)
			if v := u.eval(`String(window.__xss)`); v != "undefined" {
				t.Fatalf("%s ran injected script (__xss=%s)", p, v)
			}
			if n := u.eval(`String(document.querySelectorAll('img[src="x"], a[href^="javascript"]').length)`); n != "0" {
				t.Fatalf("%s has %s injected elements", p, n)
			}
		}
		u.open("/assets/1")
		if got := u.text(`[data-testid="asset-name"]`); got != evil {
			t.Fatalf("the name shows as %q, want the literal text", got)
		}
		u.snap("escaped-name")
		u.open("/assets/2")
		if got := u.text(`[data-testid="asset-description"]`); !strings.Contains(got, `<img src=x`) {
			t.Fatalf("the description shows as %q", got)
		}
		res, _ := http.Get(n.Web + "/assets/1")
		bz, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if bytes.Contains(bz, []byte("<script>window.__xss")) || bytes.Contains(bz, []byte(`href="javascript:`)) {
			t.Fatal("the page's HTML carries the markup unescaped")
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("CSP %q", csp)
		}
	})

	t.Run("oversized upload", func(t *testing.T) {
		c := newClient(t, n.Web)
		c.devLogin(0)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "big.bin")
		fw.Write(bytes.Repeat([]byte("x"), 100_000))
		mw.Close()
		before := storeCount(t, n.Store)
		code, body := c.do("POST", "/api/upload", &buf, map[string]string{"X-CSRF-Token": c.csrf, "Content-Type": mw.FormDataContentType()})
		mustStatus(t, "100 kB upload with a 64 KiB limit", code, body, 413, "limit of 64.0 KiB")
		if after := storeCount(t, n.Store); after != before {
			t.Fatalf("the refused upload left %d objects in the store", after-before)
		}
		// A small one goes through.
		buf.Reset()
		mw = multipart.NewWriter(&buf)
		fw, _ = mw.CreateFormFile("file", "small.csv")
		fw.Write([]byte("a,b\n1,2\n"))
		mw.Close()
		code, body = c.do("POST", "/api/upload", &buf, map[string]string{"X-CSRF-Token": c.csrf, "Content-Type": mw.FormDataContentType()})
		mustStatus(t, "small upload", code, body, 200, `"root"`)
	})

	t.Run("sign-in refusals", func(t *testing.T) {
		c := newClient(t, n.Web)
		key := crypto.FromECDSA(evmclient.NewWallet().Key)
		other := crypto.FromECDSA(evmclient.NewWallet().Key)
		// forged: the message names one address, another key signs it
		k, _ := crypto.ToECDSA(key)
		code, body := c.siweLogin(other, func(m *siwe.Message) { m.Address = crypto.PubkeyToAddress(k.PublicKey) })
		mustStatus(t, "forged signature", code, body, 401, "signed by")
		code, body = c.siweLogin(key, func(m *siwe.Message) {
			past := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
			m.ExpirationTime = &past
		})
		mustStatus(t, "expired message", code, body, 401, "expired")
		code, body = c.siweLogin(key, func(m *siwe.Message) { m.Domain = "evil.example" })
		mustStatus(t, "wrong domain", code, body, 401, "domain")
		code, body = c.siweLogin(key, func(m *siwe.Message) { m.ChainID = 1 })
		mustStatus(t, "wrong chain id", code, body, 401, "chain id")
		code, body = c.post("/api/auth/login", map[string]string{"message": "hello", "signature": "0x00"})
		mustStatus(t, "garbage message", code, body, 401, "sign-in message")
		// a good one works once; its replay is refused
		var replay struct{ msg, sig string }
		code, body = c.siweLogin(key, func(m *siwe.Message) {
			replay.msg = m.String()
			s, _ := siwe.Sign(replay.msg, key)
			replay.sig = fmt.Sprintf("0x%x", s)
		})
		mustStatus(t, "good sign-in", code, body, 200, `"address"`)
		code, body = newClient(t, n.Web).post("/api/auth/login", map[string]string{"message": replay.msg, "signature": replay.sig})
		mustStatus(t, "replayed message", code, body, 401, "already used")
	})

	t.Run("csrf", func(t *testing.T) {
		c := newClient(t, n.Web)
		c.devLogin(1)
		pay := map[string]any{"asset": 1, "amount": "1", "sign": "dev"}
		code, body := c.do("POST", "/api/tx/pay", pay, nil)
		mustStatus(t, "no token", code, body, 403, "CSRF")
		code, body = c.do("POST", "/api/tx/pay", pay, map[string]string{"X-CSRF-Token": newClient(t, n.Web).csrf})
		mustStatus(t, "another browser's token", code, body, 403, "CSRF")
		code, body = c.do("POST", "/api/tx/pay", pay, map[string]string{"X-CSRF-Token": c.csrf, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		mustStatus(t, "cross-site request", code, body, 403, "cross-origin")
		code, body = c.do("POST", "/auth/logout", url.Values{}, nil)
		mustStatus(t, "logout without token", code, body, 403, "CSRF")
	})

	t.Run("nobody acts as another", func(t *testing.T) {
		c := newClient(t, n.Web)
		c.devLogin(1)
		// an extra "from" is ignored: the session's address pays
		code, body := c.post("/api/tx/pay", map[string]any{"asset": 2, "amount": "1", "sign": "dev", "from": dev0.Address.Hex()})
		mustStatus(t, "pay as dev1", code, body, 200, `"tx_hash"`)
		var pays []struct{ Payer string }
		raw, _ := json.Marshal(mapGet(t, n.Web+"/api/assets/2", "recent_payments"))
		json.Unmarshal(raw, &pays)
		if len(pays) != 1 || pays[0].Payer != n.Wallet(1).Address.Hex() {
			t.Fatalf("payments %+v: want dev1 as the payer", pays)
		}
		// a session cookie edited to another address is not a session
		u, _ := url.Parse(n.Web)
		for _, ck := range c.http.Jar.Cookies(u) {
			if ck.Name == "sahara_session" {
				p64, mac, _ := strings.Cut(ck.Value, ".")
				payload, _ := base64Raw(p64)
				forged := strings.Replace(payload, n.Wallet(1).Address.Hex(), dev0.Address.Hex(), 1)
				c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "sahara_session", Value: base64RawEnc(forged) + "." + mac, Path: "/"}})
			}
		}
		code, body = c.post("/api/tx/claim", map[string]any{"sign": "dev"})
		mustStatus(t, "forged session cookie", code, body, 401, "sign in")
		// a wallet account the server holds no key of cannot ask the server to sign
		w := newClient(t, n.Web)
		code, body = w.siweLogin(crypto.FromECDSA(evmclient.NewWallet().Key), nil)
		mustStatus(t, "wallet sign-in", code, body, 200, "address")
		code, body = w.post("/api/tx/claim", map[string]any{"sign": "dev"})
		mustStatus(t, "server signing for a wallet account", code, body, 403, "not a dev account")
		// without sign=dev it gets the call to sign, from its own address
		code, body = w.post("/api/tx/claim", map[string]any{})
		mustStatus(t, "claim call for the wallet", code, body, 200, `"data"`)
	})

	t.Run("clear errors", func(t *testing.T) {
		c := newClient(t, n.Web)
		c.devLogin(0)
		code, body := c.post("/api/tx/register", map[string]any{"kind": "DATASET", "name": "", "root": strings.Repeat("ab", 32), "sign": "dev"})
		mustStatus(t, "empty name", code, body, 400, "name: give 1 to 128 bytes")
		code, body = c.post("/api/tx/register", map[string]any{"kind": "DATASET", "name": "x", "root": "zz", "sign": "dev"})
		mustStatus(t, "bad root", code, body, 400, "root")
		code, body = c.post("/api/tx/register", map[string]any{"kind": "DATASET", "name": "x", "root": strings.Repeat("ab", 32), "description": strings.Repeat("é", 300)})
		mustStatus(t, "long description", code, body, 400, "shorten it")
		code, body = c.post("/api/tx/pay", map[string]any{"asset": 1, "amount": "-3"})
		mustStatus(t, "negative amount", code, body, 400, "amount")
		code, body = c.post("/api/tx/pay", map[string]any{"asset": 999, "amount": "1"})
		mustStatus(t, "unknown asset", code, body, 400, "the chain refuses this")
		code, body = c.do("GET", "/api/assets/abc", nil, nil)
		mustStatus(t, "bad id", code, body, 400, "positive whole number")
		code, body = c.do("GET", "/api/assets?kind=CAT", nil, nil)
		mustStatus(t, "bad kind", code, body, 400, "DATASET")
		code, body = c.do("GET", "/api/assets/12345", nil, nil)
		mustStatus(t, "missing asset", code, body, 404, "does not exist")
	})
}

func storeCount(t *testing.T, base string) int {
	var list []any
	res, err := http.Get(base + "/v1/objects")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	json.NewDecoder(res.Body).Decode(&list)
	return len(list)
}

func base64Raw(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err
}

func base64RawEnc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
