package app

import (
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cosmos/cosmos-sdk/baseapp"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// processProposal is how a validator judges another's block proposal: every transaction must
// decode, and the sum of their gas limits must fit the block's gas limit — the rule
// PrepareProposal packs by, so an honest proposer never trips it.
//
// Why our own: BaseApp builds its default handler in New, while the mempool is still the no-op
// one (the EVM mempool is set afterwards), and for a no-op mempool that default accepts every
// proposal. This check is the only bound on a block's gas: the app turns BaseApp's block gas
// meter off (SetDisableBlockGasMeter, see New), so FinalizeBlock would run every transaction of
// an over-full proposal. The SDK's full default would also re-run the ante handler on every
// transaction of every proposal; decoding is enough for this rule.
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
	var total uint64
	for i, bz := range txs {
		tx, err := app.TxDecode(bz)
		if err != nil {
			return fmt.Errorf("transaction %d does not decode: %w", i, err)
		}
		if maxGas == 0 {
			continue
		}
		g, ok := tx.(baseapp.GasTx)
		if !ok {
			continue
		}
		gas := g.GetGas()
		if gas > maxGas-total { // total <= maxGas here, so this cannot overflow
			return fmt.Errorf("transaction %d asks for %d gas on top of %d before it: over the block's limit of %d", i, gas, total, maxGas)
		}
		total += gas
	}
	return nil
}
