package e2e

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sahara/platform/siwe"
	"sahara/platform/store"
	"sahara/platform/store/server"
)

// The blob store served by `sahara up`, with license checks against the
// chain: a private dataset is uploaded, registered, licensed; its bytes go
// only to license holders, and stop going when a license is revoked or
// expires; a leaked part of a licensee's export is traced back to them.
func TestStorePrivateAccessAgainstTheChain(t *testing.T) {
	n := shared(t)
	cli := func(want string, args ...string) string { t.Helper(); return runCLI(t, n, want, args...) }
	id := func(re, out string) string { return regexp.MustCompile(re).FindStringSubmatch(out)[1] }
	key := func(i int) []byte {
		k, _ := hex.DecodeString(strings.TrimPrefix(n.Accounts[i].PrivateKey, "0x"))
		return k
	}
	signIn := func(i int) *server.Client {
		c, err := server.SignIn(n.Store, key(i))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	get := func(c *server.Client, path string) ([]byte, error) {
		res, err := c.Do("GET", path, nil, nil)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, err = b.ReadFrom(res.Body)
		return b.Bytes(), err
	}
	denied := func(err error, status int, want string) {
		t.Helper()
		var se *server.StatusError
		if !errors.As(err, &se) || se.Status != status || !strings.Contains(se.Message, want) {
			t.Fatalf("want %d %q, got %v", status, want, err)
		}
	}

	// The owner (dev4) uploads a private dataset over HTTP.
	var csv strings.Builder
	csv.WriteString("id,text,label\n")
	for i := 0; i < 4000; i++ {
		fmt.Fprintf(&csv, "%d,utterance %d about item %d,%s\n", i, i*31, i%97, []string{"pos", "neg"}[i%2])
	}
	data := csv.String()
	file := filepath.Join(t.TempDir(), "labels.csv")
	writeFile(t, file, data)
	owner := signIn(4)
	res, err := owner.Do("PUT", "/v1/objects?name=labels.csv&private=1", strings.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	root, _, _ := store.RootOf(strings.NewReader(data))

	// Register it (the same root, computed by the CLI from the file), and
	// offer revocable perpetual licenses.
	out := cli(`registered asset \d+`, "asset", "register", "--kind", "dataset", "--name", "private labels", "--file", file, "--from", "dev4")
	asset := id(`registered asset (\d+)`, out)
	terms := id(`terms (\d+)`, cli(`terms \d+`, "license", "terms", "create", "--commercial", "--revocable", "--from", "dev4"))
	cli(`offers terms`, "license", "terms", "attach", asset, terms, "--from", "dev4")
	lic5 := id(`minted license (\d+)`, cli(`minted license \d+`, "license", "mint", asset, terms, "--from", "dev5"))
	path := "/v1/objects/" + root.String() + "?asset=" + asset

	// No license: 403 with the chain's reason. A license: the plaintext.
	_, err = get(signIn(9), path)
	denied(err, 403, "no license of asset "+asset)
	licensee := signIn(5)
	if got, err := get(licensee, path); err != nil || string(got) != data {
		t.Fatalf("licensee: %v", err)
	}
	if got, err := get(owner, path); err != nil || string(got) != data {
		t.Fatalf("owner: %v", err)
	}
	_, err = get(licensee, "/v1/objects/"+root.String()+"?asset=999999")
	denied(err, 403, "asset 999999")
	// A private object that is not a version of the asset is not released
	// under the asset's licenses.
	res, err = owner.Do("PUT", "/v1/objects?private=1", strings.NewReader("other bytes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	other, _, _ := store.RootOf(strings.NewReader("other bytes"))
	_, err = get(licensee, "/v1/objects/"+other.String()+"?asset="+asset)
	denied(err, 403, "not a registered version of asset "+asset)

	// A fingerprinted export for the licensee, then a leak of 3% of its
	// rows, shuffled, traced by the CLI to dev5.
	exp, err := get(licensee, "/v1/objects/"+root.String()+"/export?asset="+asset)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(owner, "/v1/objects/"+root.String()+"/export?asset="+asset); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(exp)), "\n")[1:]
	rand.New(rand.NewSource(1)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	leak := filepath.Join(t.TempDir(), "leak.csv")
	writeFile(t, leak, strings.Join(lines[:120], "\n")+"\n")
	cli(`"licensee": "`+strings.ToLower(n.Accounts[5].Address)+`"`, "store", "trace", leak, "--asset", asset, "--dir", filepath.Join(n.Home, "store"))

	// Revoked: denied.
	cli(`revoked license `+lic5, "license", "revoke", lic5, "--from", "dev4")
	_, err = get(licensee, path)
	denied(err, 403, "revoked")

	// Expiring: granted, then denied once the chain's time passes expiry.
	short := id(`terms (\d+)`, cli(`terms \d+`, "license", "terms", "create", "--duration", "8s", "--from", "dev4"))
	cli(`offers terms`, "license", "terms", "attach", asset, short, "--from", "dev4")
	cli(`minted license \d+`, "license", "mint", asset, short, "--from", "dev6")
	brief := signIn(6)
	if _, err := get(brief, path); err != nil {
		t.Fatalf("fresh license: %v", err)
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		_, err = get(brief, path)
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	denied(err, 403, "expired at")

	// The CLI over the node's store API: a directory up and back, and a
	// private file fetched (and re-verified) by a license holder.
	keyFile := func(i int) string {
		p := filepath.Join(t.TempDir(), "key")
		writeFile(t, p, n.Accounts[i].PrivateKey)
		return p
	}
	tree := t.TempDir()
	writeFile(t, filepath.Join(tree, "a.txt"), "alpha")
	writeFile(t, filepath.Join(tree, "b.csv"), data+"4000,one more row,pos\n")
	out = cli(`"kind":"dir"`, "store", "put", tree, "--server", n.Store, "--key-file", keyFile(4))
	dirRoot := id(`"root":"([0-9a-f]{64})"`, out)
	back := filepath.Join(t.TempDir(), "back")
	cli(``, "store", "get", dirRoot, "--out", back, "--server", n.Store, "--key-file", keyFile(6))
	if got, _ := os.ReadFile(filepath.Join(back, "b.csv")); string(got) != data+"4000,one more row,pos\n" {
		t.Fatal("directory round trip through the CLI differs")
	}
	owned := filepath.Join(t.TempDir(), "owned.csv")
	cli(``, "store", "get", root.String(), "--asset", asset, "--out", owned, "--server", n.Store, "--key-file", keyFile(4))
	if got, _ := os.ReadFile(owned); string(got) != data {
		t.Fatal("private file through the CLI differs")
	}
	cli(`labels.csv`, "store", "ls", "--server", n.Store, "--key-file", keyFile(4))
	// A licensee cannot republish the private bytes through the store.
	leakOut, err := exec.Command(n.Bin, "store", "put", owned, "--server", n.Store, "--key-file", keyFile(6)).CombinedOutput()
	if err == nil || !strings.Contains(string(leakOut), "stored privately") {
		t.Fatalf("public copy of a private object: %v\n%s", err, leakOut)
	}

	// A replayed sign-in message is refused.
	var nonce struct{ Nonce, Domain string }
	anon := &server.Client{Base: n.Store, HTTP: licensee.HTTP}
	if err := anon.JSON("GET", "/v1/auth/nonce", nil, &nonce); err != nil {
		t.Fatal(err)
	}
	w := n.Wallet(5)
	text := siwe.NewMessage(nonce.Domain, w.Address, n.Store, 4817293, nonce.Nonce, time.Now().UTC()).String()
	sig, _ := siwe.Sign(text, key(5))
	body := map[string]string{"message": text, "signature": fmt.Sprintf("0x%x", sig)}
	if err := anon.JSON("POST", "/v1/auth/login", body, nil); err != nil {
		t.Fatal(err)
	}
	denied(anon.JSON("POST", "/v1/auth/login", body, nil), 401, "already used")
}
