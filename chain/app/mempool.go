package app

import (
	"os"

	evmmempool "github.com/cosmos/evm/mempool"
	"github.com/cosmos/evm/mempool/txpool/legacypool"
	evmserver "github.com/cosmos/evm/server"
	evmtypes "github.com/cosmos/evm/x/vm/types"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// configureEVMMempool installs the app-side EVM mempool (nonce-ordered per
// sender, fee-priority across senders) and the proposal, check and insert
// handlers that go with it. Must run after setAnteHandler.
func (app *App) configureEVMMempool(appOpts servertypes.AppOptions, logger log.Logger) error {
	if evmtypes.GetChainConfig() == nil {
		// Before genesis (the throwaway app of the CLI) there is no chain config yet.
		return nil
	}
	mpConfig := evmserver.ResolveMempoolConfig(app.AnteHandler(), appOpts, logger)
	txEncoder := evmmempool.NewTxEncoder(app.txConfig)
	cosmosPoolMaxTx := evmserver.GetCosmosPoolMaxTx(appOpts, logger)
	if cosmosPoolMaxTx < 0 {
		return nil
	}
	if err := evmserver.ValidateReapBounds(appOpts, mpConfig.BlockGasLimit); err != nil {
		return err
	}
	var evmRechecker legacypool.Rechecker = newLightRechecker(mpConfig.AnteHandler, txEncoder, app.EVMKeeper, app.AccountKeeper, app.FeeMarketKeeper)
	if os.Getenv("SAHARA_RECHECK") == "full" {
		// The library's rechecker (the whole ante handler on every recheck), for side-by-side benchmarks.
		evmRechecker = evmmempool.NewTxRechecker(mpConfig.AnteHandler, txEncoder)
	}
	mempool := evmmempool.NewMempool(app.CreateQueryContext, logger, app.EVMKeeper, app.FeeMarketKeeper, app.txConfig,
		evmRechecker, evmmempool.NewTxRechecker(mpConfig.AnteHandler, txEncoder),
		mpConfig, cosmosPoolMaxTx)
	app.EVMMempool = mempool

	proposals := baseapp.NewDefaultProposalHandler(mempool, noCheckProposalTxVerifier{app.BaseApp})
	proposals.SetTxSelector(&gasUsedSelector{app: app}) // packs by gas used (blockgas.go)
	app.SetPrepareProposal(proposals.PrepareProposalHandler())
	app.SetInsertTxHandler(mempool.NewInsertTxHandler(app.TxDecode))
	app.SetReapTxsHandler(mempool.NewReapTxsHandler())
	app.SetCheckTxHandler(mempool.NewCheckTxHandler(app.TxDecode, evmserver.GetMempoolCheckTxTimeout(appOpts, logger)))
	app.SetMempool(mempool)
	app.SetPrepareCheckStater(func(_ sdk.Context) {
		if !mempool.HasEventBus() {
			mempool.NotifyNewBlock()
		}
	})
	return nil
}

// noCheckProposalTxVerifier skips re-running the ante handler on txs the
// mempool already checked when the proposer builds a block.
type noCheckProposalTxVerifier struct{ *baseapp.BaseApp }

func (v noCheckProposalTxVerifier) PrepareProposalVerifyTx(tx sdk.Tx) ([]byte, error) {
	return v.TxEncode(tx)
}
