// Package module wires the royalty keeper into the app: services, genesis, autocli.
package module

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/types/module"

	"sahara/chain/x/modkit"
	"sahara/chain/x/royalty/keeper"
	"sahara/chain/x/royalty/types"
)

// New returns the royalty app module (`sahara query royalty …`, `sahara tx royalty …`).
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
		EndBlock:       k.Flush, // this block's vault deltas into the vaults
		AutoCLI: &autocliv1.ModuleOptions{
			Query: &autocliv1.ServiceCommandDescriptor{
				Service: types.Query_serviceDesc.ServiceName,
				RpcCommandOptions: []*autocliv1.RpcCommandOptions{
					modkit.Positional("Claimable", "claimable [address]", "what an address may claim, per asset and denom", "address"),
					modkit.Positional("Vault", "vault [asset-id]", "an asset's vault per denom, with claimable and dust", "asset_id"),
					modkit.Positional("Params", "params", "royalty parameters"),
				},
			},
			Tx: &autocliv1.ServiceCommandDescriptor{
				Service:           types.Msg_serviceDesc.ServiceName,
				RpcCommandOptions: []*autocliv1.RpcCommandOptions{{RpcMethod: "UpdateParams", Skip: true}},
			},
		},
	})
}
