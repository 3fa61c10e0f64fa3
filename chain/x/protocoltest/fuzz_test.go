package protocoltest

import (
	"math/rand"
	"reflect"
	"testing"

	"cosmossdk.io/math"
	gogoproto "github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	lt "sahara/chain/x/licensing/types"
	rt "sahara/chain/x/registry/types"
	yt "sahara/chain/x/royalty/types"
)

// fuzzEnv is a chain with a dataset, terms, a license and a model, so mutated messages can reach
// deep paths (parents, fees, claims) rather than failing at the first lookup.
func fuzzEnv(t testing.TB) (*Env, []gogoproto.Message) {
	e := New(t)
	a, b := Addr(1), Addr(2)
	e.Fund(a, coins(1_000_000))
	e.Fund(b, coins(1_000_000))
	ds := e.mustRegister(dataset(a, "ds"))
	terms := e.offer(a, ds, lt.Terms{CommercialUse: true, DerivativesAllowed: true, DerivativeRevShareBps: 500, MintFee: sdk.NewCoin(denom, math.NewInt(10))})
	lic, err := e.mint(b, ds, terms, sdk.NewCoin(denom, math.NewInt(10)), 500)
	must(t, err)
	model := dataset(b, "m")
	model.Kind = rt.ASSET_KIND_MODEL
	model.Parents = []rt.ParentRef{{ParentId: ds, EdgeType: rt.EDGE_TYPE_TRAINED_ON, LicenseId: lic}}
	seeds := []gogoproto.Message{
		model,
		&rt.MsgAddVersion{Owner: Bech32(a), AssetId: ds, Uri: "u", ContentRoot: Root("v")},
		&rt.MsgTransferShares{From: Bech32(a), AssetId: ds, To: Bech32(b), Shares: 5},
		&rt.MsgTransferOwnership{Owner: Bech32(a), AssetId: ds, NewOwner: Bech32(b)},
		&lt.MsgCreateTerms{Creator: Bech32(a), Terms: lt.Terms{DerivativesAllowed: true, DerivativeRevShareBps: 100, MintFee: sdk.NewCoin(denom, math.NewInt(3))}},
		&lt.MsgAttachTerms{Owner: Bech32(a), AssetId: ds, TermsId: terms},
		&lt.MsgMintLicense{Minter: Bech32(b), AssetId: ds, TermsId: terms, MaxMintFee: sdk.NewCoin(denom, math.NewInt(10)), MaxRevShareBps: 500},
		&lt.MsgTransferLicense{Holder: Bech32(b), LicenseId: lic, To: Bech32(a)},
		&lt.MsgRevokeLicense{Sender: Bech32(a), LicenseId: lic},
		&yt.MsgPay{Payer: Bech32(b), AssetId: ds, Amount: coins(100)},
		&yt.MsgClaim{Claimant: Bech32(a)},
	}
	return e, seeds
}

// deliver decodes bz as a message of seed's type and runs it through its Msg server in a cached
// context, as a transaction would. Errors are expected; panics are bugs.
func (e *Env) deliver(seed gogoproto.Message, bz []byte) {
	msg := reflect.New(reflect.TypeOf(seed).Elem()).Interface().(gogoproto.Message)
	if err := gogoproto.Unmarshal(bz, msg); err != nil {
		return
	}
	_ = e.Cached(func(ctx sdk.Context) error {
		var err error
		switch m := msg.(type) {
		case *rt.MsgRegisterAsset:
			_, err = e.reg().RegisterAsset(ctx, m)
		case *rt.MsgAddVersion:
			_, err = e.reg().AddVersion(ctx, m)
		case *rt.MsgTransferShares:
			_, err = e.reg().TransferShares(ctx, m)
		case *rt.MsgTransferOwnership:
			_, err = e.reg().TransferOwnership(ctx, m)
		case *lt.MsgCreateTerms:
			_, err = e.lic().CreateTerms(ctx, m)
		case *lt.MsgAttachTerms:
			_, err = e.lic().AttachTerms(ctx, m)
		case *lt.MsgMintLicense:
			_, err = e.lic().MintLicense(ctx, m)
		case *lt.MsgTransferLicense:
			_, err = e.lic().TransferLicense(ctx, m)
		case *lt.MsgRevokeLicense:
			_, err = e.lic().RevokeLicense(ctx, m)
		case *yt.MsgPay:
			_, err = e.roy().Pay(ctx, m)
		case *yt.MsgClaim:
			_, err = e.roy().Claim(ctx, m)
		}
		return err
	})
}

// FuzzProtocolMsgs: `go test -fuzz FuzzProtocolMsgs ./chain/x/protocoltest` explores further; the
// seeds (each valid message) run with every `go test`.
func FuzzProtocolMsgs(f *testing.F) {
	e, seeds := fuzzEnv(f)
	for i, s := range seeds {
		bz, err := gogoproto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), bz)
	}
	f.Fuzz(func(t *testing.T, which uint8, bz []byte) {
		e.deliver(seeds[int(which)%len(seeds)], bz)
	})
}

// Thousands of mutated messages (bit flips, truncations, splices, random bytes) in every run of
// the suite: none may panic, and the money must still balance afterwards.
func TestMutatedMsgsNeverPanic(t *testing.T) {
	e, seeds := fuzzEnv(t)
	rng := rand.New(rand.NewSource(11))
	var encoded [][]byte
	for _, s := range seeds {
		bz, _ := gogoproto.Marshal(s)
		encoded = append(encoded, bz)
	}
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	for i := 0; i < n; i++ {
		k := rng.Intn(len(seeds))
		bz := append([]byte(nil), encoded[k]...)
		switch rng.Intn(4) {
		case 0: // flip bits
			for j := 0; j < 1+rng.Intn(4) && len(bz) > 0; j++ {
				bz[rng.Intn(len(bz))] ^= byte(1 << rng.Intn(8))
			}
		case 1: // truncate
			if len(bz) > 0 {
				bz = bz[:rng.Intn(len(bz))]
			}
		case 2: // splice in another message's bytes
			o := encoded[rng.Intn(len(encoded))]
			if len(o) > 0 && len(bz) > 0 {
				at := rng.Intn(len(bz))
				bz = append(bz[:at], o[rng.Intn(len(o)):]...)
			}
		default: // random bytes
			bz = make([]byte, rng.Intn(64))
			rng.Read(bz)
		}
		e.deliver(seeds[k], bz)
	}
	// Conservation still holds: the module account holds what its vaults owe.
	mod := e.App.BankKeeper.GetBalance(e.Ctx, e.App.AccountKeeper.GetModuleAddress(yt.ModuleName), denom).Amount
	owed := math.ZeroInt()
	next, _ := e.App.RegistryKeeper.NextID.Peek(e.Ctx)
	for id := uint64(1); id < next; id++ {
		v, err := e.royQ().Vault(e.Ctx, &yt.QueryVaultRequest{AssetId: id})
		if err != nil {
			continue
		}
		for _, b := range v.Balances {
			owed = owed.Add(b.Claimable).Add(b.Dust)
		}
	}
	if !mod.Equal(owed) {
		t.Fatalf("after fuzzing the royalty module holds %s but owes %s", mod, owed)
	}
}
