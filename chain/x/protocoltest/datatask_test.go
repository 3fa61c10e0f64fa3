package protocoltest

import (
	"math/rand"
	"testing"
	"time"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	dk "sahara/chain/x/datatask/keeper"
	dt "sahara/chain/x/datatask/types"
	rt "sahara/chain/x/registry/types"
)

const partner = "erc20:0x5A4A000000000000000000000000000000000001" // the bank form of a partner ERC-20

func (e *Env) task() dt.MsgServer    { return dk.NewMsgServer(e.App.DataTaskKeeper) }
func (e *Env) taskQ() dt.QueryServer { return dk.NewQueryServer(e.App.DataTaskKeeper) }

func pair(asah, part int64) sdk.Coins {
	return sdk.NewCoins(sdk.NewInt64Coin(denom, asah), sdk.NewInt64Coin(partner, part))
}

var taskModule = authtypes.NewModuleAddress(dt.ModuleName)

func (e *Env) createPool(req sdk.AccAddress, auth sdk.AccAddress, deposit, rate sdk.Coins, deadline int64, share uint64) (uint64, error) {
	var id uint64
	err := e.Cached(func(ctx sdk.Context) error {
		r, err := e.task().CreatePool(ctx, &dt.MsgCreatePool{Requester: Bech32(req), Name: "pool", Authorities: []string{Bech32(auth)},
			Deposit: deposit, Rate: rate, MaxBonusBps: 5000, Deadline: deadline, RequesterShare: share})
		if err == nil {
			id = r.PoolId
		}
		return err
	})
	return id, err
}

func (e *Env) post(ctx sdk.Context, auth sdk.AccAddress, pool, batch uint64, entries []dt.PayoutEntry) error {
	return e.Cached(func(ctx sdk.Context) error {
		_, err := e.task().PostPayouts(ctx, &dt.MsgPostPayouts{Authority: Bech32(auth), PoolId: pool, BatchId: batch, Entries: entries})
		return err
	})
}

func entry(a sdk.AccAddress, amt sdk.Coins, units, weight uint64) dt.PayoutEntry {
	return dt.PayoutEntry{Address: Bech32(a), Amount: amt, Units: units, Weight: weight}
}

