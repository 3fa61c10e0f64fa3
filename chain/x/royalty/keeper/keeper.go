// Package keeper holds royalty vaults: payments split up the flattened provenance graph, a
// reward-per-share accumulator per (asset, denom), and one claim for everything an address is owed.
//
// Exactness: a vault's accumulator is the plain total left for shareholders ("distributed"); a
// holder with s shares (of 1e8) is entitled to s*(distributed - snapshot)/1e8. That numerator is
// kept whole in the holding's credit, so no fraction is ever dropped; only whole units are paid,
// and what no single holder can claim stays with the asset as dust (distributed - claimed - claimable).
//
// Hot vaults: the first change of a vault in a block reads it from state into an object store,
// where this block's changes accumulate, and the end of the block writes it back once. A popular
// dataset credited by a thousand payments in a block costs one state read and one write instead
// of a thousand. Gas follows the EIP-2929 idea of cold and warm access, per block: the first
// change of a vault in a block pays the read (metered by the store) and the write it will cause,
// priced on the vault's stored bytes (see vaultCodec); later changes pay the object-store price.
// Every read sees the hot copy when there is one, so nothing in a block observes a stale vault.
package keeper

import (
	"context"
	"encoding/binary"
	"sort"
	"strconv"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	"cosmossdk.io/errors"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	registrytypes "sahara/chain/x/registry/types"
	"sahara/chain/x/royalty/types"
)

// Registry is what royalties read from the asset registry.
type Registry interface {
	GetAsset(ctx context.Context, id uint64) (registrytypes.Asset, error)
	SharesOf(ctx context.Context, assetID uint64, holder sdk.AccAddress) (uint64, error)
	WalkAncestors(ctx context.Context, assetID uint64, fn func(registrytypes.Ancestor) error) error
	WalkShareholders(ctx context.Context, assetID uint64, fn func(sdk.AccAddress, uint64) error) error
}

