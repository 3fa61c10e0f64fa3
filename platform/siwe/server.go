package siwe

import (
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Server issues single-use nonces, checks signed messages against them
// and hands out short sessions. State is in memory: a restart signs
// everybody out, which is the safe direction.
type Server struct {
	Domain   string        // must match the message's domain
	ChainID  uint64        // must match the message's chain id
	NonceTTL time.Duration // how long an unused nonce stays valid
	Session  time.Duration // longest session (a message's Expiration Time can shorten it)
	Skew     time.Duration // clock skew allowed on Issued At / Not Before
	Now      func() time.Time

	mu       sync.Mutex
	nonces   map[string]time.Time // nonce → expiry; deleted when used
	sessions map[string]Session
}

// Session is a signed-in address.
type Session struct {
	Address common.Address
	Expires time.Time
}

// NewServer makes a server for a domain (host[:port]) and EVM chain id.
func NewServer(domain string, chainID uint64) *Server {
	return &Server{Domain: domain, ChainID: chainID, NonceTTL: 5 * time.Minute, Session: time.Hour,
		Skew: time.Minute, Now: time.Now, nonces: map[string]time.Time{}, sessions: map[string]Session{}}
}

// Nonce issues a fresh single-use nonce.
func (s *Server) Nonce() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	for n, exp := range s.nonces { // drop expired ones as we go
		if now.After(exp) {
			delete(s.nonces, n)
		}
	}
	n := randomToken(16)
	s.nonces[n] = now.Add(s.NonceTTL)
	return n
}

// Error is a refused sign-in; the message says why.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func refuse(format string, a ...any) error { return &Error{Reason: fmt.Sprintf(format, a...)} }

// Login checks a signed message and opens a session. The nonce is spent
// by any attempt that names it, so a captured message can never be
// replayed, not even after a failed first try.
func (s *Server) Login(text string, sig []byte) (token string, sess Session, err error) {
	m, err := Parse(text)
	if err != nil {
		return "", sess, &Error{Reason: err.Error()}
	}
	now := s.Now()
	s.mu.Lock()
	exp, ok := s.nonces[m.Nonce]
	delete(s.nonces, m.Nonce)
	s.mu.Unlock()
	switch {
	case !ok:
		return "", sess, refuse("nonce %s was not issued by this server or was already used: ask for a new one", m.Nonce)
	case now.After(exp):
		return "", sess, refuse("nonce %s expired: ask for a new one", m.Nonce)
	case m.Domain != s.Domain:
		return "", sess, refuse("message is for domain %q, this server is %q", m.Domain, s.Domain)
	case m.ChainID != s.ChainID:
		return "", sess, refuse("message is for chain id %d, this chain is %d", m.ChainID, s.ChainID)
	case m.IssuedAt.After(now.Add(s.Skew)):
		return "", sess, refuse("message is issued in the future (%s)", m.IssuedAt.Format(time.RFC3339))
	case m.ExpirationTime != nil && now.After(*m.ExpirationTime):
		return "", sess, refuse("message expired at %s", m.ExpirationTime.Format(time.RFC3339))
	case m.NotBefore != nil && m.NotBefore.After(now.Add(s.Skew)):
		return "", sess, refuse("message is not valid before %s", m.NotBefore.Format(time.RFC3339))
	}
	signer, err := Recover(text, sig)
	if err != nil {
		return "", sess, &Error{Reason: err.Error()}
	}
	if signer != m.Address {
		return "", sess, refuse("message is signed by %s, not by %s", signer.Hex(), m.Address.Hex())
	}
	sess = Session{Address: m.Address, Expires: now.Add(s.Session)}
	if m.ExpirationTime != nil && m.ExpirationTime.Before(sess.Expires) {
		sess.Expires = *m.ExpirationTime
	}
	token = randomToken(32)
	s.mu.Lock()
	for t, old := range s.sessions {
		if now.After(old.Expires) {
			delete(s.sessions, t)
		}
	}
	s.sessions[token] = sess
	s.mu.Unlock()
	return token, sess, nil
}

// Check returns the session of a bearer token.
func (s *Server) Check(token string) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[token]
	if !ok {
		return sess, refuse("unknown session token: sign in again")
	}
	if s.Now().After(sess.Expires) {
		delete(s.sessions, token)
		return sess, refuse("session expired at %s: sign in again", sess.Expires.Format(time.RFC3339))
	}
	return sess, nil
}

// NewMessage is the message a client signs for a nonce from this server.
func NewMessage(domain string, addr common.Address, uri string, chainID uint64, nonce string, now time.Time) *Message {
	exp := now.Add(10 * time.Minute)
	return &Message{Domain: domain, Address: addr, Statement: "Sign in to the Sahara store.", URI: uri, Version: "1",
		ChainID: chainID, Nonce: nonce, IssuedAt: now, ExpirationTime: &exp}
}
