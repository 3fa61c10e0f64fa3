// Package web is the one web app people use: the marketplace (search, asset pages with the
// lineage graph and revenue, license purchase, upload, earnings and claims), served by
// `sahara up` on :8080. Every other service adds its pages here through Handle / Twin / AddNav
// and its templates through AddTemplates; none starts a second web server for people.
//
// Pages are server-rendered html/template (its contextual escaping is the XSS defence: user
// data never becomes template.HTML) with htmx for partial updates, uPlot charts and a
// cytoscape graph, all embedded with go:embed. Every page has a JSON twin under /api/.
// Reads come from the indexer's database; writes are chain transactions, signed either in the
// browser by the user's wallet (EIP-1193: the server only builds the call) or, in dev mode only,
// by the server with the dev accounts' keys.
package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"sahara/platform/db"
	"sahara/platform/indexer"
	"sahara/platform/siwe"
	"sahara/platform/store"
	"sahara/sdk/evmclient"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DevAccount is a funded dev account whose key the server may use in dev mode.
type DevAccount struct {
	Address    string `json:"address"`
	PrivateKey string `json:"private_key"`
}

// Config wires the app.
type Config struct {
	DB      *db.DB
	Indexer *indexer.Indexer // the writer of DB: actions wait for it to reach their block
	EVMRPC  string           // Ethereum JSON-RPC URL
	GRPC    string           // the node's gRPC address (live claimable amounts)
	ChainID uint64           // EVM chain id, for SIWE and wallets
	Denom   string           // the native denom (asah)
	Bech32  string           // account address prefix
	Store   *store.Store     // uploads and "verify"; nil: no uploads
	// Dev lists the dev accounts: non-empty means dev mode (labelled on every page), where these
	// accounts may sign in and act without a browser wallet.
	Dev       []DevAccount
	Key       []byte // signs session cookies and CSRF tokens (32 random bytes, kept across restarts)
	MaxUpload int64  // bytes per upload (0: 256 MiB)
	// CacheEntries bounds the cache of searches read from the index (0: 4096; negative: none).
	CacheEntries int
	Log          *slog.Logger
}

// App is the web app.
type App struct {
	cfg    Config
	mux    *http.ServeMux
	reader indexer.Reader
	tmplMu sync.Mutex
	tmpl   *template.Template            // fragments
	pages  map[string]*template.Template // a page in the layout, by name
	tfs    []fs.FS
	nav    []NavItem

	evmMu sync.Mutex
	evm   *evmclient.Client
	grpc  *grpc.ClientConn

	searchCache *lru[indexer.Search, searchResult]

	siweMu sync.Mutex
	siwe   map[string]*siwe.Server // per host the app is reached at
	dev    map[common.Address]*evmclient.Wallet
	sendMu sync.Mutex // dev-mode sends: one at a time, so nonces never collide

	actions map[string]Action // chain actions added by other services
}

// NavItem is a link in the top bar.
type NavItem struct{ Label, Path string }

