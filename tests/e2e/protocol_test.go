package e2e

import (
	"context"
	"math/big"
	mrand "math/rand"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	licensingpc "sahara/chain/precompiles/licensing"
	registrypc "sahara/chain/precompiles/registry"
	royaltypc "sahara/chain/precompiles/royalty"
	"sahara/contracts"
	"sahara/sdk/evmclient"
)

var (
	registryAddr  = registrypc.Address
	licensingAddr = licensingpc.Address
	royaltyAddr   = royaltypc.Address
)

type (
	parentArg = registrypc.ParentArg
	termsArg  = licensingpc.TermsArg
)

// evm bundles a client and the ABIs for precompile calls.
type evmT struct {
	t   *testing.T
	ctx context.Context
	c   *evmclient.Client
}

func (e evmT) pack(a *abi.ABI, method string, args ...any) []byte {
	e.t.Helper()
	data, err := a.Pack(method, args...)
	if err != nil {
		e.t.Fatalf("pack %s: %v", method, err)
	}
	return data
}

// call runs eth_call and unpacks the result.
func (e evmT) call(from common.Address, to common.Address, a *abi.ABI, method string, args ...any) ([]any, error) {
	out, err := e.c.CallContract(e.ctx, ethereum.CallMsg{From: from, To: &to, Data: e.pack(a, method, args...)}, nil)
	if err != nil {
		return nil, err
	}
	return a.Unpack(method, out)
}