// Bank moves the coins in and out of the module account.
type Bank interface {
	SendCoinsFromAccountToModule(ctx context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error
}

var totalShares = math.NewIntFromUint64(registrytypes.TotalShares)

type Keeper struct {
	cdc       codec.BinaryCodec
	addrs     address.Codec
	authority string
	registry  Registry
	bank      Bank

	Schema    collections.Schema
	Params    collections.Item[types.Params]
	Vaults    collections.Map[collections.Pair[uint64, string], types.Vault]
	Holdings  collections.Map[collections.Triple[uint64, string, sdk.AccAddress], types.Holding]
	Positions collections.KeySet[collections.Pair[sdk.AccAddress, uint64]]
	// hot holds the vaults changed in this block (an object store: flushed at the end of the
	// block, dropped at commit).
	hot storetypes.StoreKey
}

func NewKeeper(cdc codec.BinaryCodec, store corestore.KVStoreService, hot storetypes.StoreKey, addrs address.Codec, authority string, registry Registry, bank Bank) *Keeper {
	sb := collections.NewSchemaBuilder(store)
	k := &Keeper{
		cdc: cdc, addrs: addrs, authority: authority, registry: registry, bank: bank, hot: hot,
		Params:    collections.NewItem(sb, collections.NewPrefix(0), "params", codec.CollValue[types.Params](cdc)),
		Vaults:    collections.NewMap(sb, collections.NewPrefix(1), "vaults", collections.PairKeyCodec(collections.Uint64Key, collections.StringKey), newVaultCodec(cdc)),
		Holdings:  collections.NewMap(sb, collections.NewPrefix(2), "holdings", collections.TripleKeyCodec(collections.Uint64Key, collections.StringKey, sdk.AccAddressKey), codec.CollValue[types.Holding](cdc)),
		Positions: collections.NewKeySet(sb, collections.NewPrefix(3), "positions", collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

func (k *Keeper) Authority() string { return k.authority }

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// stored is the vault as last flushed.
func (k *Keeper) stored(ctx context.Context, assetID uint64, denom string) (types.Vault, error) {
	v, err := k.Vaults.Get(ctx, collections.Join(assetID, denom))
	if errors.IsOf(err, collections.ErrNotFound) {
		return types.NewVault(assetID, denom), nil
	}
	v.AssetId, v.Denom = assetID, denom // not in the stored value (see vaultCodec)
	return v, err
}

// vault is the current vault: this block's hot copy, or the stored one.
func (k *Keeper) vault(ctx context.Context, assetID uint64, denom string) (types.Vault, error) {
	if v, ok := k.hotVault(ctx, assetID, denom); ok {
		return v, nil
	}
	return k.stored(ctx, assetID, denom)
}

func hotKey(assetID uint64, denom string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, assetID), denom...)
}

func (k *Keeper) objects(ctx context.Context) storetypes.ObjKVStore {
	return sdk.UnwrapSDKContext(ctx).ObjectStore(k.hot)
}

// hotVault is a vault's copy changed in this block, if any. Values are replaced, never mutated,
// so the store's cache layers (transactions, EVM snapshots) stay correct.
func (k *Keeper) hotVault(ctx context.Context, assetID uint64, denom string) (types.Vault, bool) {
	v := k.objects(ctx).Get(hotKey(assetID, denom))
	if v == nil {
		return types.Vault{}, false
	}
	return v.(types.Vault), true
}

// hotVaults lists this block's changed vaults of an asset (of all assets when all is true).
func (k *Keeper) hotVaults(ctx context.Context, assetID uint64, all bool) []types.Vault {
	var start, end []byte
	if !all {
		start = binary.BigEndian.AppendUint64(nil, assetID)
		end = storetypes.PrefixEndBytes(start)
	}
	it := k.objects(ctx).Iterator(start, end)
	defer it.Close()
	var out []types.Vault
	for ; it.Valid(); it.Next() {
		out = append(out, it.Value().(types.Vault))
	}
	return out
}

// change applies f to a vault's hot copy. The first change of a vault in a block reads it from
// state (the store meters the read) and pays for the write at the end of the block, on the
// vault's encoded size plus a byte per amount for growth.
func (k *Keeper) change(ctx context.Context, assetID uint64, denom string, f func(v *types.Vault)) error {
	v, ok := k.hotVault(ctx, assetID, denom)
	if !ok {
		var err error
		if v, err = k.stored(ctx, assetID, denom); err != nil {
			return err
		}
		bz, err := k.vaultBytes(v)
		if err != nil {
			return err
		}
		sdkCtx := sdk.UnwrapSDKContext(ctx)
		g := sdkCtx.KVGasConfig()
		sdkCtx.GasMeter().ConsumeGas(g.WriteCostFlat+g.WriteCostPerByte*uint64(bz+3), "royalty: vault written at end of block")
	}
	f(&v)
	k.objects(ctx).Set(hotKey(assetID, denom), v)
	return nil
}

// vaultBytes is what a vault's stored entry weighs: its key and its encoded value.
func (k *Keeper) vaultBytes(v types.Vault) (int, error) {
	key, err := collections.EncodeKeyWithPrefix(k.Vaults.GetPrefix(), k.Vaults.KeyCodec(), collections.Join(v.AssetId, v.Denom))
	if err != nil {
		return 0, err
	}
	val, err := k.Vaults.ValueCodec().Encode(v)
	return len(key) + len(val), err
}

// Flush writes this block's hot vaults to state. The module's end blocker calls it.
func (k *Keeper) Flush(ctx context.Context) error {
	for _, v := range k.hotVaults(ctx, 0, true) {
		if err := k.Vaults.Set(ctx, collections.Join(v.AssetId, v.Denom), v); err != nil {
			return err
		}
		k.objects(ctx).Delete(hotKey(v.AssetId, v.Denom))
	}
	return nil
}

// vaults lists an asset's current vaults (one per denom ever paid in), hot copies included.
func (k *Keeper) vaults(ctx context.Context, assetID uint64) ([]types.Vault, error) {
	it, err := k.Vaults.Iterate(ctx, collections.NewPrefixedPairRange[uint64, string](assetID))
	if err != nil {
		return nil, err
	}
	kvs, err := it.KeyValues()
	if err != nil {
		return nil, err
	}
	byDenom := make(map[string]types.Vault, len(kvs))
	for _, kv := range kvs {
		v := kv.Value
		v.AssetId, v.Denom = kv.Key.K1(), kv.Key.K2()
		byDenom[v.Denom] = v
	}
	for _, v := range k.hotVaults(ctx, assetID, false) {
		byDenom[v.Denom] = v
	}
	vs := make([]types.Vault, 0, len(byDenom))
	for _, v := range byDenom {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Denom < vs[j].Denom })
	return vs, nil
}

// Pay moves amount from payer into the asset: every flattened ancestor takes its share (floored),
// the rest goes to the asset's shareholders. Gas is charged per ancestor credited. It returns what
// went to the ancestors.
func (k *Keeper) Pay(ctx context.Context, payer sdk.AccAddress, assetID uint64, amount sdk.Coins) (sdk.Coins, error) {
	return k.PayFor(ctx, payer, assetID, amount, types.ReasonPayment)
}

// PayFor is Pay with the reason the paid event records (types.ReasonPayment, types.ReasonLicenseFee):
// indexers tell a license's mint fee from a plain payment by it.
func (k *Keeper) PayFor(ctx context.Context, payer sdk.AccAddress, assetID uint64, amount sdk.Coins, reason string) (sdk.Coins, error) {
	for _, c := range amount {
		if c.Amount.IsNil() {
			return nil, errors.Wrapf(types.ErrInvalid, "amount: coin %q has no amount", c.Denom)
		}
	}
	if amount.Empty() || !amount.IsValid() {
		return nil, errors.Wrapf(types.ErrInvalid, "amount %q must be one or more positive coins, sorted and without duplicates", amount)
	}
	if _, err := k.registry.GetAsset(ctx, assetID); err != nil {
		return nil, err
	}
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, payer, types.ModuleName, amount); err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	payerStr, err := k.addrs.BytesToString(payer)
	if err != nil {
		return nil, err
	}
	up := sdk.NewCoins()
	for _, c := range amount {
		forwarded := math.ZeroInt()
		ancestors := 0
		if err := k.registry.WalkAncestors(ctx, assetID, func(a registrytypes.Ancestor) error {
			sdkCtx.GasMeter().ConsumeGas(p.GasPerAncestor, "royalty: ancestor credited")
			ancestors++
			cut := c.Amount.Mul(math.NewIntFromUint64(a.Share)).Quo(totalShares)
			if cut.IsZero() {
				return nil
			}
			forwarded = forwarded.Add(cut)
			return k.change(ctx, a.AssetId, c.Denom, func(v *types.Vault) {
				v.Received = v.Received.Add(cut)
				v.Distributed = v.Distributed.Add(cut)
			})
		}); err != nil {
			return nil, err
		}
		if err := k.change(ctx, assetID, c.Denom, func(v *types.Vault) {
			v.Received = v.Received.Add(c.Amount)
			v.Forwarded = v.Forwarded.Add(forwarded)
			v.Distributed = v.Distributed.Add(c.Amount.Sub(forwarded))
		}); err != nil {
			return nil, err
		}
		up = up.Add(sdk.NewCoin(c.Denom, forwarded))
		sdkCtx.EventManager().EmitEvent(sdk.NewEvent(types.EventPaid,
			sdk.NewAttribute("asset_id", u64(assetID)), sdk.NewAttribute("amount", c.String()),
			sdk.NewAttribute("to_ancestors", forwarded.String()), sdk.NewAttribute("ancestors", strconv.Itoa(ancestors)),
			sdk.NewAttribute("payer", payerStr), sdk.NewAttribute("reason", reason)))
	}
	return up, nil
}

