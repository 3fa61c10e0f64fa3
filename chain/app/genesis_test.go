package app

import (
	"encoding/json"
	"strings"
	"testing"

	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/keys/ed25519"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

func testApp(t *testing.T) *App {
	t.Helper()
	return New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
}

// The supply equals the sum of all balances, to the unit, and the bonded
// stake sits in the not-bonded pool until InitChain bonds it.
func TestBuildGenesisBalancesToTheUnit(t *testing.T) {
	a := testApp(t)
	acc := func(b byte) sdk.AccAddress { return sdk.AccAddress(append(make([]byte, 19), b)) }
	odd := sdkmath.NewIntWithDecimal(1, 18).AddRaw(7)
	cfg := GenesisConfig{
		Accounts: []GenesisAccount{
			{Address: acc(1), Amount: sdkmath.NewIntWithDecimal(5, 20)},
			{Address: acc(2), Amount: odd},
			{Address: acc(1), Amount: sdkmath.NewInt(3)}, // a second grant to the same account adds up
		},
		Validators: []GenesisValidator{
			{Moniker: "v0", Operator: acc(9), ConsKey: ed25519.GenPrivKey().PubKey(), Bond: sdkmath.NewIntWithDecimal(1000, 18)},
			{Moniker: "v1", Operator: acc(10), ConsKey: ed25519.GenPrivKey().PubKey(), Bond: sdkmath.NewIntWithDecimal(250, 18)},
		},
	}
	g, err := a.BuildGenesis(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var bank banktypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(g[banktypes.ModuleName], &bank)
	sum := sdkmath.ZeroInt()
	byAddr := map[string]sdkmath.Int{}
	for _, b := range bank.Balances {
		sum = sum.Add(b.Coins.AmountOf(Denom))
		byAddr[b.Address] = b.Coins.AmountOf(Denom)
	}
	if !bank.Supply.AmountOf(Denom).Equal(sum) {
		t.Fatalf("supply %s != sum of balances %s", bank.Supply.AmountOf(Denom), sum)
	}
	if got := byAddr[acc(1).String()]; !got.Equal(sdkmath.NewIntWithDecimal(5, 20).AddRaw(3)) {
		t.Fatalf("account 1 balance %s", got)
	}
	pool := byAddr[authtypes.NewModuleAddress(stakingtypes.NotBondedPoolName).String()]
	if !pool.Equal(sdkmath.NewIntWithDecimal(1250, 18)) {
		t.Fatalf("not-bonded pool %s, want the two bonds", pool)
	}
	if len(bank.DenomMetadata) != 1 || bank.DenomMetadata[0].Display != DisplayDenom || bank.DenomMetadata[0].DenomUnits[1].Exponent != 18 {
		t.Fatalf("denom metadata %+v", bank.DenomMetadata)
	}
	var st stakingtypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(g[stakingtypes.ModuleName], &st)
	if st.Params.BondDenom != Denom || len(st.Validators) != 2 || st.Validators[0].Status != stakingtypes.Unbonded {
		t.Fatalf("staking genesis: denom %s, %d validators", st.Params.BondDenom, len(st.Validators))
	}
	if _, err := json.Marshal(g); err != nil {
		t.Fatal(err)
	}
}

func TestBuildGenesisRejectsBadConfigs(t *testing.T) {
	a := testApp(t)
	addr := sdk.AccAddress(make([]byte, 20))
	cases := []struct {
		name string
		cfg  GenesisConfig
		want string
	}{
		{"no validator", GenesisConfig{}, "at least one validator"},
		{"zero bond", GenesisConfig{Validators: []GenesisValidator{{Moniker: "v", Operator: addr, ConsKey: ed25519.GenPrivKey().PubKey(), Bond: sdkmath.ZeroInt()}}}, "bond must be positive"},
		{"negative balance", GenesisConfig{Accounts: []GenesisAccount{{Address: addr, Amount: sdkmath.NewInt(-1)}},
			Validators: []GenesisValidator{{Moniker: "v", Operator: addr, ConsKey: ed25519.GenPrivKey().PubKey(), Bond: sdkmath.OneInt()}}}, "negative balance"},
	}
	for _, c := range cases {
		if _, err := a.BuildGenesis(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