// The rules, one by one: dual-denom escrow, authority only, exactly-once batches, rate caps,
// the escrow never overdrawn, refunds only after the deadline, the dataset shared by weight.
func TestDataTaskPoolLifecycle(t *testing.T) {
	e := New(t)
	req, qa, a, b, c := Addr(1), Addr(2), Addr(3), Addr(4), Addr(5)
	e.Fund(req, pair(1_000_000, 500_000))
	now := e.Ctx.BlockTime().Unix()

	_, err := e.createPool(req, qa, pair(1000, 500), sdk.NewCoins(sdk.NewInt64Coin(denom, 10)), now+3600, 0)
	wantErr(t, err, "must name exactly the deposit's denoms")
	_, err = e.createPool(req, qa, pair(1000, 500), pair(10, 5), now, 0)
	wantErr(t, err, "not in the future")
	_, err = e.createPool(req, qa, pair(2_000_000, 500), pair(10, 5), now+3600, 0)
	wantErr(t, err, "insufficient funds")

	pool, err := e.createPool(req, qa, pair(1000, 500), pair(10, 5), now+3600, 20_000_000) // requester keeps 20%
	must(t, err)
	if got := e.Balance(taskModule, partner); !got.Equal(math.NewInt(500)) {
		t.Fatalf("module holds %s %s, want 500", got, partner)
	}

	// Only a QA authority posts; the rate (plus 50% bonus) caps each entry.
	wantErr(t, e.post(e.Ctx, req, pool, 1, []dt.PayoutEntry{entry(a, pair(10, 5), 1, 1)}), "not a QA authority")
	wantErr(t, e.post(e.Ctx, qa, pool, 1, []dt.PayoutEntry{entry(a, pair(16, 5), 1, 1)}), "above the pool's rate")
	wantErr(t, e.post(e.Ctx, qa, pool, 1, []dt.PayoutEntry{entry(a, pair(10, 5), 1, 1), entry(a, pair(10, 5), 1, 1)}), "listed twice")
	wantErr(t, e.post(e.Ctx, qa, pool, 1, []dt.PayoutEntry{entry(taskModule, pair(10, 5), 1, 1)}), "may not receive funds")

	must(t, e.post(e.Ctx, qa, pool, 1, []dt.PayoutEntry{entry(a, pair(300, 150), 30, 3000), entry(b, pair(100, 50), 10, 1000)}))
	if !e.Balance(a, denom).Equal(math.NewInt(300)) || !e.Balance(a, partner).Equal(math.NewInt(150)) {
		t.Fatalf("a has %s / %s", e.Balance(a, denom), e.Balance(a, partner))
	}
	// A replayed batch, and a batch id at or below the last, are refused and pay nothing.
	wantErr(t, e.post(e.Ctx, qa, pool, 1, []dt.PayoutEntry{entry(c, pair(10, 5), 1, 1)}), "was applied already")
	must(t, e.post(e.Ctx, qa, pool, 5, []dt.PayoutEntry{entry(c, pair(100, 50), 10, 1000)}))
	wantErr(t, e.post(e.Ctx, qa, pool, 3, []dt.PayoutEntry{entry(c, pair(10, 5), 1, 1)}), "batch ids must increase")
	if !e.Balance(c, denom).Equal(math.NewInt(100)) {
		t.Fatalf("c has %s, want 100", e.Balance(c, denom))
	}
	// 500/250 held: a batch above it is refused whole.
	wantErr(t, e.post(e.Ctx, qa, pool, 6, []dt.PayoutEntry{entry(a, pair(450, 10), 30, 1), entry(b, pair(100, 10), 10, 1)}), "holds only")

	r, err := e.taskQ().Pool(e.Ctx, &dt.QueryPoolRequest{Id: pool})
	must(t, err)
	if !r.Held.Equal(pair(500, 250)) || r.Pool.LastBatch != 5 || r.Pool.Units != 50 || r.Pool.Weight != 5000 {
		t.Fatalf("pool after payouts: held %s, %+v", r.Held, r.Pool)
	}

	// The requester waits for the deadline; then the rest comes back, once.
	wantErr(t, e.Cached(func(ctx sdk.Context) error {
		_, err := e.task().ClosePool(ctx, &dt.MsgClosePool{Sender: Bech32(req), PoolId: pool})
		return err
	}), "after the deadline")
	before := e.Balance(req, partner)
	later := e.Ctx.WithBlockTime(e.Ctx.BlockTime().Add(3601e9))
	cr, err := e.task().ClosePool(later, &dt.MsgClosePool{Sender: Bech32(req), PoolId: pool})
	must(t, err)
	if !cr.Refunded.Equal(pair(500, 250)) || !e.Balance(req, partner).Sub(before).Equal(math.NewInt(250)) {
		t.Fatalf("refund %s", cr.Refunded)
	}
	if !e.Balance(taskModule, denom).IsZero() || !e.Balance(taskModule, partner).IsZero() {
		t.Fatal("the module still holds coins of a closed pool")
	}
	wantErr(t, e.post(later, qa, pool, 7, []dt.PayoutEntry{entry(a, pair(1, 1), 1, 1)}), "closed")

	// Minting: requester 20%, the rest 3:1:1 by weight (a 48%, b 16%, c 16%).
	mr, err := e.task().MintDataset(later, &dt.MsgMintDataset{Sender: Bech32(qa), PoolId: pool, Name: "labels", Uri: "sahara://labels", ContentRoot: Root("labels"), Size_: 10})
	must(t, err)
	ar, err := e.regQ().Asset(later, &rt.QueryAssetRequest{Id: mr.AssetId})
	must(t, err)
	want := map[string]uint64{Bech32(req): 20_000_000, Bech32(a): 48_000_000, Bech32(b): 16_000_000, Bech32(c): 16_000_000}
	if ar.Asset.Owner != Bech32(req) || ar.Asset.Kind != rt.ASSET_KIND_DATASET || len(ar.Shareholders) != 4 {
		t.Fatalf("minted %+v with %v", ar.Asset, ar.Shareholders)
	}
	for _, h := range ar.Shareholders {
		if want[h.Address] != h.Shares {
			t.Fatalf("%s holds %d shares, want %d", h.Address, h.Shares, want[h.Address])
		}
	}
	_, err = e.task().MintDataset(later, &dt.MsgMintDataset{Sender: Bech32(req), PoolId: pool, Name: "again", Uri: "sahara://x", ContentRoot: Root("x"), Size_: 1})
	wantErr(t, err, "already minted")
}

