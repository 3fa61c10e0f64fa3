package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sahara/chain/app"
)

// The basic flow from a real JavaScript client: tests/js/basic.mjs with
// ethers v6 (pinned in package.json; `npm ci` installs it).
func TestEthersJSClient(t *testing.T) {
	root, _ := filepath.Abs("../..")
	if _, err := os.Stat(filepath.Join(root, "node_modules", "ethers")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node_modules/ethers is missing: CI must run `npm ci` first")
		}
		t.Skip("node_modules/ethers not installed: run `npm ci` (make test does)")
	}
	n := shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "tests", "js", "basic.mjs"))
	cmd.Env = append(os.Environ(), "SAHARA_RPC="+n.RPC, "SAHARA_KEY="+n.Accounts[9].PrivateKey,
		"SAHARA_CHAIN_ID="+strconv.FormatUint(app.EVMChainID, 10))
	out, err := cmd.CombinedOutput()
	t.Logf("node tests/js/basic.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("JS client flow failed: %v", err)
	}
}