// send sends a transaction and requires success.
func (e evmT) send(w *evmclient.Wallet, to common.Address, value *big.Int, a *abi.ABI, method string, args ...any) *types.Receipt {
	e.t.Helper()
	r, err := e.c.SendAndWait(e.ctx, w, &to, value, e.pack(a, method, args...), 3_000_000)
	if err != nil {
		e.t.Fatalf("%s: %v", method, err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		e.t.Fatalf("%s reverted (gas used %d)", method, r.GasUsed)
	}
	return r
}

// logOf returns the first log of an event from an address.
func logOf(t *testing.T, r *types.Receipt, from common.Address, ev abi.Event) *types.Log {
	t.Helper()
	for _, l := range r.Logs {
		if l.Address == from && len(l.Topics) > 0 && l.Topics[0] == ev.ID {
			return l
		}
	}
	t.Fatalf("no %s log from %s in receipt (%d logs)", ev.Name, from, len(r.Logs))
	return nil
}

// A dataset, a model trained on it and an agent made by a Solidity factory, all through the
// precompiles; payments flow up the graph and one claim takes everything.
func TestProtocolsThroughTheEVM(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, 4*time.Minute)
	c, _ := n.Client(ctx)
	e := evmT{t, ctx, c}
	reg, lic, roy := contracts.MustLoad("IRegistry").ABI, contracts.MustLoad("ILicensing").ABI, contracts.MustLoad("IRoyalty").ABI
	fac := contracts.MustLoad("AgentFactory")

	funder := n.Wallet(9)
	dsOwner, modelOwner, deployer := evmclient.NewWallet(), evmclient.NewWallet(), evmclient.NewWallet()
	for _, w := range []*evmclient.Wallet{dsOwner, modelOwner, deployer} {
		if _, err := c.SendAndWait(ctx, funder, &w.Address, evmclient.Ether(100), nil, 21000); err != nil {
			t.Fatal(err)
		}
	}
	root := func(s string) [32]byte { var r [32]byte; copy(r[:], s); return r }

	// 1. The dataset.
	r := e.send(dsOwner, registryAddr, nil, &reg, "registerAsset", uint8(1), "faces", "sahara://faces", root("faces"), uint64(1000), []parentArg{})
	l := logOf(t, r, registryAddr, reg.Events["AssetRegistered"])
	dsID := new(big.Int).SetBytes(l.Topics[1].Bytes()).Uint64()
	if common.BytesToAddress(l.Topics[2].Bytes()) != dsOwner.Address {
		t.Fatalf("AssetRegistered owner topic %s", l.Topics[2])
	}
	// Terms: derivatives at 10%, mint fee 1000 wei.
	dsTerms := termsArg{CommercialUse: true, DerivativesAllowed: true, DerivativeRevShareBps: 1000, MintFeeDenom: "asah", MintFee: big.NewInt(1000), PerCallPrice: big.NewInt(0)}
	out, err := e.call(dsOwner.Address, licensingAddr, &lic, "createTerms", dsTerms)
	if err != nil {
		t.Fatal(err)
	}
	dsTermsID := out[0].(uint64)
	e.send(dsOwner, licensingAddr, nil, &lic, "createTerms", dsTerms)
	r = e.send(dsOwner, licensingAddr, nil, &lic, "attachTerms", dsID, dsTermsID)
	logOf(t, r, licensingAddr, lic.Events["TermsAttached"])

	// 2. The model: mint a license of the dataset (fee capped), register trained-on it.
	_, err = e.call(modelOwner.Address, licensingAddr, &lic, "mintLicense", dsID, dsTermsID, common.Address{}, "asah", big.NewInt(999), uint32(10_000))
	if err == nil || !strings.Contains(err.Error(), "max_mint_fee") {
		t.Fatalf("a fee above the cap must revert with a reason, got %v", err)
	}
	r = e.send(modelOwner, licensingAddr, nil, &lic, "mintLicense", dsID, dsTermsID, common.Address{}, "asah", big.NewInt(1000), uint32(1000))
	l = logOf(t, r, licensingAddr, lic.Events["LicenseMinted"])
	modelLicense := new(big.Int).SetBytes(l.Topics[1].Bytes()).Uint64()
	r = e.send(modelOwner, registryAddr, nil, &reg, "registerAsset", uint8(2), "vision", "", root("vision"), uint64(0),
		[]parentArg{{ParentId: dsID, EdgeType: 1, LicenseId: modelLicense}})
	modelID := new(big.Int).SetBytes(logOf(t, r, registryAddr, reg.Events["AssetRegistered"]).Topics[1].Bytes()).Uint64()
	modelTerms := termsArg{CommercialUse: true, DerivativesAllowed: true, DerivativeRevShareBps: 2000, MintFeeDenom: "asah", MintFee: big.NewInt(500), PerCallPrice: big.NewInt(0)}
	out, err = e.call(modelOwner.Address, licensingAddr, &lic, "createTerms", modelTerms)
	if err != nil {
		t.Fatal(err)
	}
	modelTermsID := out[0].(uint64)
	e.send(modelOwner, licensingAddr, nil, &lic, "createTerms", modelTerms)
	e.send(modelOwner, licensingAddr, nil, &lic, "attachTerms", modelID, modelTermsID)

	// 3. The factory contract licenses the model and registers an agent in one transaction.
	factory, _, err := c.Deploy(ctx, deployer, fac.Bytecode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendAndWait(ctx, deployer, &factory, evmclient.Ether(1), nil, 100_000); err != nil {
		t.Fatal(err)
	}
	r = e.send(deployer, factory, nil, &fac.ABI, "createAgent", modelID, modelTermsID, "helper", root("agent"), big.NewInt(500))
	logOf(t, r, licensingAddr, lic.Events["LicenseMinted"])
	logOf(t, r, registryAddr, reg.Events["AssetRegistered"])
	agentID := new(big.Int).SetBytes(logOf(t, r, factory, fac.ABI.Events["AgentCreated"]).Topics[1].Bytes()).Uint64()
	out, err = e.call(deployer.Address, registryAddr, &reg, "lineage", agentID)
	if err != nil {
		t.Fatal(err)
	}
	if ids, shares := out[0].([]uint64), out[1].([]uint64); len(ids) != 2 || ids[0] != dsID || shares[0] != 10_000_000 || ids[1] != modelID || shares[1] != 20_000_000 {
		t.Fatalf("agent lineage %v %v", ids, shares)
	}
	out, _ = e.call(deployer.Address, registryAddr, &reg, "getAsset", agentID)
	if out[2].(common.Address) != factory || out[0].(uint8) != 3 {
		t.Fatalf("agent owner %v kind %v, want the factory and AGENT", out[2], out[0])
	}

	// 4. A payment of 10,000 wei to the agent through the factory.
	if _, err := c.CallContract(ctx, ethereum.CallMsg{From: deployer.Address, To: &factory, Value: big.NewInt(10_000), Data: e.pack(&fac.ABI, "payAgent", agentID)}, nil); err != nil {
		t.Fatalf("payAgent (eth_call): %v", err)
	}
	r = e.send(deployer, factory, big.NewInt(10_000), &fac.ABI, "payAgent", agentID)
	paid := logOf(t, r, royaltyAddr, roy.Events["Paid"])
	vals, err := roy.Events["Paid"].Inputs.NonIndexed().Unpack(paid.Data)
	if err != nil {
		t.Fatal(err)
	}
	if vals[1].(*big.Int).Int64() != 10_000 || vals[2].(*big.Int).Int64() != 3_000 {
		t.Fatalf("Paid event data %v", vals)
	}
	// Dataset: mint fee 1000 + 10% of the agent payment 1000 + 10% of the model's 500 mint fee = 2050.
	// Model: 20% of 10,000 + 90% of its 500 mint fee = 2450. Agent (the factory): 7000.
	claimable := func(who common.Address) int64 {
		out, err := e.call(who, royaltyAddr, &roy, "claimable", who, "asah")
		if err != nil {
			t.Fatal(err)
		}
		return out[0].(*big.Int).Int64()
	}
	for _, w := range []struct {
		who  common.Address
		want int64
	}{{dsOwner.Address, 2050}, {modelOwner.Address, 2450}, {factory, 7000}} {
		if got := claimable(w.who); got != w.want {
			t.Fatalf("claimable of %s = %d, want %d", w.who, got, w.want)
		}
	}
	r = e.send(dsOwner, royaltyAddr, nil, &roy, "claim", uint64(0))
	cl := logOf(t, r, royaltyAddr, roy.Events["Claimed"])
	vals, _ = roy.Events["Claimed"].Inputs.NonIndexed().Unpack(cl.Data)
	if vals[0].(string) != "asah" || vals[1].(*big.Int).Int64() != 2050 || claimable(dsOwner.Address) != 0 {
		t.Fatalf("claim: %v, left %d", vals, claimable(dsOwner.Address))
	}
	before, _ := c.BalanceAt(ctx, factory, nil)
	e.send(deployer, factory, nil, &fac.ABI, "claim")
	after, _ := c.BalanceAt(ctx, factory, nil)
	if new(big.Int).Sub(after, before).Int64() != 7000 {
		t.Fatalf("factory balance grew by %s, want 7000", new(big.Int).Sub(after, before))
	}
	// The logs are indexed like any contract's.
	logs, err := c.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{registryAddr}, Topics: [][]common.Hash{{reg.Events["AssetRegistered"].ID}}, FromBlock: big.NewInt(1)})
	if err != nil || len(logs) < 3 {
		t.Fatalf("eth_getLogs for AssetRegistered: %d logs, %v", len(logs), err)
	}

	// 5. A revert after the precompile calls rolls their native state back.
	balBefore, _ := c.BalanceAt(ctx, factory, nil)
	rr, err := c.SendAndWait(ctx, deployer, &factory, nil, e.pack(&fac.ABI, "createAgentThenRevert", modelID, modelTermsID, root("doomed"), big.NewInt(500)), 3_000_000)
	if rr == nil {
		t.Fatal(err)
	}
	if rr.Status != types.ReceiptStatusFailed || len(rr.Logs) != 0 {
		t.Fatalf("reverting call: status %d, %d logs", rr.Status, len(rr.Logs))
	}
	balAfter, _ := c.BalanceAt(ctx, factory, nil)
	if balAfter.Cmp(balBefore) != 0 {
		t.Fatalf("the reverted mint fee left the factory: %s → %s", balBefore, balAfter)
	}
	if _, err := e.call(deployer.Address, registryAddr, &reg, "getAsset", agentID+1); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("the reverted registration left asset %d: %v", agentID+1, err)
	}
	if got := claimable(modelOwner.Address); got != 2450 {
		t.Fatalf("the reverted mint fee reached the model: claimable %d", got)
	}

	// 6. Read-only paths cannot write.
	if _, err := e.call(deployer.Address, factory, &fac.ABI, "registerInView"); err == nil || !strings.Contains(err.Error(), "write refused") {
		t.Fatalf("a write in a static call must fail, got %v", err)
	}
}

