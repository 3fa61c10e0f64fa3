// Package module wires the licensing keeper into the app: services, genesis, autocli.
package module

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/types/module"

	"sahara/chain/x/licensing/keeper"
	"sahara/chain/x/licensing/types"
	"sahara/chain/x/modkit"
)

// New returns the licensing app module (`sahara query licensing …`, `sahara tx licensing …`).
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
					modkit.Positional("Terms", "terms [id]", "license terms", "id"),
					modkit.Positional("AssetTerms", "asset-terms [asset-id]", "terms an asset offers", "asset_id"),
					modkit.Positional("License", "license [id]", "a license token", "id"),
					modkit.Positional("LicensesByHolder", "by-holder [holder]", "license tokens of a holder", "holder"),
					modkit.Positional("CheckUse", "check [address] [asset-id] [purpose]", "may address use asset for purpose now?", "address", "asset_id", "purpose"),
					modkit.Positional("Params", "params", "licensing parameters"),
				},
			},
			Tx: &autocliv1.ServiceCommandDescriptor{
				Service:           types.Msg_serviceDesc.ServiceName,
				RpcCommandOptions: []*autocliv1.RpcCommandOptions{{RpcMethod: "UpdateParams", Skip: true}},
			},
		},
	})
}
