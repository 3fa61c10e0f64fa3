// Package module wires the registry keeper into the app: services, genesis, autocli.
package module

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/types/module"

	"sahara/chain/x/modkit"
	"sahara/chain/x/registry/keeper"
	"sahara/chain/x/registry/types"
)

// New returns the registry app module (`sahara query registry …`, `sahara tx registry …`).
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
					modkit.Positional("Asset", "asset [id]", "an asset with its shareholders", "id"),
					modkit.Positional("Lineage", "lineage [id]", "flattened ancestors with their revenue shares", "id"),
					modkit.Positional("Children", "children [id]", "direct children", "id"),
					modkit.Positional("Versions", "versions [id]", "content versions", "id"),
					modkit.Positional("AssetsByOwner", "by-owner [owner]", "assets of an owner", "owner"),
					modkit.Positional("AssetsByKind", "by-kind [kind]", "assets of a kind", "kind"),
					modkit.Positional("Params", "params", "registry parameters"),
				},
			},
			Tx: &autocliv1.ServiceCommandDescriptor{
				Service:           types.Msg_serviceDesc.ServiceName,
				RpcCommandOptions: []*autocliv1.RpcCommandOptions{{RpcMethod: "UpdateParams", Skip: true}},
			},
		},
	})
}
