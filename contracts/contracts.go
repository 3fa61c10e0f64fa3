// Package contracts embeds the compiled Solidity artifacts of contracts/src
// (built by `make generate` with the pinned npm solc).
package contracts

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

//go:embed build/*.json
var artifacts embed.FS

// Artifact is one compiled contract.
type Artifact struct {
	Name     string
	ABI      abi.ABI
	Bytecode []byte // creation code, without constructor arguments
}

// Load returns the artifact of a contract by name (e.g. "SaharaToken").
func Load(name string) (*Artifact, error) {
	bz, err := artifacts.ReadFile("build/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no compiled contract %q (run make generate): %w", name, err)
	}
	var raw struct {
		ABI      json.RawMessage `json:"abi"`
		Bytecode string          `json:"bytecode"`
	}
	if err := json.Unmarshal(bz, &raw); err != nil {
		return nil, err
	}
	a, err := abi.JSON(strings.NewReader(string(raw.ABI)))
	if err != nil {
		return nil, err
	}
	code, err := hexutil.Decode(raw.Bytecode)
	if err != nil {
		return nil, err
	}
	return &Artifact{Name: name, ABI: a, Bytecode: code}, nil
}

// MustLoad is Load for artifacts that are known to be embedded.
func MustLoad(name string) *Artifact {
	a, err := Load(name)
	if err != nil {
		panic(err)
	}
	return a
}

// DeployData is the creation code followed by the ABI-encoded constructor arguments.
func (a *Artifact) DeployData(args ...any) ([]byte, error) {
	enc, err := a.ABI.Pack("", args...)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(nil), a.Bytecode...), enc...), nil
}

//go:embed addresses.json
var addressesJSON []byte

// PrecompileAddresses are the fixed addresses of the protocol precompiles (addresses.json).
type PrecompileAddresses struct {
	Registry  string `json:"registry"`
	Licensing string `json:"licensing"`
	Royalty   string `json:"royalty"`
	DataTask  string `json:"datatask"`
}

// Addresses reads addresses.json.
func Addresses() PrecompileAddresses {
	var a PrecompileAddresses
	if err := json.Unmarshal(addressesJSON, &a); err != nil {
		panic(err)
	}
	return a
}
