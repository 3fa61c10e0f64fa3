package store

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Ownership proofs: the owner signs the content commitment as EIP-712
// typed data, so any wallet shows what is signed:
//
//	domain  EIP712Domain(string name,string version,uint256 chainId) = ("Sahara Store", "1", chain id)
//	message ContentCommitment(bytes32 root,uint64 size)
var (
	domainType     = crypto.Keccak256([]byte("EIP712Domain(string name,string version,uint256 chainId)"))
	commitmentType = crypto.Keccak256([]byte("ContentCommitment(bytes32 root,uint64 size)"))
)

// CommitmentDigest is the EIP-712 digest an owner signs for (root, size).
func CommitmentDigest(root Hash, size int64, chainID uint64) []byte {
	word := func(v *big.Int) []byte { return common.LeftPadBytes(v.Bytes(), 32) }
	domain := crypto.Keccak256(domainType, crypto.Keccak256([]byte("Sahara Store")), crypto.Keccak256([]byte("1")),
		word(new(big.Int).SetUint64(chainID)))
	var sz [32]byte
	binary.BigEndian.PutUint64(sz[24:], uint64(size))
	msg := crypto.Keccak256(commitmentType, root[:], sz[:])
	return crypto.Keccak256([]byte{0x19, 0x01}, domain, msg)
}

// SignCommitment signs (root, size) with a secp256k1 key; v is 27 or 28
// as wallets return it.
func SignCommitment(root Hash, size int64, chainID uint64, key []byte) ([]byte, common.Address, error) {
	k, err := crypto.ToECDSA(key)
	if err != nil {
		return nil, common.Address{}, fmt.Errorf("private key: %w", err)
	}
	sig, err := crypto.Sign(CommitmentDigest(root, size, chainID), k)
	if err != nil {
		return nil, common.Address{}, err
	}
	sig[64] += 27
	return sig, crypto.PubkeyToAddress(k.PublicKey), nil
}

// CommitmentSigner recovers who signed (root, size).
func CommitmentSigner(root Hash, size int64, chainID uint64, sig []byte) (common.Address, error) {
	if len(sig) != 65 {
		return common.Address{}, fmt.Errorf("signature has %d bytes, want 65", len(sig))
	}
	s := append([]byte(nil), sig...)
	if s[64] >= 27 {
		s[64] -= 27
	}
	pub, err := crypto.SigToPub(CommitmentDigest(root, size, chainID), s)
	if err != nil {
		return common.Address{}, fmt.Errorf("signature does not recover: %w", err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}
