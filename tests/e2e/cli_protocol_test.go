package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/cosmos/cosmos-sdk/types/bech32"
	"github.com/ethereum/go-ethereum/common"

	"sahara/chain/app"
	"sahara/internal/testnode"
)

// The protocol CLIs against a running `sahara up`: register a dataset from a file, offer and
// mint a license, register a model trained on it, pay the model and see the dataset owner's
// share arrive through one claim.
func TestProtocolCLI(t *testing.T) {
	n := shared(t)
	run := func(want string, args ...string) string { t.Helper(); return runCLI(t, n, want, args...) }
	fails := func(want string, args ...string) {
		t.Helper()
		args = append(args, "--home", n.Home)
		out, err := exec.Command(n.Bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Fatalf("sahara %s: err %v, output:\n%s\nwant an error containing %q", strings.Join(args, " "), err, out, want)
		}
	}
	id := func(re, out string) string { return regexp.MustCompile(re).FindStringSubmatch(out)[1] }
	file := t.TempDir() + "/data.csv"
	writeFile(t, file, strings.Repeat("item,worker,label\n", 5000))

	out := run(`registered asset \d+`, "asset", "register", "--kind", "dataset", "--name", "labels", "--file", file, "--from", "dev7")
	ds := id(`registered asset (\d+)`, out)
	out = run(`terms \d+`, "license", "terms", "create", "--commercial", "--derivatives", "--rev-share-bps", "1500", "--mint-fee", "100asah", "--from", "dev7")
	terms := id(`terms (\d+)`, out)
	run(`offers terms`, "license", "terms", "attach", ds, terms, "--from", "dev7")
	fails("max_mint_fee", "license", "mint", ds, terms, "--max-fee", "99asah", "--max-rev-share-bps", "1500", "--from", "dev3")
	out = run(`minted license \d+`, "license", "mint", ds, terms, "--max-fee", "100asah", "--max-rev-share-bps", "1500", "--from", "dev3")
	lic := id(`minted license (\d+)`, out)
	dev3 := n.Accounts[3].Address
	run(`^yes: license `+lic, "license", "check", dev3, ds, "derivative")
	run(`^no: `, "license", "check", n.Accounts[8].Address, ds, "commercial")
	out = run(`registered asset \d+`, "asset", "register", "--kind", "model", "--name", "tagger",
		"--root", strings.Repeat("ab", 32), "--parent", ds+":trained_on:"+lic, "--from", "dev3")
	model := id(`registered asset (\d+)`, out)
	run(`1 ancestors take 15% of every payment\n\s+asset `+ds+` +depth 1 +share 15%`, "asset", "lineage", model)
	run(`"name": "tagger"|name: tagger`, "asset", "show", model)
	fails("does not exist", "asset", "show", "999999")
	fails("unknown edge type", "asset", "register", "--kind", "model", "--name", "x", "--root", strings.Repeat("ab", 32), "--parent", ds+":copied:"+lic, "--from", "dev3")

	run(`paid 10000asah into asset `+model, "royalty", "pay", model, "10000asah", "--from", "dev0")
	// The dataset owner: the 100asah mint fee and 15% of 10000.
	run(`total: 1600asah`, "royalty", "claimable", n.Accounts[7].Address)
	run(`claimed 1600asah`, "royalty", "claim", "--from", "dev7")
	run(`total: nothing`, "royalty", "claimable", n.Accounts[7].Address)
	run(`claimed 8500asah`, "royalty", "claim", "--from", "dev3")
	run(`nothing to claim`, "royalty", "claim", "--from", "dev3")

	// CometBFT's tx index holds the attributes listed in network.IndexedEvents, not every one.
	run(`(?m)^total_count: "?1"?$`, "q", "txs", "--query", "sahara.royalty.v1.paid.asset_id='"+model+"'")
	run(`(?m)^total_count: "?1"?$`, "q", "txs", "--query", "sahara.registry.v1.asset_registered.owner='"+bech32Of(t, n.Accounts[7].Address)+"'")
	run(`(?m)^total_count: "?0"?$`, "q", "txs", "--query", "sahara.royalty.v1.paid.amount='10000asah'")
}

// runCLI runs `sahara ARGS --home <node>` and checks its output matches the regexp want.
func runCLI(t *testing.T, n *testnode.Node, want string, args ...string) string {
	t.Helper()
	args = append(args, "--home", n.Home)
	out, err := exec.Command(n.Bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sahara %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !regexp.MustCompile(want).Match(out) {
		t.Fatalf("sahara %s:\n%s\nwant /%s/", strings.Join(args, " "), out, want)
	}
	return string(out)
}

// bech32Of is the Cosmos form of a 0x address.
func bech32Of(t *testing.T, hex string) string {
	t.Helper()
	s, err := bech32.ConvertAndEncode(app.Bech32Prefix, common.HexToAddress(hex).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
