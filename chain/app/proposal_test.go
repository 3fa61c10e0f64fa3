package app

import (
	"math/big"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	ethtypes "github.com/ethereum/go-ethereum/core/types"

	evmmempool "github.com/cosmos/evm/mempool"
)

// A validator accepts a proposal whose transactions decode and each fit the block's gas (their sum
// may not: FinalizeBlock bounds the gas they use, TestBlockGasIsBoundedByGasUsed), and rejects one
// that does not decode or holds a transaction asking for more gas than the whole block.
func TestProcessProposalChecksDecodingAndBlockGas(t *testing.T) {
	c := testChain(t)
	txWithGas := func(sender int, gas uint64) []byte { return c.blockTx(t, c.keys[sender], 0, gas, nil) }
	half := uint64(recheckBlockGas / 2)
	for _, tc := range []struct {
		name string
		txs  [][]byte
		want abci.ResponseProcessProposal_ProposalStatus
	}{
		{"empty", nil, abci.ResponseProcessProposal_ACCEPT},
		{"two transfers", [][]byte{txWithGas(0, 21_000), txWithGas(1, 21_000)}, abci.ResponseProcessProposal_ACCEPT},
		{"exactly the block's gas", [][]byte{txWithGas(0, half), txWithGas(1, half)}, abci.ResponseProcessProposal_ACCEPT},
		{"limits one gas over the block", [][]byte{txWithGas(0, half), txWithGas(1, half+1)}, abci.ResponseProcessProposal_ACCEPT},
		{"limits three times the block", [][]byte{txWithGas(0, 2*half), txWithGas(1, 2*half), txWithGas(2, 2*half)}, abci.ResponseProcessProposal_ACCEPT},
		{"one transaction over the block", [][]byte{txWithGas(0, 21_000), txWithGas(1, 2*half+1)}, abci.ResponseProcessProposal_REJECT},
		{"a huge limit", [][]byte{txWithGas(0, half), txWithGas(1, ^uint64(0))}, abci.ResponseProcessProposal_REJECT},
		{"bytes that are no transaction", [][]byte{txWithGas(0, 21_000), []byte("not a transaction")}, abci.ResponseProcessProposal_REJECT},
	} {
		h := c.app.LastBlockHeight() + 1
		res, err := c.app.ProcessProposal(&abci.RequestProcessProposal{Height: h, Time: time.Unix(1_800_000_000+h, 0), Txs: tc.txs})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Status != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, res.Status, tc.want)
		}
	}
}

// go test ./chain/app -run X -bench CheckProposal: what judging a proposal of 4,000 transfers costs
// (a native-transfer block under load holds about that many).
func BenchmarkCheckProposal(b *testing.B) {
	c := testChain(&testing.T{})
	enc := evmmempool.NewTxEncoder(c.app.txConfig)
	to := common.BigToAddress(big.NewInt(0x1000))
	txs := make([][]byte, 4000)
	for i := range txs {
		tx, _ := ethtypes.SignNewTx(c.keys[0], ethtypes.LatestSignerForChainID(c.chainID), &ethtypes.DynamicFeeTx{
			ChainID: c.chainID, Nonce: uint64(i), Gas: 21_000, GasFeeCap: big.NewInt(1e12), GasTipCap: big.NewInt(1), To: &to, Value: big.NewInt(1),
		})
		txs[i], _ = enc.EVMTx(tx)
	}
	ctx := c.base()
	b.ResetTimer()
	for range b.N {
		if err := c.app.checkProposal(ctx, txs); err != nil {
			b.Fatal(err)
		}
	}
}