// Garbage calldata to the precompiles — random bytes, and real selectors with random or
// truncated arguments — gets an error, never a crash: the node keeps answering and producing blocks.
func TestPrecompileGarbageInput(t *testing.T) {
	n := shared(t)
	ctx := ctxFor(t, 3*time.Minute)
	c, _ := n.Client(ctx)
	rng := newRand(5)
	var selectors [][]byte
	for _, name := range []string{"IRegistry", "ILicensing", "IRoyalty"} {
		for _, m := range contracts.MustLoad(name).ABI.Methods {
			selectors = append(selectors, m.ID)
		}
	}
	targets := []common.Address{registryAddr, licensingAddr, royaltyAddr}
	garbage := func() []byte {
		var bz []byte
		if rng.Intn(4) > 0 {
			bz = append(bz, selectors[rng.Intn(len(selectors))]...)
		}
		tail := make([]byte, rng.Intn(400))
		rng.Read(tail)
		if rng.Intn(2) == 0 { // plausible words: small numbers and offsets
			for i := 31; i < len(tail); i += 32 {
				tail[i-31] = 0
			}
		}
		return append(bz, tail...)
	}
	from := n.Wallet(9).Address
	errs := 0
	for i := 0; i < 600; i++ {
		to := targets[rng.Intn(len(targets))]
		if _, err := c.CallContract(ctx, ethereum.CallMsg{From: from, To: &to, Data: garbage(), Gas: 5_000_000}, nil); err != nil {
			errs++
		}
	}
	if errs < 500 {
		t.Fatalf("only %d of 600 garbage calls failed", errs)
	}
	// Garbage as real transactions: included, failed, nothing written.
	w := n.Wallet(9)
	for i := 0; i < 5; i++ {
		to := targets[i%3]
		r, err := c.SendAndWait(ctx, w, &to, nil, garbage(), 500_000)
		if r == nil {
			t.Fatal(err)
		}
	}
	h, err := c.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitBlock(ctx, c, h+1); err != nil {
		t.Fatalf("no block after the garbage: %v", err)
	}
	reg := contracts.MustLoad("IRegistry").ABI
	e := evmT{t, ctx, c}
	if _, err := e.call(from, registryAddr, &reg, "getAsset", uint64(1)); err != nil && !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("the registry stopped answering: %v", err)
	}
}

func waitBlock(ctx context.Context, c *evmclient.Client, h uint64) error {
	for {
		got, err := c.BlockNumber(ctx)
		if err == nil && got >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func newRand(seed int64) *mrand.Rand { return mrand.New(mrand.NewSource(seed)) }
