package siwe

import (
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// The example message of EIP-4361 parses and renders back byte for byte.
func TestParseSpecExample(t *testing.T) {
	text := `service.invalid wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ServiceOrg Terms of Service: https://service.invalid/tos

URI: https://service.invalid/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json`
	m, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if m.Domain != "service.invalid" || m.ChainID != 1 || m.Nonce != "32891756" || len(m.Resources) != 2 {
		t.Fatalf("%+v", m)
	}
	if m.String() != text {
		t.Fatalf("render differs:\n%s", m.String())
	}
	for _, c := range []struct{ from, to, want string }{
		{"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "EIP-55"},
		{"Nonce: 32891756", "Nonce: 12", "at least 8"},
		{"Version: 1", "Version: 2", "version"},
		{"Issued At: 2021-09-30T16:25:24Z", "Issued At: yesterday", "RFC 3339"},
		{"Chain ID: 1", "Chain ID: one", "not a number"},
		{"URI: https://service.invalid/login\n", "", `want "URI`},
	} {
		if _, err := Parse(strings.Replace(text, c.from, c.to, 1)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: %v", c.from, c.to, err)
		}
	}
}

func TestLoginReplayAndRefusals(t *testing.T) {
	key, _ := crypto.GenerateKey()
	kb := crypto.FromECDSA(key)
	addr := crypto.PubkeyToAddress(key.PublicKey)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := NewServer("store.example:8090", 4817293)
	s.Now = func() time.Time { return now }
	sign := func(m *Message) (string, []byte) {
		text := m.String()
		sig, err := Sign(text, kb)
		if err != nil {
			t.Fatal(err)
		}
		return text, sig
	}
	msg := func() *Message {
		return NewMessage(s.Domain, addr, "http://store.example:8090", s.ChainID, s.Nonce(), now)
	}

	text, sig := sign(msg())
	tok, sess, err := s.Login(text, sig)
	if err != nil || sess.Address != addr {
		t.Fatalf("login: %v", err)
	}
	if got, err := s.Check(tok); err != nil || got.Address != addr || !got.Expires.Equal(now.Add(10*time.Minute)) {
		t.Fatalf("check: %+v %v", got, err)
	}
	if _, _, err := s.Login(text, sig); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("replay: %v", err)
	}

	other, _ := crypto.GenerateKey()
	for _, c := range []struct {
		edit func(*Message)
		sig  func(string) []byte
		want string
	}{
		{func(m *Message) { m.Domain = "evil.example" }, nil, "domain"},
		{func(m *Message) { m.ChainID = 1 }, nil, "chain id"},
		{func(m *Message) { e := now.Add(-time.Second); m.ExpirationTime = &e }, nil, "expired"},
		{func(m *Message) { m.IssuedAt = now.Add(time.Hour) }, nil, "future"},
		{func(m *Message) { m.Nonce = "abcdefgh12345678" }, nil, "not issued"},
		{nil, func(text string) []byte { b, _ := Sign(text, crypto.FromECDSA(other)); return b }, "signed by"},
		{nil, func(string) []byte { return make([]byte, 64) }, "65"},
	} {
		m := msg()
		if c.edit != nil {
			c.edit(m)
		}
		text, sig := sign(m)
		if c.sig != nil {
			sig = c.sig(text)
		}
		if _, _, err := s.Login(text, sig); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
	// A message altered after signing recovers another address.
	m := msg()
	text, sig = sign(m)
	if _, _, err := s.Login(strings.Replace(text, "Sign in", "Sign-in", 1), sig); err == nil || !strings.Contains(err.Error(), "signed by") {
		t.Fatalf("tampered: %v", err)
	}
	// Sessions and nonces expire.
	now = now.Add(11 * time.Minute)
	if _, err := s.Check(tok); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("old session: %v", err)
	}
	n := s.Nonce()
	now = now.Add(6 * time.Minute)
	text, sig = sign(NewMessage(s.Domain, addr, "http://x", s.ChainID, n, now))
	if _, _, err := s.Login(text, sig); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("old nonce: %v", err)
	}
}
