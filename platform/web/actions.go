package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	rt "sahara/chain/x/registry/types"
	"sahara/platform/store"
	"sahara/sdk/evmclient"
	"sahara/sdk/protocol"
)

// txParams are the fields of every action; each action reads its own.
type txParams struct {
	Sign string `json:"sign"` // "dev": the server signs with the signed-in dev account; else the wallet does
	// register
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Root        string `json:"root"`
	Size        uint64 `json:"size"`
	Parents     []struct {
		Asset   uint64 `json:"asset"`
		Edge    string `json:"edge"`
		License uint64 `json:"license"`
	} `json:"parents"`
	// terms
	Commercial   bool   `json:"commercial"`
	Derivatives  bool   `json:"derivatives"`
	RevShareBps  uint32 `json:"rev_share_bps"`
	MintFee      string `json:"mint_fee"`
	PerCall      string `json:"per_call"`
	DurationDays uint64 `json:"duration_days"`
	Transferable bool   `json:"transferable"`
	SupplyCap    uint64 `json:"supply_cap"`
	Revocable    bool   `json:"revocable"`
	// attach, mint, pay, claim
	Asset      uint64 `json:"asset"`
	Terms      uint64 `json:"terms"`
	MaxFee     string `json:"max_fee"`
	MaxBps     uint32 `json:"max_bps"`
	Amount     string `json:"amount"`
	StartAfter uint64 `json:"start_after"`
}

// badInput is a refusal of the user's input (400), as opposed to a failure of ours.
type badInput struct{ msg string }

func (e *badInput) Error() string { return e.msg }
func bad(format string, a ...any) error {
	return &badInput{fmt.Sprintf(format, a...)}
}

// DataURI is the asset URI that carries a description on chain (at most rt.MaxURILen bytes).
func DataURI(desc string) string {
	if desc == "" {
		return ""
	}
	return "data:text/plain;charset=utf-8," + url.PathEscape(desc)
}

// buildAny builds a marketplace action or one a service added.
func (a *App) buildAny(ctx context.Context, action string, p txParams, raw json.RawMessage, from common.Address) (protocol.Call, error) {
	if act, ok := a.actions[action]; ok {
		return act.Build(ctx, raw, from)
	}
	return a.build(ctx, action, p, from)
}

// build turns an action and its parameters into a precompile call made by from.
func (a *App) build(ctx context.Context, action string, p txParams, from common.Address) (protocol.Call, error) {
	switch action {
	case "register":
		p.Name = strings.TrimSpace(p.Name)
		if p.Name == "" || len(p.Name) > rt.MaxNameLen {
			return protocol.Call{}, bad("name: give 1 to %d bytes", rt.MaxNameLen)
		}
		if _, ok := protocol.Kinds[p.Kind]; !ok {
			return protocol.Call{}, bad("kind %q: use DATASET, MODEL, AGENT or KNOWLEDGE_BASE", p.Kind)
		}
		uri := DataURI(strings.TrimSpace(p.Description))
		if len(uri) > rt.MaxURILen {
			return protocol.Call{}, bad("description: %d bytes once encoded, the chain keeps at most %d: shorten it", len(uri), rt.MaxURILen)
		}
		root, err := store.ParseHash(p.Root)
		if err != nil {
			return protocol.Call{}, bad("root %q: want the 64-hex content root of the uploaded file", p.Root)
		}
		var parents []protocol.Parent
		for i, pr := range p.Parents {
			e, ok := protocol.Edges[strings.ToUpper(pr.Edge)]
			if !ok {
				return protocol.Call{}, bad("parents[%d].edge %q: use TRAINED_ON, FINETUNED_FROM, DERIVED_FROM, USES, EMBEDS or AGGREGATES", i, pr.Edge)
			}
			if pr.Asset == 0 || pr.License == 0 {
				return protocol.Call{}, bad("parents[%d]: give the parent asset and the license of it you hold", i)
			}
			parents = append(parents, protocol.Parent{ParentId: pr.Asset, EdgeType: e, LicenseId: pr.License})
		}
		return protocol.RegisterAsset(p.Kind, p.Name, uri, root, p.Size, parents)
	case "terms":
		t := protocol.Terms{CommercialUse: p.Commercial, DerivativesAllowed: p.Derivatives, DerivativeRevShareBps: p.RevShareBps,
			DurationSeconds: p.DurationDays * 86400, Transferable: p.Transferable, SupplyCap: p.SupplyCap, Revocable: p.Revocable}
		if p.RevShareBps > 10000 {
			return protocol.Call{}, bad("rev_share_bps %d: at most 10000 (100%%)", p.RevShareBps)
		}
		if p.RevShareBps > 0 && !p.Derivatives {
			return protocol.Call{}, bad("rev_share_bps: a revenue share needs derivatives allowed")
		}
		var err error
		if t.MintFee, err = ParseAmount(p.MintFee, a.cfg.Denom); err != nil {
			return protocol.Call{}, bad("mint_fee: %v", err)
		}
		if t.MintFee.Sign() > 0 {
			t.MintFeeDenom = a.cfg.Denom
		}
		if t.PerCallPrice, err = ParseAmount(p.PerCall, a.cfg.Denom); err != nil {
			return protocol.Call{}, bad("per_call: %v", err)
		}
		if t.PerCallPrice.Sign() > 0 {
			t.PerCallDenom = a.cfg.Denom
		}
		return protocol.CreateTerms(t)
	case "attach":
		if p.Asset == 0 || p.Terms == 0 {
			return protocol.Call{}, bad("attach: give asset and terms")
		}
		return protocol.AttachTerms(p.Asset, p.Terms)
	case "mint":
		if p.Asset == 0 || p.Terms == 0 {
			return protocol.Call{}, bad("mint: give asset and terms")
		}
		fee, err := ParseAmount(p.MaxFee, a.cfg.Denom)
		if err != nil {
			return protocol.Call{}, bad("max_fee: %v", err)
		}
		return protocol.MintLicense(p.Asset, p.Terms, from, a.cfg.Denom, fee, p.MaxBps)
	case "pay":
		amt, err := ParseAmount(p.Amount, a.cfg.Denom)
		if err != nil || amt.Sign() <= 0 {
			return protocol.Call{}, bad("amount %q: give a positive amount, e.g. 10 (SAH) or 1000%s", p.Amount, a.cfg.Denom)
		}
		if p.Asset == 0 {
			return protocol.Call{}, bad("pay: give the asset")
		}
		return protocol.Pay(p.Asset, a.cfg.Denom, amt)
	case "claim":
		return protocol.Claim(p.StartAfter)
	}
	return protocol.Call{}, bad("unknown action %q: use register, terms, attach, mint, pay or claim", action)
}

