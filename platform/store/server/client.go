package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"sahara/platform/siwe"
)

// Client talks to a store server as one signed-in address.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8090
	Token string
	HTTP  *http.Client
}

// SignIn gets a nonce, signs the EIP-4361 message with key and logs in.
func SignIn(base string, key []byte) (*Client, error) {
	c := &Client{Base: strings.TrimSuffix(base, "/"), HTTP: http.DefaultClient}
	var n struct {
		Nonce   string `json:"nonce"`
		Domain  string `json:"domain"`
		ChainID uint64 `json:"chain_id"`
	}
	if err := c.JSON("GET", "/v1/auth/nonce", nil, &n); err != nil {
		return nil, err
	}
	k, err := crypto.ToECDSA(key)
	if err != nil {
		return nil, err
	}
	msg := siwe.NewMessage(n.Domain, crypto.PubkeyToAddress(k.PublicKey), c.Base, n.ChainID, n.Nonce, time.Now().UTC())
	text := msg.String()
	sig, err := siwe.Sign(text, key)
	if err != nil {
		return nil, err
	}
	var res struct {
		Token string `json:"token"`
	}
	if err := c.JSON("POST", "/v1/auth/login", map[string]string{"message": text, "signature": fmt.Sprintf("0x%x", sig)}, &res); err != nil {
		return nil, err
	}
	c.Token = res.Token
	return c, nil
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// Do sends a request and returns the response for 2xx, a StatusError
// with the server's sentence otherwise.
func (c *Client) Do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		defer res.Body.Close()
		var e apiError
		bz, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if json.Unmarshal(bz, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(bz))
		}
		return nil, &StatusError{Status: res.StatusCode, Message: e.Error}
	}
	return res, nil
}

// JSON sends in (if not nil) as JSON and decodes the answer into out.
func (c *Client) JSON(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		bz, _ := json.Marshal(in)
		body = bytes.NewReader(bz)
	}
	res, err := c.Do(method, path, body, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(res.Body).Decode(out)
}
