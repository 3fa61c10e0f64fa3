// Package protocol builds the EVM calls of the registry, licensing and royalty precompiles and
// reads their results from receipts. It holds no key: a call is {to, data} that a wallet, a
// browser (EIP-1193) or evmclient signs.
package protocol

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"sahara/contracts"
)

var (
	addrs = contracts.Addresses()
	// The precompiles' fixed addresses.
	RegistryAddress  = common.HexToAddress(addrs.Registry)
	LicensingAddress = common.HexToAddress(addrs.Licensing)
	RoyaltyAddress   = common.HexToAddress(addrs.Royalty)

	Registry  = contracts.MustLoad("IRegistry").ABI
	Licensing = contracts.MustLoad("ILicensing").ABI
	Royalty   = contracts.MustLoad("IRoyalty").ABI
)

// Call is one contract call to sign and send.
type Call struct {
	To   common.Address `json:"to"`
	Data []byte         `json:"data"`
	// Gas is a limit that covers the call (precompile gas grows with the graph; the sender may
	// estimate instead).
	Gas uint64 `json:"gas"`
}

// Asset kinds and edge types as the precompile numbers them (IRegistry.sol).
var (
	Kinds = map[string]uint8{"DATASET": 1, "MODEL": 2, "AGENT": 3, "KNOWLEDGE_BASE": 4}
	Edges = map[string]uint8{"TRAINED_ON": 1, "FINETUNED_FROM": 2, "DERIVED_FROM": 3, "USES": 4, "EMBEDS": 5, "AGGREGATES": 6}
)

// Parent is IRegistry.Parent.
type Parent struct {
	ParentId  uint64
	EdgeType  uint8
	LicenseId uint64
}

// Terms is ILicensing.Terms.
type Terms struct {
	CommercialUse         bool
	DerivativesAllowed    bool
	DerivativeRevShareBps uint32
	MintFeeDenom          string
	MintFee               *big.Int
	PerCallDenom          string
	PerCallPrice          *big.Int
	DurationSeconds       uint64
	Transferable          bool
	SupplyCap             uint64
	Revocable             bool
}

func pack(a abi.ABI, to common.Address, gas uint64, method string, args ...any) (Call, error) {
	data, err := a.Pack(method, args...)
	if err != nil {
		return Call{}, fmt.Errorf("%s: %w", method, err)
	}
	return Call{To: to, Data: data, Gas: gas}, nil
}

// RegisterAsset registers an asset owned by the sender.
func RegisterAsset(kind, name, uri string, root [32]byte, size uint64, parents []Parent) (Call, error) {
	k, ok := Kinds[kind]
	if !ok {
		return Call{}, fmt.Errorf("kind %q: use DATASET, MODEL, AGENT or KNOWLEDGE_BASE", kind)
	}
	if parents == nil {
		parents = []Parent{}
	}
	return pack(Registry, RegistryAddress, 1_500_000+uint64(len(parents))*500_000, "registerAsset", k, name, uri, root, size, parents)
}

// CreateTerms creates license terms (identical terms reuse one id).
func CreateTerms(t Terms) (Call, error) {
	if t.MintFee == nil {
		t.MintFee = new(big.Int)
	}
	if t.PerCallPrice == nil {
		t.PerCallPrice = new(big.Int)
	}
	return pack(Licensing, LicensingAddress, 500_000, "createTerms", t)
}

// AttachTerms offers licenses of the sender's asset under terms.
func AttachTerms(asset, terms uint64) (Call, error) {
	return pack(Licensing, LicensingAddress, 300_000, "attachTerms", asset, terms)
}

// MintLicense mints a license, paying at most maxFee of denom and accepting at most maxBps.
func MintLicense(asset, terms uint64, receiver common.Address, denom string, maxFee *big.Int, maxBps uint32) (Call, error) {
	if maxFee == nil {
		maxFee = new(big.Int)
	}
	return pack(Licensing, LicensingAddress, 1_000_000, "mintLicense", asset, terms, receiver, denom, maxFee, maxBps)
}

// Pay pays amount of denom into an asset.
func Pay(asset uint64, denom string, amount *big.Int) (Call, error) {
	return pack(Royalty, RoyaltyAddress, 3_000_000, "pay", asset, denom, amount)
}

// Claim claims what the sender is owed, from the assets after startAfter.
func Claim(startAfter uint64) (Call, error) {
	return pack(Royalty, RoyaltyAddress, 5_000_000, "claim", startAfter)
}

// logArg returns the first indexed uint64 topic of an event's log from addr.
func logArg(r *types.Receipt, addr common.Address, ev abi.Event) (uint64, bool) {
	for _, l := range r.Logs {
		if l.Address == addr && len(l.Topics) > 1 && l.Topics[0] == ev.ID {
			return new(big.Int).SetBytes(l.Topics[1].Bytes()).Uint64(), true
		}
	}
	return 0, false
}

// AssetID is the id an AssetRegistered log in r reports.
func AssetID(r *types.Receipt) (uint64, bool) {
	return logArg(r, RegistryAddress, Registry.Events["AssetRegistered"])
}

// LicenseID is the id a LicenseMinted log in r reports.
func LicenseID(r *types.Receipt) (uint64, bool) {
	return logArg(r, LicensingAddress, Licensing.Events["LicenseMinted"])
}

// Unpack decodes a call's return data (from eth_call) into its outputs.
func Unpack(c Call, out []byte) ([]any, error) {
	for _, a := range []abi.ABI{Registry, Licensing, Royalty} {
		if m, err := a.MethodById(c.Data); err == nil {
			return m.Outputs.Unpack(out)
		}
	}
	return nil, fmt.Errorf("unknown method")
}
