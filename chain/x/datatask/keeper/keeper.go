// Package keeper holds data-task escrows: reward pools in one or more denoms, payout batches
// posted by a pool's QA authorities and applied exactly once, refunds after the deadline, and the
// minting of the finished dataset as a registry asset shared by its contributors.
//
// Money rule, per pool and denom, at every step: deposited = paid + refunded + held, held >= 0,
// and the module account holds exactly the sum of every pool's held.
package keeper

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	"cosmossdk.io/errors"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"sahara/chain/x/datatask/types"
	"sahara/chain/x/modkit"
	registrykeeper "sahara/chain/x/registry/keeper"
	registrytypes "sahara/chain/x/registry/types"
)

// Registry registers the minted dataset.
type Registry interface {
	Register(ctx context.Context, in registrykeeper.RegisterInput) (uint64, error)
	GetParams(ctx context.Context) (registrytypes.Params, error)
}

// Bank moves the escrow.
type Bank interface {
	SendCoinsFromAccountToModule(ctx context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error
	InputOutputCoins(ctx context.Context, input banktypes.Input, outputs []banktypes.Output) error
	BlockedAddr(addr sdk.AccAddress) bool
}

type Keeper struct {
	cdc       codec.BinaryCodec
	addrs     address.Codec
	authority string
	registry  Registry
	bank      Bank
	module    string // the module account's bech32 address

	Schema        collections.Schema
	Params        collections.Item[types.Params]
	NextID        collections.Sequence
	Pools         collections.Map[uint64, types.Pool]
	Contributions collections.Map[collections.Pair[uint64, sdk.AccAddress], types.Contribution]
	Batches       collections.Map[collections.Pair[uint64, uint64], types.Batch]
}

func NewKeeper(cdc codec.BinaryCodec, store corestore.KVStoreService, addrs address.Codec, authority, moduleAddr string, registry Registry, bank Bank) *Keeper {
	sb := collections.NewSchemaBuilder(store)
	k := &Keeper{
		cdc: cdc, addrs: addrs, authority: authority, registry: registry, bank: bank, module: moduleAddr,
		Params:        collections.NewItem(sb, collections.NewPrefix(0), "params", codec.CollValue[types.Params](cdc)),
		NextID:        collections.NewSequence(sb, collections.NewPrefix(1), "next_id"),
		Pools:         collections.NewMap(sb, collections.NewPrefix(2), "pools", collections.Uint64Key, codec.CollValue[types.Pool](cdc)),
		Contributions: collections.NewMap(sb, collections.NewPrefix(3), "contributions", collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey), codec.CollValue[types.Contribution](cdc)),
		Batches:       collections.NewMap(sb, collections.NewPrefix(4), "batches", collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.Batch](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

func (k *Keeper) Authority() string           { return k.authority }
func (k *Keeper) AddressCodec() address.Codec { return k.addrs }

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func (k *Keeper) addr(field, s string) (sdk.AccAddress, error) {
	return modkit.DecodeAddress(k.addrs, types.ErrInvalid, field, s)
}

// GetPool loads a pool or says it does not exist.
func (k *Keeper) GetPool(ctx context.Context, id uint64) (types.Pool, error) {
	p, err := k.Pools.Get(ctx, id)
	if errors.IsOf(err, collections.ErrNotFound) {
		return p, errors.Wrapf(types.ErrNotFound, "pool %d does not exist", id)
	}
	return p, err
}

// CreatePoolInput is a new pool with decoded addresses.
type CreatePoolInput struct {
	Requester      sdk.AccAddress
	Name           string
	Authorities    []sdk.AccAddress
	Deposit, Rate  sdk.Coins
	MaxBonusBps    uint32
	Deadline       int64 // unix seconds
	RequesterShare uint64
}

// CreatePool escrows the deposit and opens a pool.
func (k *Keeper) CreatePool(ctx context.Context, in CreatePoolInput) (uint64, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	switch {
	case in.Name == "" || len(in.Name) > types.MaxNameLen:
		return 0, errors.Wrapf(types.ErrInvalid, "name must be 1 to %d bytes, got %d", types.MaxNameLen, len(in.Name))
	case len(in.Authorities) == 0:
		return 0, errors.Wrap(types.ErrInvalid, "authorities is empty: name at least one QA authority address that may post payouts")
	case uint32(len(in.Authorities)) > p.MaxAuthorities:
		return 0, errors.Wrapf(types.ErrInvalid, "%d authorities; max_authorities is %d", len(in.Authorities), p.MaxAuthorities)
	case !in.Deposit.IsValid() || in.Deposit.IsZero():
		return 0, errors.Wrapf(types.ErrInvalid, "deposit %q must be positive, valid coins (for example 1000000asah)", in.Deposit)
	case uint32(len(in.Deposit)) > p.MaxDenoms:
		return 0, errors.Wrapf(types.ErrInvalid, "deposit has %d denoms; max_denoms is %d", len(in.Deposit), p.MaxDenoms)
	case !in.Rate.IsValid() || in.Rate.IsZero():
		return 0, errors.Wrapf(types.ErrInvalid, "rate %q must be positive, valid coins: the price of one accepted unit per denom", in.Rate)
	case !in.Rate.DenomsSubsetOf(in.Deposit) || len(in.Rate) != len(in.Deposit):
		return 0, errors.Wrapf(types.ErrInvalid, "rate %s must name exactly the deposit's denoms (%s)", in.Rate, denoms(in.Deposit))
	case in.MaxBonusBps > types.MaxBonusBps:
		return 0, errors.Wrapf(types.ErrInvalid, "max_bonus_bps %d is above %d", in.MaxBonusBps, types.MaxBonusBps)
	case in.Deadline <= sdkCtx.BlockTime().Unix():
		return 0, errors.Wrapf(types.ErrInvalid, "deadline %d is not in the future (block time %d)", in.Deadline, sdkCtx.BlockTime().Unix())
	case in.RequesterShare > registrytypes.TotalShares:
		return 0, errors.Wrapf(types.ErrInvalid, "requester_share %d is above %d (100%%)", in.RequesterShare, registrytypes.TotalShares)
	}
	requester, err := k.addrs.BytesToString(in.Requester)
	if err != nil {
		return 0, err
	}
	var auths []string
	seen := map[string]bool{}
	for i, a := range in.Authorities {
		s, err := k.addrs.BytesToString(a)
		if err != nil {
			return 0, err
		}
		if seen[s] {
			return 0, errors.Wrapf(types.ErrInvalid, "authorities[%d] %s is listed twice", i, s)
		}
		seen[s] = true
		auths = append(auths, s)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, in.Requester, types.ModuleName, in.Deposit); err != nil {
		return 0, errors.Wrapf(err, "escrow the deposit %s", in.Deposit)
	}
	id, err := modkit.NextID(ctx, k.NextID)
	if err != nil {
		return 0, err
	}
	pool := types.Pool{
		Id: id, Requester: requester, Name: in.Name, Authorities: auths, Deposited: in.Deposit, Rate: in.Rate,
		MaxBonusBps: in.MaxBonusBps, Deadline: in.Deadline, RequesterShare: in.RequesterShare,
		Status: types.POOL_STATUS_OPEN, CreatedHeight: sdkCtx.BlockHeight(),
	}
	if err := k.Pools.Set(ctx, id, pool); err != nil {
		return 0, err
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent(types.EventPoolCreated,
		sdk.NewAttribute("pool_id", u64(id)), sdk.NewAttribute("requester", requester), sdk.NewAttribute("name", in.Name),
		sdk.NewAttribute("authorities", strings.Join(auths, ",")), sdk.NewAttribute("deposit", in.Deposit.String()),
		sdk.NewAttribute("rate", in.Rate.String()), sdk.NewAttribute("max_bonus_bps", u64(uint64(in.MaxBonusBps))),
		sdk.NewAttribute("deadline", strconv.FormatInt(in.Deadline, 10)), sdk.NewAttribute("requester_share", u64(in.RequesterShare))))
	return id, nil
}

func denoms(c sdk.Coins) string { return strings.Join(c.Denoms(), ", ") }

// open loads a pool that still takes deposits and payouts.
func (k *Keeper) open(ctx context.Context, id uint64) (types.Pool, error) {
	p, err := k.GetPool(ctx, id)
	if err != nil {
		return p, err
	}
	if p.Status != types.POOL_STATUS_OPEN {
		return p, errors.Wrapf(types.ErrClosed, "pool %d is closed", id)
	}
	return p, nil
}

// FundPool adds to an open pool's escrow, in the denoms it pays in.
func (k *Keeper) FundPool(ctx context.Context, funder sdk.AccAddress, id uint64, amt sdk.Coins) error {
	p, err := k.open(ctx, id)
	if err != nil {
		return err
	}
	if !amt.IsValid() || amt.IsZero() {
		return errors.Wrapf(types.ErrInvalid, "amount %q must be positive, valid coins", amt)
	}
	if !amt.DenomsSubsetOf(p.Rate) {
		return errors.Wrapf(types.ErrInvalid, "pool %d pays in %s; %s is not one of them", id, denoms(p.Rate), amt)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, funder, types.ModuleName, amt); err != nil {
		return errors.Wrapf(err, "escrow %s", amt)
	}
	p.Deposited = sdk.Coins(p.Deposited).Add(amt...)
	if err := k.Pools.Set(ctx, id, p); err != nil {
		return err
	}
	f, _ := k.addrs.BytesToString(funder)
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent(types.EventPoolFunded,
		sdk.NewAttribute("pool_id", u64(id)), sdk.NewAttribute("funder", f), sdk.NewAttribute("amount", amt.String())))
	return nil
}

// Entry is one payout with a decoded address.
type Entry struct {
	Addr          sdk.AccAddress
	Amount        sdk.Coins
	Units, Weight uint64
}

// PostPayouts applies a payout batch of an open pool: the sender must be one of its authorities,
// the batch id above the last applied one, every entry within the rate and bonus, and the total
// within what the pool holds. All or nothing.
func (k *Keeper) PostPayouts(ctx context.Context, sender sdk.AccAddress, poolID, batchID uint64, entries []Entry) (sdk.Coins, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	p, err := k.open(ctx, poolID)
	if err != nil {
		return nil, err
	}
	s, err := k.addrs.BytesToString(sender)
	if err != nil {
		return nil, err
	}
	if !p.IsAuthority(s) {
		return nil, errors.Wrapf(types.ErrUnauthorized, "%s is not a QA authority of pool %d", s, poolID)
	}
	if batchID <= p.LastBatch {
		if _, err := k.Batches.Get(ctx, collections.Join(poolID, batchID)); err == nil {
			return nil, errors.Wrapf(types.ErrBatchApplied, "batch %d of pool %d was applied already; nothing was paid again", batchID, poolID)
		}
		return nil, errors.Wrapf(types.ErrBatchApplied, "batch %d of pool %d is not above the last applied batch %d; batch ids must increase", batchID, poolID, p.LastBatch)
	}
	switch {
	case len(entries) == 0:
		return nil, errors.Wrap(types.ErrInvalid, "entries is empty")
	case uint32(len(entries)) > params.MaxBatchEntries:
		return nil, errors.Wrapf(types.ErrInvalid, "%d entries; max_batch_entries is %d: split the batch", len(entries), params.MaxBatchEntries)
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	sdkCtx.GasMeter().ConsumeGas(params.GasPerEntry*uint64(len(entries)), "datatask: payout entries")

	total := sdk.NewCoins()
	seen := make(map[string]bool, len(entries))
	outputs := make([]banktypes.Output, 0, len(entries))
	var units, weight uint64
	for i, e := range entries {
		if seen[string(e.Addr)] {
			return nil, errors.Wrapf(types.ErrInvalid, "entries[%d]: address listed twice in one batch", i)
		}
		seen[string(e.Addr)] = true
		if k.bank.BlockedAddr(e.Addr) {
			return nil, errors.Wrapf(types.ErrInvalid, "entries[%d]: %s may not receive funds (a module account or precompile)", i, sdk.AccAddress(e.Addr))
		}
		if err := k.checkEntry(p, e); err != nil {
			return nil, errors.Wrapf(err, "entries[%d]", i)
		}
		total = total.Add(e.Amount...)
		units += e.Units
		weight += e.Weight
		if !e.Amount.IsZero() {
			a, err := k.addrs.BytesToString(e.Addr)
			if err != nil {
				return nil, err
			}
			outputs = append(outputs, banktypes.Output{Address: a, Coins: e.Amount})
		}
	}
	held, err := p.Held()
	if err != nil {
		return nil, err
	}
	if !total.IsAllLTE(held) {
		return nil, errors.Wrapf(types.ErrEscrow, "batch %d pays %s but pool %d holds only %s: fund the pool or split the batch", batchID, total, poolID, held)
	}
	if len(outputs) > 0 {
		if err := k.bank.InputOutputCoins(ctx, banktypes.Input{Address: k.module, Coins: total}, outputs); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		key := collections.Join(poolID, e.Addr)
		c, err := k.Contributions.Get(ctx, key)
		if errors.IsOf(err, collections.ErrNotFound) {
			a, _ := k.addrs.BytesToString(e.Addr)
			c, err = types.Contribution{PoolId: poolID, Address: a}, nil
		}
		if err != nil {
			return nil, err
		}
		c.Paid = sdk.Coins(c.Paid).Add(e.Amount...)
		c.Units += e.Units
		c.Weight += e.Weight
		if err := k.Contributions.Set(ctx, key, c); err != nil {
			return nil, err
		}
	}
	p.Paid = sdk.Coins(p.Paid).Add(total...)
	p.LastBatch = batchID
	p.Units += units
	p.Weight += weight
	if err := k.Pools.Set(ctx, poolID, p); err != nil {
		return nil, err
	}
	if err := k.Batches.Set(ctx, collections.Join(poolID, batchID), types.Batch{
		PoolId: poolID, BatchId: batchID, Height: sdkCtx.BlockHeight(), Entries: uint32(len(entries)), Total: total,
	}); err != nil {
		return nil, err
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent(types.EventPayoutsPosted,
		sdk.NewAttribute("pool_id", u64(poolID)), sdk.NewAttribute("batch_id", u64(batchID)), sdk.NewAttribute("authority", s),
		sdk.NewAttribute("entries", u64(uint64(len(entries)))), sdk.NewAttribute("total", total.String()),
		sdk.NewAttribute("units", u64(units)), sdk.NewAttribute("weight", u64(weight))))
	return total, nil
}

// checkEntry: valid coins in the pool's denoms, each at most units * rate * (1 + bonus).
func (k *Keeper) checkEntry(p types.Pool, e Entry) error {
	if !e.Amount.IsValid() {
		return errors.Wrapf(types.ErrInvalid, "amount %q is not valid coins", e.Amount)
	}
	if e.Amount.IsZero() && e.Weight == 0 {
		return errors.Wrap(types.ErrInvalid, "pays nothing and records no weight")
	}
	for _, c := range e.Amount {
		rate := sdk.Coins(p.Rate).AmountOf(c.Denom)
		if rate.IsZero() {
			return errors.Wrapf(types.ErrInvalid, "pool %d does not pay in %s (it pays in %s)", p.Id, c.Denom, denoms(p.Rate))
		}
		limit := rate.Mul(math.NewIntFromUint64(e.Units)).Mul(math.NewInt(10_000 + int64(p.MaxBonusBps))).Quo(math.NewInt(10_000))
		if c.Amount.GT(limit) {
			return errors.Wrapf(types.ErrInvalid, "%s for %d units is above the pool's rate %s%s per unit plus %d bps bonus (at most %s)",
				c, e.Units, rate, c.Denom, p.MaxBonusBps, limit)
		}
	}
	return nil
}

// ClosePool refunds what a pool holds to its requester and closes it: the requester may close
// after the deadline, an authority at any time.
func (k *Keeper) ClosePool(ctx context.Context, sender sdk.AccAddress, id uint64) (sdk.Coins, error) {
	p, err := k.open(ctx, id)
	if err != nil {
		return nil, err
	}
	s, err := k.addrs.BytesToString(sender)
	if err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	switch {
	case p.IsAuthority(s):
	case s == p.Requester:
		if now := sdkCtx.BlockTime().Unix(); now <= p.Deadline {
			return nil, errors.Wrapf(types.ErrDeadline, "pool %d runs until %d (now %d): the requester may close it after the deadline", id, p.Deadline, now)
		}
	default:
		return nil, errors.Wrapf(types.ErrUnauthorized, "%s is neither the requester nor a QA authority of pool %d", s, id)
	}
	held, err := p.Held()
	if err != nil {
		return nil, err
	}
	requester, err := k.addr("requester", p.Requester)
	if err != nil {
		return nil, err
	}
	if !held.IsZero() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, requester, held); err != nil {
			return nil, err
		}
	}
	p.Refunded = sdk.Coins(p.Refunded).Add(held...)
	p.Status = types.POOL_STATUS_CLOSED
	if err := k.Pools.Set(ctx, id, p); err != nil {
		return nil, err
	}
	sdkCtx.EventManager().EmitEvent(sdk.NewEvent(types.EventPoolClosed,
		sdk.NewAttribute("pool_id", u64(id)), sdk.NewAttribute("by", s), sdk.NewAttribute("refunded", held.String())))
	return held, nil
}

// MintInput is the finished dataset's content.
type MintInput struct {
	Name, URI   string
	ContentRoot []byte
	Size        uint64
}

// MintDataset registers the pool's dataset, owned by the requester; its shares are the
// requester's share plus the rest split among contributors in proportion to weight. The registry
// caps the number of shareholders: the heaviest contributors are kept (ties by address), and
// whole-share remainders go to the requester.
func (k *Keeper) MintDataset(ctx context.Context, sender sdk.AccAddress, id uint64, in MintInput) (uint64, error) {
	p, err := k.GetPool(ctx, id)
	if err != nil {
		return 0, err
	}
	s, err := k.addrs.BytesToString(sender)
	if err != nil {
		return 0, err
	}
	if s != p.Requester && !p.IsAuthority(s) {
		return 0, errors.Wrapf(types.ErrUnauthorized, "%s is neither the requester nor a QA authority of pool %d", s, id)
	}
	if p.DatasetId != 0 {
		return 0, errors.Wrapf(types.ErrInvalid, "pool %d already minted dataset asset %d", id, p.DatasetId)
	}
	if p.Weight == 0 {
		return 0, errors.Wrapf(types.ErrInvalid, "pool %d has no paid, weighted work yet: post payouts before minting", id)
	}
	rp, err := k.registry.GetParams(ctx)
	if err != nil {
		return 0, err
	}
	var contribs []types.Contribution
	if err := k.Contributions.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](id), func(_ collections.Pair[uint64, sdk.AccAddress], c types.Contribution) (bool, error) {
		if c.Weight > 0 {
			contribs = append(contribs, c)
		}
		return false, nil
	}); err != nil {
		return 0, err
	}
	requester, err := k.addr("requester", p.Requester)
	if err != nil {
		return 0, err
	}
	holders, kept, err := k.splitShares(requester, p.RequesterShare, contribs, int(rp.MaxShareholders))
	if err != nil {
		return 0, err
	}
	assetID, err := k.registry.Register(ctx, registrykeeper.RegisterInput{
		Owner: requester, Kind: registrytypes.ASSET_KIND_DATASET, Name: in.Name, URI: in.URI,
		ContentRoot: in.ContentRoot, Size: in.Size, Shareholders: holders,
	})
	if err != nil {
		return 0, err
	}
	p.DatasetId = assetID
	if err := k.Pools.Set(ctx, id, p); err != nil {
		return 0, err
	}
	sdk.UnwrapSDKContext(ctx).EventManager().EmitEvent(sdk.NewEvent(types.EventDatasetMinted,
		sdk.NewAttribute("pool_id", u64(id)), sdk.NewAttribute("asset_id", u64(assetID)),
		sdk.NewAttribute("contributors", u64(uint64(kept))), sdk.NewAttribute("left_out", u64(uint64(len(contribs)-kept)))))
	return assetID, nil
}

