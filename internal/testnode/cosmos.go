package testnode

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os/exec"
	"strings"
	"time"

	"sahara/contracts"
	"sahara/sdk/evmclient"
)

// CosmosTx sends a Cosmos transaction through the CLI (autocli: `sahara tx …`) signed by a key of
// the node's keyring, and waits until a block includes it successfully.
func (n *Node) CosmosTx(ctx context.Context, args ...string) error {
	args = append(args, "--home", n.Home, "--keyring-backend", "test", "--gas", "3000000",
		"--fees", "200000000000000000asah", "-y", "-o", "json")
	out, err := exec.CommandContext(ctx, n.Bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("sahara %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var res struct {
		Code   int    `json:"code"`
		TxHash string `json:"txhash"`
		RawLog string `json:"raw_log"`
	}
	i := strings.IndexByte(string(out), '{')
	if i < 0 || json.Unmarshal(out[i:], &res) != nil || res.Code != 0 {
		return fmt.Errorf("sahara %s: %s", strings.Join(args, " "), out)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		out, err := exec.CommandContext(ctx, n.Bin, "q", "tx", res.TxHash, "--home", n.Home, "-o", "json").CombinedOutput()
		if err != nil {
			continue
		}
		if err := json.Unmarshal(out, &res); err == nil && res.Code != 0 {
			return fmt.Errorf("sahara %s failed in the block: %s", strings.Join(args, " "), res.RawLog)
		}
		return nil
	}
	return fmt.Errorf("sahara %s: not included within a minute", strings.Join(args, " "))
}

// PartnerToken deploys an ERC-20 from dev account dev, registers it with x/erc20 and converts
// amount of it into the bank denom it returns ("erc20:0x…"), held by the same account.
func (n *Node) PartnerToken(ctx context.Context, dev int, amount *big.Int) (string, error) {
	c, err := n.Client(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	tok := contracts.MustLoad("SaharaToken")
	code, err := tok.DeployData("Partner", "PTN", evmclient.Ether(1_000_000_000))
	if err != nil {
		return "", err
	}
	addr, _, err := c.Deploy(ctx, n.Wallet(dev), code)
	if err != nil {
		return "", err
	}
	from := fmt.Sprintf("dev%d", dev)
	if err := n.CosmosTx(ctx, "tx", "erc20", "register-erc20", addr.Hex(), "--from", from); err != nil {
		return "", err
	}
	if err := n.CosmosTx(ctx, "tx", "erc20", "convert-erc20", addr.Hex(), amount.String(), "--from", from); err != nil {
		return "", err
	}
	return "erc20:" + addr.Hex(), nil
}

// BankBalance is an address's bank balance of a denom (the CLI's `q bank balance`).
func (n *Node) BankBalance(ctx context.Context, bech32, denom string) (*big.Int, error) {
	out, err := exec.CommandContext(ctx, n.Bin, "q", "bank", "balance", bech32, denom, "--home", n.Home, "-o", "json").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("bank balance: %v\n%s", err, out)
	}
	var res struct {
		Balance struct{ Amount string } `json:"balance"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("bank balance: %s", out)
	}
	v, ok := new(big.Int).SetString(res.Balance.Amount, 10)
	if !ok {
		v = new(big.Int)
	}
	return v, nil
}
