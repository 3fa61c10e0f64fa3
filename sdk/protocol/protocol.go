// Package protocol builds the EVM calls of the registry, licensing, royalty and datatask precompiles and
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
	DataTaskAddress  = common.HexToAddress(addrs.DataTask)

	Registry  = contracts.MustLoad("IRegistry").ABI
	Licensing = contracts.MustLoad("ILicensing").ABI
	Royalty   = contracts.MustLoad("IRoyalty").ABI
	DataTask  = contracts.MustLoad("IDataTask").ABI
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

// Pool is a new data-task reward pool: Deposits[i] and Rates[i] are in Denoms[i].
type Pool struct {
	Name           string
	Authorities    []common.Address
	Denoms         []string
	Deposits       []*big.Int
	Rates          []*big.Int
	MaxBonusBps    uint32
	Deadline       int64 // unix seconds
	RequesterShare uint64
}

// CreatePool escrows a pool's deposits from the sender.
func CreatePool(p Pool) (Call, error) {
	return pack(DataTask, DataTaskAddress, 1_000_000, "createPool", p.Name, p.Authorities, p.Denoms, p.Deposits, p.Rates,
		p.MaxBonusBps, p.Deadline, p.RequesterShare)
}

// Payout is one contributor's line in a payout batch: Amounts[j] is in the batch's Denoms[j].
type Payout struct {
	To      common.Address
	Amounts []*big.Int
	Units   uint64
	Weight  uint64
}

// PayoutGas is the gas limit given to a payout batch of n entries.
func PayoutGas(n int) uint64 { return 500_000 + uint64(n)*60_000 }

// PostPayouts pays a batch of a pool (the sender must be a QA authority of it).
func PostPayouts(pool, batch uint64, denoms []string, entries []Payout) (Call, error) {
	to := make([]common.Address, len(entries))
	amounts := make([][]*big.Int, len(entries))
	units := make([]uint64, len(entries))
	weights := make([]uint64, len(entries))
	for i, e := range entries {
		to[i], amounts[i], units[i], weights[i] = e.To, e.Amounts, e.Units, e.Weight
	}
	return pack(DataTask, DataTaskAddress, PayoutGas(len(entries)), "postPayouts", pool, batch, denoms, to, amounts, units, weights)
}

// FundPool adds amount of denom to a pool.
func FundPool(pool uint64, denom string, amount *big.Int) (Call, error) {
	return pack(DataTask, DataTaskAddress, 500_000, "fundPool", pool, denom, amount)
}

// ClosePool refunds what a pool holds to its requester.
func ClosePool(pool uint64) (Call, error) {
	return pack(DataTask, DataTaskAddress, 500_000, "closePool", pool)
}

// MintDataset registers a pool's finished dataset, shared by its contributors.
func MintDataset(pool uint64, name, uri string, root [32]byte, size uint64) (Call, error) {
	return pack(DataTask, DataTaskAddress, 3_000_000, "mintDataset", pool, name, uri, root, size)
}

// PoolID is the id a PoolCreated log in r reports.
func PoolID(r *types.Receipt) (uint64, bool) {
	return logArg(r, DataTaskAddress, DataTask.Events["PoolCreated"])
}

// DatasetID is the asset id a DatasetMinted log in r reports.
func DatasetID(r *types.Receipt) (uint64, bool) {
	for _, l := range r.Logs {
		if l.Address == DataTaskAddress && len(l.Topics) > 2 && l.Topics[0] == DataTask.Events["DatasetMinted"].ID {
			return new(big.Int).SetBytes(l.Topics[2].Bytes()).Uint64(), true
		}
	}
	return 0, false
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
	for _, a := range []abi.ABI{Registry, Licensing, Royalty, DataTask} {
		if m, err := a.MethodById(c.Data); err == nil {
			return m.Outputs.Unpack(out)
		}
	}
	return nil, fmt.Errorf("unknown method")
}
