// Package module wires the datatask keeper into the app: services, genesis, autocli.
package module

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/types/module"

	"sahara/chain/x/datatask/keeper"
	"sahara/chain/x/datatask/types"
	"sahara/chain/x/modkit"
)

// New returns the datatask app module (`sahara query datatask …`, `sahara tx datatask …`).
func New(k *keeper.Keeper) modkit.AppModule[*types.GenesisState] {
	return modkit.New(modkit.Spec[*types.GenesisState]{
		Name:               types.ModuleName,
		RegisterInterfaces: types.RegisterInterfaces,
		RegisterAmino:      types.RegisterLegacyAminoCodec,
		RegisterServices: func(cfg module.Configurator) {
			types.RegisterMsgServer(cfg.MsgServer(), keeper.NewMsgServer(k))
			types.RegisterQueryServer(cfg.QueryServer(), keeper.NewQueryServer(k))
		},
		NewGenesis:     func() *types.GenesisState { return &types.GenesisState{} },
		DefaultGenesis: types.DefaultGenesis,
		InitGenesis:    k.InitGenesis,
		ExportGenesis:  k.ExportGenesis,
		AutoCLI: &autocliv1.ModuleOptions{
			Query: &autocliv1.ServiceCommandDescriptor{
				Service: types.Query_serviceDesc.ServiceName,
				RpcCommandOptions: []*autocliv1.RpcCommandOptions{
					modkit.Positional("Pool", "pool [id]", "a reward pool: escrow, paid, refunded, held, status", "id"),
					modkit.Positional("Pools", "pools", "every reward pool"),
					modkit.Positional("Contributions", "contributions [pool-id]", "what each contributor earned from a pool", "pool_id"),
					modkit.Positional("Contribution", "contribution [pool-id] [address]", "what one contributor earned from a pool", "pool_id", "address"),
					modkit.Positional("Batch", "batch [pool-id] [batch-id]", "an applied payout batch", "pool_id", "batch_id"),
					modkit.Positional("Params", "params", "datatask parameters"),
				},
			},
			Tx: &autocliv1.ServiceCommandDescriptor{
				Service: types.Msg_serviceDesc.ServiceName,
				RpcCommandOptions: []*autocliv1.RpcCommandOptions{
					{RpcMethod: "CreatePool", Use: "create-pool [name] [deposit] [rate] [deadline-unix] --authorities addr,…",
						Short: "escrow a deposit (coins, several denoms allowed) for a data project's payouts",
						PositionalArgs: []*autocliv1.PositionalArgDescriptor{
							{ProtoField: "name"}, {ProtoField: "deposit"}, {ProtoField: "rate"}, {ProtoField: "deadline"}}},
					{RpcMethod: "FundPool", Use: "fund-pool [pool-id] [amount]", Short: "add to an open pool's escrow",
						PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "pool_id"}, {ProtoField: "amount"}}},
					{RpcMethod: "PostPayouts", Use: "post-payouts [pool-id] [batch-id] --entries '<json>'",
						Short:          "pay a batch of contributors from the escrow (QA authority only; each batch id once)",
						PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "pool_id"}, {ProtoField: "batch_id"}}},
					{RpcMethod: "ClosePool", Use: "close-pool [pool-id]", Short: "close a pool and refund what it holds to the requester",
						PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "pool_id"}}},
					{RpcMethod: "MintDataset", Use: "mint-dataset [pool-id] [name] [uri]",
						Short:          "register the finished dataset, shared by its contributors by quality-weighted work",
						PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "pool_id"}, {ProtoField: "name"}, {ProtoField: "uri"}}},
					{RpcMethod: "UpdateParams", Skip: true},
				},
			},
		},
	})
}