// settled returns a holding brought up to the vault's accumulator with the given shares.
func (k *Keeper) settled(ctx context.Context, v types.Vault, holder sdk.AccAddress, shares uint64) (types.Holding, error) {
	h, err := k.Holdings.Get(ctx, collections.Join3(v.AssetId, v.Denom, holder))
	if errors.IsOf(err, collections.ErrNotFound) {
		a, _ := k.addrs.BytesToString(holder)
		h, err = types.Holding{Address: a, AssetId: v.AssetId, Denom: v.Denom, Snapshot: math.ZeroInt(), Credit: math.ZeroInt()}, nil
	}
	if err != nil {
		return h, err
	}
	h.Credit = h.Credit.Add(math.NewIntFromUint64(shares).Mul(v.Distributed.Sub(h.Snapshot)))
	h.Snapshot = v.Distributed
	return h, nil
}

// BeforeSharesChange implements the registry's ShareHooks: it settles what the holder earned with
// the old shares, so shares bought later never earn past revenue and shares sold keep theirs.
func (k *Keeper) BeforeSharesChange(ctx context.Context, assetID uint64, holder sdk.AccAddress, newShares uint64) error {
	old, err := k.registry.SharesOf(ctx, assetID, holder)
	if err != nil {
		return err
	}
	vs, err := k.vaults(ctx, assetID)
	if err != nil {
		return err
	}
	owed := false
	for _, v := range vs {
		h, err := k.settled(ctx, v, holder, old)
		if err != nil {
			return err
		}
		if newShares == 0 && h.Credit.LT(totalShares) { // nothing left to claim: the sub-unit rest is dust
			if err := k.Holdings.Remove(ctx, collections.Join3(assetID, v.Denom, holder)); err != nil {
				return err
			}
			continue
		}
		owed = owed || h.Credit.GTE(totalShares)
		if err := k.Holdings.Set(ctx, collections.Join3(assetID, v.Denom, holder), h); err != nil {
			return err
		}
	}
	if newShares > 0 || owed {
		return k.Positions.Set(ctx, collections.Join(holder, assetID))
	}
	return k.Positions.Remove(ctx, collections.Join(holder, assetID))
}

