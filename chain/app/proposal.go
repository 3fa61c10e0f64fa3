package app

import (
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// processProposal is how a validator judges another's block proposal: every transaction must
// decode, and none may ask for more gas than the whole block holds (it could never run).
//
// The sum of the limits is not checked: blocks are bounded by the gas their transactions use
// (blockgas.go), and FinalizeBlock enforces that bound itself, transaction by transaction, so an
// over-full proposal runs no more than a block's gas. (The app turns BaseApp's block gas meter
// off, SetDisableBlockGasMeter in New, as cosmos/evm expects; gasUsedRunner is the bound.)
//
// Why our own: BaseApp builds its default handler in New, while the mempool is still the no-op
// one (the EVM mempool is set afterwards), and for a no-op mempool that default accepts every
// proposal. The SDK's full default would also re-run the ante handler on every transaction of
// every proposal; decoding is enough for these rules.
func (app *App) processProposal(ctx sdk.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	if err := app.checkProposal(ctx, req.Txs); err != nil {
		ctx.Logger().Error("rejecting block proposal", "height", req.Height, "proposer", fmt.Sprintf("%X", req.ProposerAddress), "reason", err)
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

func (app *App) checkProposal(ctx sdk.Context, txs [][]byte) error {
	var maxGas uint64
	if b := ctx.ConsensusParams().Block; b != nil && b.MaxGas > 0 {
		maxGas = uint64(b.MaxGas)
	}
	for i, bz := range txs {
		tx, err := app.TxDecode(bz)
		if err != nil {
			return fmt.Errorf("transaction %d does not decode: %w", i, err)
		}
		if gas := gasLimit(tx); maxGas > 0 && gas > maxGas {
			return fmt.Errorf("transaction %d asks for %d gas, more than the block's limit of %d", i, gas, maxGas)
		}
	}
	return nil
}