// splitShares: the requester's share, the rest by weight (floor), remainders to the requester.
// It returns the holders and how many contributors hold shares.
func (k *Keeper) splitShares(requester sdk.AccAddress, requesterShare uint64, contribs []types.Contribution, maxHolders int) ([]registrykeeper.Holder, int, error) {
	sort.Slice(contribs, func(i, j int) bool {
		if contribs[i].Weight != contribs[j].Weight {
			return contribs[i].Weight > contribs[j].Weight
		}
		return contribs[i].Address < contribs[j].Address
	})
	if len(contribs) > maxHolders-1 {
		contribs = contribs[:maxHolders-1]
	}
	var weight math.Int = math.ZeroInt()
	for _, c := range contribs {
		weight = weight.Add(math.NewIntFromUint64(c.Weight))
	}
	rest := math.NewIntFromUint64(registrytypes.TotalShares - requesterShare)
	shares := map[string]uint64{}
	var order []string
	given := uint64(0)
	for _, c := range contribs {
		a, err := k.addr("contributor", c.Address)
		if err != nil {
			return nil, 0, err
		}
		n := rest.Mul(math.NewIntFromUint64(c.Weight)).Quo(weight).Uint64()
		if n == 0 {
			continue
		}
		shares[string(a)] += n
		order = append(order, string(a))
		given += n
	}
	r := registrytypes.TotalShares - given // the requester's share plus rounding
	if r > 0 {
		if _, ok := shares[string(requester)]; !ok {
			order = append(order, string(requester))
		}
		shares[string(requester)] += r
	}
	holders := make([]registrykeeper.Holder, 0, len(order))
	kept := 0
	for _, a := range order {
		holders = append(holders, registrykeeper.Holder{Addr: sdk.AccAddress(a), Shares: shares[a]})
		if a != string(requester) {
			kept++
		}
	}
	return holders, kept, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