// Claim pays the claimant everything owed in up to max_claim_assets assets after startAfter, in
// every denom, in one bank transfer. It returns the coins and the asset to continue after (0: done).
func (k *Keeper) Claim(ctx context.Context, claimant sdk.AccAddress, startAfter uint64) (sdk.Coins, uint64, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, 0, err
	}
	rng := collections.NewPrefixedPairRange[sdk.AccAddress, uint64](claimant)
	if startAfter > 0 {
		rng = rng.StartExclusive(startAfter)
	}
	it, err := k.Positions.Iterate(ctx, rng)
	if err != nil {
		return nil, 0, err
	}
	var assets []uint64
	var next uint64
	for ; it.Valid(); it.Next() {
		key, err := it.Key()
		if err != nil {
			it.Close()
			return nil, 0, err
		}
		if uint32(len(assets)) == p.MaxClaimAssets {
			next = assets[len(assets)-1]
			break
		}
		assets = append(assets, key.K2())
	}
	it.Close()

	total := sdk.NewCoins()
	for _, assetID := range assets {
		shares, err := k.registry.SharesOf(ctx, assetID, claimant)
		if err != nil {
			return nil, 0, err
		}
		vs, err := k.vaults(ctx, assetID)
		if err != nil {
			return nil, 0, err
		}
		for _, v := range vs {
			h, err := k.settled(ctx, v, claimant, shares)
			if err != nil {
				return nil, 0, err
			}
			pay := h.Credit.Quo(totalShares)
			if pay.IsPositive() {
				h.Credit = h.Credit.Sub(pay.Mul(totalShares))
				if err := k.change(ctx, assetID, v.Denom, func(v *types.Vault) { v.Claimed = v.Claimed.Add(pay) }); err != nil {
					return nil, 0, err
				}
				total = total.Add(sdk.NewCoin(v.Denom, pay))
			}
			key := collections.Join3(assetID, v.Denom, claimant)
			if shares == 0 {
				err = k.Holdings.Remove(ctx, key)
			} else {
				err = k.Holdings.Set(ctx, key, h)
			}
			if err != nil {
				return nil, 0, err
			}
		}
		if shares == 0 {
			if err := k.Positions.Remove(ctx, collections.Join(claimant, assetID)); err != nil {
				return nil, 0, err
			}
		}
	}
	if !total.IsZero() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, claimant, total); err != nil {
			return nil, 0, err
		}
	}
	c, _ := k.addrs.BytesToString(claimant)
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent(types.EventClaimed,
		sdk.NewAttribute("claimant", c), sdk.NewAttribute("amount", total.String()),
		sdk.NewAttribute("assets", strconv.Itoa(len(assets))), sdk.NewAttribute("next", u64(next))))
	return total, next, nil
}