func (a *App) client(ctx context.Context) (*evmclient.Client, error) {
	a.evmMu.Lock()
	defer a.evmMu.Unlock()
	if a.evm != nil {
		return a.evm, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := evmclient.Dial(dctx, a.cfg.EVMRPC)
	if err != nil {
		return nil, fmt.Errorf("the chain's JSON-RPC at %s: %w", a.cfg.EVMRPC, err)
	}
	a.evm = c
	return c, nil
}

// simulate runs the call as from would and returns its output, or the chain's refusal.
func (a *App) simulate(ctx context.Context, c *evmclient.Client, from common.Address, call protocol.Call) ([]byte, error) {
	out, err := c.CallContract(ctx, ethereum.CallMsg{From: from, To: &call.To, Data: call.Data, Gas: call.Gas}, nil)
	if err != nil {
		return nil, bad("the chain refuses this: %s", revertReason(err))
	}
	return out, nil
}

var unitsRe = regexp.MustCompile(`\b(\d{7,})asah\b`)

// revertReason is the chain's refusal, with amounts in smallest units shown in SAH too.
func revertReason(err error) string {
	s := strings.TrimPrefix(err.Error(), "execution reverted: ")
	return unitsRe.ReplaceAllStringFunc(s, func(m string) string {
		return FormatAmount(strings.TrimSuffix(m, "asah")) + " SAH"
	})
}

// POST /api/tx/{action}: with sign=dev (dev mode), the server signs as the signed-in dev account,
// waits for the block and the index, and answers the result; otherwise it answers the call for
// the browser's wallet to sign ({to, data, gas}), after checking the chain would accept it.
func (a *App) tx(w http.ResponseWriter, r *http.Request) {
	s, ok := a.requireSession(w, r)
	if !ok {
		return
	}
	var p txParams
	raw, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "want a JSON body of the action's fields: %v", err)
		return
	}
	action := r.PathValue("action")
	ctx, cancel := context.WithTimeout(r.Context(), 90*time.Second)
	defer cancel()
	call, err := a.buildAny(ctx, action, p, raw, s.Address)
	if err != nil {
		a.txFail(w, r, err)
		return
	}
	c, err := a.client(ctx)
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "%v", err)
		return
	}
	out, err := a.simulate(ctx, c, s.Address, call)
	if err != nil {
		a.txFail(w, r, err)
		return
	}
	res := map[string]any{}
	if action == "claim" { // the claim's return value says where the next one starts
		if vals, err := protocol.Unpack(call, out); err == nil && len(vals) == 1 {
			res["next"] = vals[0]
		}
	}
	if p.Sign != "dev" {
		res["call"] = map[string]string{"from": s.Address.Hex(), "to": call.To.Hex(), "data": hexutil.Encode(call.Data), "gas": hexutil.EncodeUint64(call.Gas)}
		res["chain_id"] = hexutil.EncodeUint64(a.cfg.ChainID)
		writeJSON(w, 200, res)
		return
	}
	if !a.DevMode() {
		a.fail(w, r, http.StatusForbidden, "the server signs only in dev mode: sign with your wallet")
		return
	}
	wal, ok := a.dev[s.Address]
	if !ok {
		a.fail(w, r, http.StatusForbidden, "%s is not a dev account: sign with your wallet", s.Address.Hex())
		return
	}
	a.sendMu.Lock()
	tx, err := c.Send(ctx, wal, &call.To, nil, call.Data, call.Gas)
	a.sendMu.Unlock()
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "sending: %v", err)
		return
	}
	out2, err := a.await(ctx, c, tx.Hash(), action, p, raw, s.Address, call)
	if err != nil {
		a.txFail(w, r, err)
		return
	}
	for k, v := range out2 {
		res[k] = v
	}
	writeJSON(w, 200, res)
}