// New builds the app; routes are added, nothing listens yet.
func New(cfg Config) (*App, error) {
	if cfg.DB == nil || cfg.Indexer == nil {
		return nil, errors.New("web: a database and its indexer are required")
	}
	if len(cfg.Key) < 32 {
		return nil, errors.New("web: the cookie key must be at least 32 bytes")
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = 256 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.CacheEntries == 0 {
		cfg.CacheEntries = 4096
	}
	a := &App{cfg: cfg, mux: http.NewServeMux(), reader: indexer.Reader{DB: cfg.DB}, siwe: map[string]*siwe.Server{},
		dev: map[common.Address]*evmclient.Wallet{}, tfs: []fs.FS{templateFS}}
	for _, d := range cfg.Dev {
		w, err := evmclient.WalletFromHex(d.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("dev account %s: %w", d.Address, err)
		}
		a.dev[w.Address] = w
	}
	if cfg.GRPC != "" {
		conn, err := grpc.NewClient(cfg.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("web: chain gRPC %s: %w", cfg.GRPC, err)
		}
		a.grpc = conn
	}
	if cfg.CacheEntries > 0 {
		a.searchCache = newLRU[indexer.Search, searchResult](cfg.CacheEntries)
	}
	a.nav = []NavItem{{"Marketplace", "/"}, {"Publish", "/upload"}, {"Earnings", "/account"}}
	a.routes()
	return a, nil
}

// SearchCacheHitRatio is the share of searches served from the cache.
func (a *App) SearchCacheHitRatio() float64 {
	if a.searchCache == nil {
		return 0
	}
	return a.searchCache.ratio()
}

// DevMode reports whether dev accounts may act through the server.
func (a *App) DevMode() bool { return len(a.cfg.Dev) > 0 }

// Handle adds a route (a net/http ServeMux pattern).
func (a *App) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// AddNav adds a link to the top bar.
func (a *App) AddNav(label, path string) { a.nav = append(a.nav, NavItem{label, path}) }

// AddTemplates adds a service's templates (parsed with the layout on first use).
func (a *App) AddTemplates(fsys fs.FS) {
	a.tmplMu.Lock()
	defer a.tmplMu.Unlock()
	a.tfs = append(a.tfs, fsys)
	a.tmpl = nil
}

// Handler is the app with its protections: cross-origin request refusal and CSRF tokens on
// every state-changing request, sessions, and security headers (a CSP that allows only the
// app's own scripts).
func (a *App) Handler() http.Handler {
	if err := a.parseTemplates(); err != nil {
		panic(err)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusForbidden, "cross-origin request refused: use the app's own pages")
	}))
	inner := cop.Handler(a.mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		csrf := a.csrfCookie(w, r)
		r = r.WithContext(context.WithValue(r.Context(), csrfKey{}, csrf))
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			if !a.csrfOK(r, csrf) {
				a.fail(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
}

// ---- sessions: a signed cookie holding the address and expiry ----

const (
	sessionCookie = "sahara_session"
	csrfCookie    = "sahara_csrf"
	sessionTTL    = 12 * time.Hour
)

type csrfKey struct{}

func (a *App) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, a.cfg.Key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// Session is a signed-in address.
type Session struct {
	Address common.Address
	Expires time.Time
}

func (a *App) setSession(w http.ResponseWriter, r *http.Request, addr common.Address, exp time.Time) {
	payload := addr.Hex() + "|" + strconv.FormatInt(exp.Unix(), 10)
	val := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(a.mac("session", payload))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: val, Path: "/", Expires: exp, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func (a *App) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// session returns the request's valid session, if any.
func (a *App) session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return Session{}, false
	}
	p64, m64, ok := strings.Cut(c.Value, ".")
	if !ok {
		return Session{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, a.mac("session", string(payload))) {
		return Session{}, false
	}
	addr, exp, ok := strings.Cut(string(payload), "|")
	t, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !common.IsHexAddress(addr) || time.Now().Unix() > t {
		return Session{}, false
	}
	return Session{Address: common.HexToAddress(addr), Expires: time.Unix(t, 0)}, true
}

// csrfCookie returns the browser's CSRF secret, setting one on first visit. The token pages
// carry is an HMAC of it, so a token from another browser (or none) is refused.
func (a *App) csrfCookie(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	v := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	return v
}

func (a *App) csrfToken(secret string) string { return hex.EncodeToString(a.mac("csrf", secret)[:16]) }

func (a *App) csrfOK(r *http.Request, secret string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue("csrf")
	}
	return got != "" && hmac.Equal([]byte(got), []byte(a.csrfToken(secret)))
}

// ---- JSON and errors ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// wantsJSON: API paths, and fetches that ask for JSON.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// fail answers an error: JSON {"error": …} to scripts, an error page to people.
func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if status >= 500 {
		a.cfg.Log.Error("web", "path", r.URL.Path, "err", msg)
	}
	if wantsJSON(r) || r.Header.Get("HX-Request") != "" {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	w.WriteHeader(status)
	a.render(w, r, "error", "Error", map[string]any{"Status": status, "StatusText": http.StatusText(status), "Message": msg})
}

// ListenAndServe serves the app on addr until ctx ends; ready gets the URL once listening.
func (a *App) ListenAndServe(ctx context.Context, addr string, ready func(url string)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web app: %w", err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if ready != nil {
		ready("http://" + l.Addr().String())
	}
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// LoadOrCreateKey reads a 32-byte key from path, creating it (mode 0600) on first use.
func LoadOrCreateKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) == 64 {
		return hex.DecodeString(string(b))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, os.WriteFile(path, []byte(hex.EncodeToString(b)), 0o600)
}