// pending is what holder could claim from one vault now, in whole units.
func (k *Keeper) pending(ctx context.Context, v types.Vault, holder sdk.AccAddress) (math.Int, error) {
	shares, err := k.registry.SharesOf(ctx, v.AssetId, holder)
	if err != nil {
		return math.Int{}, err
	}
	h, err := k.settled(ctx, v, holder, shares)
	if err != nil {
		return math.Int{}, err
	}
	return h.Credit.Quo(totalShares), nil
}

// Claimable lists what addr may claim, per asset and denom (assetID 0 = all, denom "" = all).
func (k *Keeper) Claimable(ctx context.Context, addr sdk.AccAddress, assetID uint64, denom string) (*types.QueryClaimableResponse, error) {
	var assets []uint64
	if assetID != 0 {
		assets = []uint64{assetID}
	} else if err := k.Positions.Walk(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, uint64](addr),
		func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
			assets = append(assets, key.K2())
			return false, nil
		}); err != nil {
		return nil, err
	}
	out := &types.QueryClaimableResponse{Total: sdk.NewCoins()}
	for _, a := range assets {
		vs, err := k.vaults(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if denom != "" && v.Denom != denom {
				continue
			}
			amt, err := k.pending(ctx, v, addr)
			if err != nil {
				return nil, err
			}
			if amt.IsPositive() {
				c := sdk.NewCoin(v.Denom, amt)
				out.Entries = append(out.Entries, types.ClaimableEntry{AssetId: a, Amount: c})
				out.Total = out.Total.Add(c)
			}
		}
	}
	return out, nil
}

// VaultBalances reports each denom of an asset's vault with what its shareholders can claim and
// the dust that stays with the asset.
func (k *Keeper) VaultBalances(ctx context.Context, assetID uint64) ([]types.VaultBalance, error) {
	if _, err := k.registry.GetAsset(ctx, assetID); err != nil {
		return nil, err
	}
	vs, err := k.vaults(ctx, assetID)
	if err != nil {
		return nil, err
	}
	out := make([]types.VaultBalance, 0, len(vs))
	for _, v := range vs {
		claimable := math.ZeroInt()
		current := map[string]bool{}
		if err := k.registry.WalkShareholders(ctx, assetID, func(a sdk.AccAddress, _ uint64) error {
			current[string(a)] = true
			amt, err := k.pending(ctx, v, a)
			claimable = claimable.Add(amt)
			return err
		}); err != nil {
			return nil, err
		}
		// Former shareholders who have not claimed yet.
		if err := k.Holdings.Walk(ctx, collections.NewSuperPrefixedTripleRange[uint64, string, sdk.AccAddress](assetID, v.Denom),
			func(key collections.Triple[uint64, string, sdk.AccAddress], h types.Holding) (bool, error) {
				if !current[string(key.K3())] {
					claimable = claimable.Add(h.Credit.Quo(totalShares))
				}
				return false, nil
			}); err != nil {
			return nil, err
		}
		out = append(out, types.VaultBalance{Vault: v, Claimable: claimable, Dust: v.Distributed.Sub(v.Claimed).Sub(claimable)})
	}
	return out, nil
}