func (a *App) txFail(w http.ResponseWriter, r *http.Request, err error) {
	var b *badInput
	if errors.As(err, &b) {
		a.fail(w, r, http.StatusBadRequest, "%s", b.msg)
		return
	}
	a.fail(w, r, http.StatusBadGateway, "%v", err)
}

// await waits for the receipt and for the index to hold its block, then reads the result.
func (a *App) await(ctx context.Context, c *evmclient.Client, hash common.Hash, action string, p txParams, raw json.RawMessage, from common.Address, call protocol.Call) (map[string]any, error) {
	rc, err := c.WaitReceipt(ctx, hash)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"tx_hash": hash.Hex(), "block": rc.BlockNumber.Uint64(), "gas_used": rc.GasUsed}
	if rc.Status != types.ReceiptStatusSuccessful {
		return nil, fmt.Errorf("transaction %s reverted in block %d", hash.Hex(), rc.BlockNumber)
	}
	switch action {
	case "register":
		if id, ok := protocol.AssetID(rc); ok {
			res["asset_id"] = id
		}
	case "mint":
		if id, ok := protocol.LicenseID(rc); ok {
			res["license_id"] = id
		}
	case "terms": // identical terms now exist, so the same call answers their id
		if out, err := c.CallContract(ctx, ethereum.CallMsg{From: from, To: &call.To, Data: call.Data, Gas: call.Gas}, nil); err == nil {
			if vals, err := protocol.Unpack(call, out); err == nil && len(vals) == 1 {
				res["terms_id"] = vals[0]
			}
		}
	}
	if act, ok := a.actions[action]; ok && act.Done != nil {
		more, err := act.Done(ctx, rc, raw, from)
		if err != nil {
			return nil, err
		}
		for k, v := range more {
			res[k] = v
		}
	}
	if err := a.cfg.Indexer.WaitFor(ctx, rc.BlockNumber.Int64()); err != nil {
		return nil, fmt.Errorf("waiting for the index to reach block %d: %w", rc.BlockNumber, err)
	}
	return res, nil
}

// POST /api/tx/wait {hash, action, …}: after the wallet sent a call, waits for its receipt and
// the index, and answers the result (asset_id, license_id, terms_id).
func (a *App) txWait(w http.ResponseWriter, r *http.Request) {
	s, ok := a.requireSession(w, r)
	if !ok {
		return
	}
	var req struct {
		Hash   string          `json:"hash"`
		Action string          `json:"action"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 256<<10)).Decode(&req); err != nil || len(req.Hash) != 66 {
		a.fail(w, r, http.StatusBadRequest, `want {"hash": "0x…", "action": "…", "params": {…}}`)
		return
	}
	var params txParams
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			a.fail(w, r, http.StatusBadRequest, "params: %v", err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 90*time.Second)
	defer cancel()
	c, err := a.client(ctx)
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "%v", err)
		return
	}
	var call protocol.Call
	if req.Action == "terms" {
		if call, err = a.build(ctx, "terms", params, s.Address); err != nil {
			a.txFail(w, r, err)
			return
		}
	}
	res, err := a.await(ctx, c, common.HexToHash(req.Hash), req.Action, params, req.Params, s.Address, call)
	if err != nil {
		a.txFail(w, r, err)
		return
	}
	writeJSON(w, 200, res)
}