// Random pools, batches (valid, replayed, out of order, overdrawn), top-ups, closes before and
// after random deadlines. After every step, per pool and denom, to the unit:
//
//	deposited = paid + refunded + held, held >= 0, the module holds the sum of held,
//	every contributor's balance is the sum of what the model says it was paid,
//
// and no refused message changes anything.
func TestDataTaskMoneyProperty(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	for r := 0; r < rounds; r++ {
		t.Run("", func(t *testing.T) { dataTaskRound(t, int64(r)) })
	}
}

type poolModel struct {
	id                        uint64
	req, qa                   sdk.AccAddress
	deposited, paid, refunded sdk.Coins
	last                      uint64
	deadline                  int64
	closed                    bool
}

func dataTaskRound(t *testing.T, seed int64) {
	e := New(t)
	rng := rand.New(rand.NewSource(seed))
	people := make([]sdk.AccAddress, 12)
	for i := range people {
		people[i] = Addr(1000 + i)
	}
	reqs := []sdk.AccAddress{Addr(1), Addr(2), Addr(3)}
	for _, r := range reqs {
		e.Fund(r, pair(1e12, 1e12))
	}
	qa := Addr(9)
	received := map[string]sdk.Coins{}
	var pools []*poolModel
	start := e.Ctx.BlockTime()
	ctx := e.Ctx
	refused := 0

	check := func(step int) {
		t.Helper()
		held := sdk.NewCoins()
		for _, p := range pools {
			r, err := e.taskQ().Pool(ctx, &dt.QueryPoolRequest{Id: p.id})
			must(t, err)
			if !sdk.Coins(r.Pool.Deposited).Equal(p.deposited) || !sdk.Coins(r.Pool.Paid).Equal(p.paid) || !sdk.Coins(r.Pool.Refunded).Equal(p.refunded) {
				t.Fatalf("step %d pool %d: chain %s/%s/%s, model %s/%s/%s", step, p.id, r.Pool.Deposited, r.Pool.Paid, r.Pool.Refunded, p.deposited, p.paid, p.refunded)
			}
			h, neg := p.deposited.SafeSub(p.paid.Add(p.refunded...)...)
			if neg || !sdk.Coins(r.Held).Equal(h) {
				t.Fatalf("step %d pool %d: held %s, model %s (negative %v)", step, p.id, r.Held, h, neg)
			}
			held = held.Add(h...)
		}
		for _, d := range []string{denom, partner} {
			if got := e.App.BankKeeper.GetBalance(ctx, taskModule, d).Amount; !got.Equal(held.AmountOf(d)) {
				t.Fatalf("step %d: module holds %s %s, pools hold %s", step, got, d, held.AmountOf(d))
			}
		}
		for _, a := range people {
			for _, d := range []string{denom, partner} {
				if got := e.App.BankKeeper.GetBalance(ctx, a, d).Amount; !got.Equal(received[a.String()].AmountOf(d)) {
					t.Fatalf("step %d: %s has %s %s, paid %s", step, a, got, d, received[a.String()].AmountOf(d))
				}
			}
		}
	}

	for step := 0; step < 150; step++ {
		// Time moves on by up to ten minutes a step.
		ctx = ctx.WithBlockTime(ctx.BlockTime().Add(time.Duration(rng.Int63n(600e9))))
		switch op := rng.Intn(10); {
		case op < 2 || len(pools) == 0: // a new pool
			req := reqs[rng.Intn(len(reqs))]
			dep := pair(1+rng.Int63n(100_000), 1+rng.Int63n(50_000))
			deadline := start.Unix() + rng.Int63n(20_000)
			var id uint64
			err := e.Cached(func(c sdk.Context) error {
				r, err := e.task().CreatePool(c.WithBlockTime(ctx.BlockTime()), &dt.MsgCreatePool{Requester: Bech32(req), Name: "p", Authorities: []string{Bech32(qa)},
					Deposit: dep, Rate: pair(100, 50), MaxBonusBps: 10_000, Deadline: deadline, RequesterShare: uint64(rng.Intn(1e8))})
				if err == nil {
					id = r.PoolId
				}
				return err
			})
			if deadline <= ctx.BlockTime().Unix() {
				wantErr(t, err, "not in the future")
				refused++
				continue
			}
			must(t, err)
			pools = append(pools, &poolModel{id: id, req: req, qa: qa, deposited: dep, paid: sdk.NewCoins(), refunded: sdk.NewCoins(), deadline: deadline})
		case op < 7: // a batch: fresh, replayed or lower id
			p := pools[rng.Intn(len(pools))]
			batch := p.last + 1 + uint64(rng.Intn(3))
			if rng.Intn(5) == 0 {
				batch = uint64(rng.Intn(int(p.last) + 1))
			}
			n := 1 + rng.Intn(6)
			var entries []dt.PayoutEntry
			total := sdk.NewCoins()
			used := map[int]bool{}
			for i := 0; i < n; i++ {
				who := rng.Intn(len(people))
				if used[who] {
					continue
				}
				used[who] = true
				units := uint64(1 + rng.Intn(200))
				amt := pair(1+rng.Int63n(int64(units)*200), rng.Int63n(int64(units)*100))
				total = total.Add(amt...)
				entries = append(entries, entry(people[who], amt, units, uint64(rng.Intn(1000))))
			}
			held, _ := p.deposited.SafeSub(p.paid.Add(p.refunded...)...)
			err := e.Cached(func(c sdk.Context) error {
				_, err := e.task().PostPayouts(c.WithBlockTime(ctx.BlockTime()), &dt.MsgPostPayouts{Authority: Bech32(qa), PoolId: p.id, BatchId: batch, Entries: entries})
				return err
			})
			switch {
			case p.closed:
				wantErr(t, err, "closed")
			case batch <= p.last:
				wantErr(t, err, "batch")
			case !total.IsAllLTE(held):
				wantErr(t, err, "holds only")
			default:
				must(t, err)
				p.paid = p.paid.Add(total...)
				p.last = batch
				for _, en := range entries {
					received[sdk.MustAccAddressFromBech32(en.Address).String()] = received[sdk.MustAccAddressFromBech32(en.Address).String()].Add(en.Amount...)
				}
				continue
			}
			refused++
		case op < 8: // a top-up
			p := pools[rng.Intn(len(pools))]
			amt := pair(1+rng.Int63n(10_000), 1+rng.Int63n(10_000))
			err := e.Cached(func(c sdk.Context) error {
				_, err := e.task().FundPool(c, &dt.MsgFundPool{Funder: Bech32(p.req), PoolId: p.id, Amount: amt})
				return err
			})
			if p.closed {
				wantErr(t, err, "closed")
				refused++
				continue
			}
			must(t, err)
			p.deposited = p.deposited.Add(amt...)
		default: // the requester tries to close
			p := pools[rng.Intn(len(pools))]
			err := e.Cached(func(c sdk.Context) error {
				_, err := e.task().ClosePool(c.WithBlockTime(ctx.BlockTime()), &dt.MsgClosePool{Sender: Bech32(p.req), PoolId: p.id})
				return err
			})
			switch {
			case p.closed:
				wantErr(t, err, "closed")
			case ctx.BlockTime().Unix() <= p.deadline:
				wantErr(t, err, "after the deadline")
			default:
				must(t, err)
				held, _ := p.deposited.SafeSub(p.paid.Add(p.refunded...)...)
				p.refunded = p.refunded.Add(held...)
				p.closed = true
				continue
			}
			refused++
		}
		check(step)
	}
	check(-1)
	if refused == 0 {
		t.Fatal("no message was refused: the property was not exercised")
	}
}
