package keeper

import (
	"math/big"
	"strings"
	"testing"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"sahara/chain/x/royalty/types"
)

func TestVaultCodec(t *testing.T) {
	c := newVaultCodec(codec.NewProtoCodec(codectypes.NewInterfaceRegistry()))
	huge := math.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 250))
	for _, v := range []types.Vault{
		types.NewVault(1, "asah"),
		{Received: math.NewInt(1000), Forwarded: math.NewInt(100), Distributed: math.NewInt(900), Claimed: math.NewInt(899)},
		{Received: huge, Forwarded: math.NewInt(7), Distributed: huge.SubRaw(7), Claimed: huge.SubRaw(8)},
	} {
		bz, err := c.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(bz)
		if err != nil || !got.Received.Equal(v.Received) || !got.Forwarded.Equal(v.Forwarded) ||
			!got.Distributed.Equal(v.Distributed) || !got.Claimed.Equal(v.Claimed) {
			t.Fatalf("%+v → %x → %+v, %v", v, bz, got, err)
		}
		// Protobuf, as vaults were stored before, still decodes.
		pb, _ := v.Marshal()
		if old, err := c.Decode(pb); err != nil || !old.Received.Equal(v.Received) || !old.Claimed.Equal(v.Claimed) {
			t.Fatalf("legacy %x → %+v, %v", pb, old, err)
		}
	}
	// A vault that has taken in 1,000 SAH (1e21 asah), as stored now and as protobuf before.
	sah := math.NewIntWithDecimal(1000, 18)
	v := types.Vault{AssetId: 123456, Denom: "asah", Received: sah, Forwarded: sah.QuoRaw(10), Distributed: sah.Sub(sah.QuoRaw(10)), Claimed: sah.QuoRaw(2)}
	compact, _ := c.Encode(v)
	pb, _ := v.Marshal()
	if len(compact)*3 > len(pb) {
		t.Fatalf("compact %d bytes, protobuf %d", len(compact), len(pb))
	}
	t.Logf("a vault of 1,000 SAH: %d bytes compact, %d as protobuf (the key adds %d)", len(compact), len(pb), 1+8+len(v.Denom))
	bz, _ := c.Encode(types.Vault{Received: math.NewInt(70000), Forwarded: math.ZeroInt(), Distributed: math.NewInt(70000), Claimed: math.ZeroInt()})
	for _, bad := range [][]byte{bz[:len(bz)-1], append(append([]byte{}, bz...), 1), {0}} {
		if _, err := c.Decode(bad); err == nil {
			t.Fatalf("decoded damaged bytes %x", bad)
		}
	}
	if _, err := c.Encode(types.Vault{Received: math.NewInt(5), Forwarded: math.NewInt(1), Distributed: math.NewInt(5), Claimed: math.ZeroInt()}); err == nil || !strings.Contains(err.Error(), "received 5 != forwarded 1 + distributed 5") {
		t.Fatalf("a vault that does not add up: %v", err)
	}
}
