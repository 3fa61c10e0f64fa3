package store

import (
	"bytes"
	"testing"

	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// The digest matches go-ethereum's general EIP-712 implementation (what
// wallets use), and a signature names its signer and nothing else.
func TestCommitmentSignature(t *testing.T) {
	root, _, _ := RootOf(bytes.NewReader(randomBytes(200_000, 12)))
	td := apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain":      {{Name: "name", Type: "string"}, {Name: "version", Type: "string"}, {Name: "chainId", Type: "uint256"}},
			"ContentCommitment": {{Name: "root", Type: "bytes32"}, {Name: "size", Type: "uint64"}},
		},
		PrimaryType: "ContentCommitment",
		Domain:      apitypes.TypedDataDomain{Name: "Sahara Store", Version: "1", ChainId: math.NewHexOrDecimal256(4817293)},
		Message:     apitypes.TypedDataMessage{"root": root[:], "size": "200000"},
	}
	want, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	if got := CommitmentDigest(root, 200_000, 4817293); !bytes.Equal(got, want) {
		t.Fatalf("digest %x, go-ethereum says %x", got, want)
	}
	k, _ := crypto.GenerateKey()
	sig, signer, err := SignCommitment(root, 200_000, 4817293, crypto.FromECDSA(k))
	if err != nil || signer != crypto.PubkeyToAddress(k.PublicKey) {
		t.Fatal(err)
	}
	if got, _ := CommitmentSigner(root, 200_000, 4817293, sig); got != signer {
		t.Fatalf("recovered %s", got)
	}
	// Another size, root or chain recovers someone else.
	other := root
	other[0] ^= 1
	for _, c := range []struct {
		r  Hash
		sz int64
		id uint64
	}{{root, 200_001, 4817293}, {other, 200_000, 4817293}, {root, 200_000, 1}} {
		if got, _ := CommitmentSigner(c.r, c.sz, c.id, sig); got == signer {
			t.Fatalf("%+v verified", c)
		}
	}
}
