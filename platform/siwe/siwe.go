// Package siwe implements Sign-In with Ethereum (EIP-4361): building and
// parsing the message, checking its signature (EIP-191 personal_sign),
// and a server side that issues single-use nonces and short sessions.
package siwe

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Message is an EIP-4361 message.
type Message struct {
	Domain         string
	Address        common.Address
	Statement      string
	URI            string
	Version        string
	ChainID        uint64
	Nonce          string
	IssuedAt       time.Time
	ExpirationTime *time.Time
	NotBefore      *time.Time
	RequestID      string
	Resources      []string
}

const header = " wants you to sign in with your Ethereum account:"

// String renders the message exactly as EIP-4361 specifies; this is the
// text that is signed.
func (m *Message) String() string {
	var b strings.Builder
	b.WriteString(m.Domain + header + "\n")
	b.WriteString(m.Address.Hex() + "\n\n")
	if m.Statement != "" {
		b.WriteString(m.Statement + "\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "URI: %s\nVersion: %s\nChain ID: %d\nNonce: %s\nIssued At: %s", m.URI, m.Version, m.ChainID, m.Nonce, m.IssuedAt.UTC().Format(time.RFC3339))
	if m.ExpirationTime != nil {
		b.WriteString("\nExpiration Time: " + m.ExpirationTime.UTC().Format(time.RFC3339))
	}
	if m.NotBefore != nil {
		b.WriteString("\nNot Before: " + m.NotBefore.UTC().Format(time.RFC3339))
	}
	if m.RequestID != "" {
		b.WriteString("\nRequest ID: " + m.RequestID)
	}
	if len(m.Resources) > 0 {
		b.WriteString("\nResources:")
		for _, r := range m.Resources {
			b.WriteString("\n- " + r)
		}
	}
	return b.String()
}

var nonceRe = regexp.MustCompile(`^[A-Za-z0-9]{8,}$`)

// Parse reads an EIP-4361 message, strictly: every required field, in
// order, with an EIP-55 checksummed address.
func Parse(text string) (*Message, error) {
	lines := strings.Split(text, "\n")
	i := 0
	next := func() (string, bool) {
		if i >= len(lines) {
			return "", false
		}
		i++
		return lines[i-1], true
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("sign-in message, line %d: %s", i, fmt.Sprintf(format, a...))
	}
	m := &Message{}
	l, _ := next()
	if !strings.HasSuffix(l, header) || strings.TrimSuffix(l, header) == "" {
		return nil, bad("want %q", "<domain>"+header)
	}
	m.Domain = strings.TrimSuffix(l, header)
	l, _ = next()
	if !common.IsHexAddress(l) || common.HexToAddress(l).Hex() != l {
		return nil, bad("want an EIP-55 checksummed address, got %q", l)
	}
	m.Address = common.HexToAddress(l)
	if l, _ = next(); l != "" {
		return nil, bad("want an empty line after the address")
	}
	l, _ = next()
	if l != "" {
		if strings.HasPrefix(l, "URI: ") {
			return nil, bad("want an empty line before URI")
		}
		m.Statement = l
		if l, _ = next(); l != "" {
			return nil, bad("want an empty line after the statement")
		}
	}
	field := func(name string) (string, error) {
		l, ok := next()
		if !ok || !strings.HasPrefix(l, name+": ") {
			return "", bad("want %q", name+": …")
		}
		return strings.TrimPrefix(l, name+": "), nil
	}
	var err error
	if m.URI, err = field("URI"); err != nil {
		return nil, err
	}
	if m.Version, err = field("Version"); err != nil {
		return nil, err
	}
	if m.Version != "1" {
		return nil, bad("version %q, want 1", m.Version)
	}
	cid, err := field("Chain ID")
	if err != nil {
		return nil, err
	}
	if m.ChainID, err = strconv.ParseUint(cid, 10, 64); err != nil {
		return nil, bad("chain id %q is not a number", cid)
	}
	if m.Nonce, err = field("Nonce"); err != nil {
		return nil, err
	}
	if !nonceRe.MatchString(m.Nonce) {
		return nil, bad("nonce must be at least 8 letters or digits")
	}
	ts := func(name string) (time.Time, error) {
		v, err := field(name)
		if err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return t, bad("%s %q is not an RFC 3339 time", name, v)
		}
		return t, nil
	}
	if m.IssuedAt, err = ts("Issued At"); err != nil {
		return nil, err
	}
	for i < len(lines) {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "Expiration Time: "):
			t, err := ts("Expiration Time")
			if err != nil {
				return nil, err
			}
			m.ExpirationTime = &t
		case strings.HasPrefix(l, "Not Before: "):
			t, err := ts("Not Before")
			if err != nil {
				return nil, err
			}
			m.NotBefore = &t
		case strings.HasPrefix(l, "Request ID: "):
			m.RequestID, _ = field("Request ID")
		case l == "Resources:":
			i++
			for i < len(lines) && strings.HasPrefix(lines[i], "- ") {
				m.Resources = append(m.Resources, strings.TrimPrefix(lines[i], "- "))
				i++
			}
		default:
			i++
			return nil, bad("unexpected %q", l)
		}
	}
	return m, nil
}

// Sign signs the message text with an EIP-191 personal_sign signature
// (what wallets do for SIWE); v is 27 or 28.
func Sign(text string, key []byte) ([]byte, error) {
	k, err := crypto.ToECDSA(key)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.Sign(accounts.TextHash([]byte(text)), k)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// Recover returns the address that signed text (v may be 0/1 or 27/28).
func Recover(text string, sig []byte) (common.Address, error) {
	if len(sig) != 65 {
		return common.Address{}, fmt.Errorf("signature has %d bytes, want 65", len(sig))
	}
	s := append([]byte(nil), sig...)
	if s[64] >= 27 {
		s[64] -= 27
	}
	if s[64] > 1 {
		return common.Address{}, errors.New("signature has an invalid recovery id")
	}
	pub, err := crypto.SigToPub(accounts.TextHash([]byte(text)), s)
	if err != nil {
		return common.Address{}, fmt.Errorf("signature does not recover: %w", err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// DecodeSignature reads a 0x-prefixed hex signature.
func DecodeSignature(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return nil, errors.New("signature is not hex")
	}
	return b, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
