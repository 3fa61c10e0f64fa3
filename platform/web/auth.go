package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"sahara/platform/siwe"
)

// siweFor returns the sign-in server of the host the browser reached us at. A message must
// name that host as its domain, so a message signed for another site never logs in here.
func (a *App) siweFor(r *http.Request) *siwe.Server {
	a.siweMu.Lock()
	defer a.siweMu.Unlock()
	host := r.Host
	s, ok := a.siwe[host]
	if !ok {
		if len(a.siwe) > 64 { // hosts are few; a flood of made-up Host headers resets them
			a.siwe = map[string]*siwe.Server{}
		}
		s = siwe.NewServer(host, a.cfg.ChainID)
		s.Session = sessionTTL
		a.siwe[host] = s
	}
	return s
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// GET /api/auth/nonce?address=0x… → a fresh nonce and the exact EIP-4361 message to sign.
func (a *App) authNonce(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("address")
	if !common.IsHexAddress(addr) {
		a.fail(w, r, http.StatusBadRequest, "address %q: want the 0x address that will sign", addr)
		return
	}
	s := a.siweFor(r)
	nonce := s.Nonce()
	m := a.message(r, common.HexToAddress(addr), nonce)
	writeJSON(w, 200, map[string]any{"nonce": nonce, "domain": s.Domain, "chain_id": a.cfg.ChainID, "message": m.String()})
}

func (a *App) message(r *http.Request, addr common.Address, nonce string) *siwe.Message {
	now := time.Now().UTC().Truncate(time.Second)
	exp := now.Add(sessionTTL) // the session ends when the signed message does
	return &siwe.Message{Domain: r.Host, Address: addr, Statement: "Sign in to the Sahara marketplace.", URI: scheme(r) + "://" + r.Host,
		Version: "1", ChainID: a.cfg.ChainID, Nonce: nonce, IssuedAt: now, ExpirationTime: &exp}
}

// POST /api/auth/login {message, signature}: checks the signed message (nonce single-use and
// unexpired, domain, chain id, signature) and sets the session cookie.
func (a *App) authLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message   string `json:"message"`
		Signature string `json:"signature"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || req.Message == "" || req.Signature == "" {
		a.fail(w, r, http.StatusBadRequest, `want a JSON body {"message": "<EIP-4361 text>", "signature": "0x…"}`)
		return
	}
	sig, err := siwe.DecodeSignature(req.Signature)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "signature: %v", err)
		return
	}
	_, sess, err := a.siweFor(r).Login(req.Message, sig)
	if err != nil {
		a.fail(w, r, http.StatusUnauthorized, "sign-in refused: %v", err)
		return
	}
	exp := sess.Expires
	if lim := time.Now().Add(sessionTTL); exp.After(lim) {
		exp = lim
	}
	a.setSession(w, r, sess.Address, exp)
	writeJSON(w, 200, map[string]any{"address": sess.Address.Hex(), "expires": exp.UTC().Format(time.RFC3339)})
}

// POST /auth/dev (dev mode only), form n=N: signs in as dev account N. The server signs the
// same EIP-4361 message a wallet would, with the dev key, and goes through the same checks.
func (a *App) authDev(w http.ResponseWriter, r *http.Request) {
	if !a.DevMode() {
		a.fail(w, r, http.StatusNotFound, "dev sign-in exists only in dev mode (sahara up)")
		return
	}
	n, err := strconv.Atoi(r.FormValue("n"))
	if err != nil || n < 0 || n >= len(a.cfg.Dev) {
		a.fail(w, r, http.StatusBadRequest, "dev account %q: want 0 to %d", r.FormValue("n"), len(a.cfg.Dev)-1)
		return
	}
	wal := a.dev[common.HexToAddress(a.cfg.Dev[n].Address)]
	s := a.siweFor(r)
	text := a.message(r, wal.Address, s.Nonce()).String()
	sig, err := siwe.Sign(text, wal.Key.D.FillBytes(make([]byte, 32)))
	if err != nil {
		a.fail(w, r, 500, "signing: %v", err)
		return
	}
	_, sess, err := s.Login(text, sig)
	if err != nil {
		a.fail(w, r, 500, "dev sign-in: %v", err)
		return
	}
	a.setSession(w, r, sess.Address, sess.Expires)
	next := r.FormValue("next")
	if next == "" || next[0] != '/' || (len(next) > 1 && (next[1] == '/' || next[1] == '\\')) {
		next = "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// POST /auth/logout
func (a *App) authLogout(w http.ResponseWriter, r *http.Request) {
	a.clearSession(w)
	if wantsJSON(r) {
		writeJSON(w, 200, map[string]bool{"ok": true})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// GET /login
func (a *App) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if next == "" || next[0] != '/' {
		next = "/account"
	}
	a.render(w, r, "login", "Sign in", map[string]any{"Next": next})
}

// requireSession returns the session or answers 401 (JSON) / redirects to the login page.
func (a *App) requireSession(w http.ResponseWriter, r *http.Request) (Session, bool) {
	s, ok := a.session(r)
	if ok {
		return s, true
	}
	if wantsJSON(r) || r.Method != http.MethodGet {
		a.fail(w, r, http.StatusUnauthorized, "sign in first (Sign-In with Ethereum)")
		return s, false
	}
	http.Redirect(w, r, "/login?next="+r.URL.Path, http.StatusSeeOther)
	return s, false
}
