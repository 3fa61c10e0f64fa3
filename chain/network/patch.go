package network

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/viper"

	cmtcfg "github.com/cometbft/cometbft/config"

	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
)

// PatchCometConfig rewrites <home>/config/config.toml after fn changes it;
// settings fn leaves alone (hand edits included) are kept.
func PatchCometConfig(home string, fn func(*cmtcfg.Config)) error {
	path := filepath.Join(home, "config", "config.toml")
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return err
	}
	cfg := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(cfg); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	cfg.SetRoot(home)
	fn(cfg)
	cmtcfg.WriteConfigFile(path, cfg)
	return nil
}

// PatchAppConfig rewrites <home>/config/app.toml after fn changes it.
func PatchAppConfig(home string, fn func(*AppConfig)) error {
	path := filepath.Join(home, "config", "app.toml")
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return err
	}
	ac := DefaultAppConfig("127.0.0.1", DefaultPorts)
	if err := v.Unmarshal(ac); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	fn(ac)
	srvconfig.SetConfigTemplate(AppConfigTemplate)
	srvconfig.WriteConfigFile(path, ac)
	return nil
}

// PatchBlockMaxGas sets the block gas limit (consensus params) in <home>/config/genesis.json.
// Only before the chain's first start: afterwards the limit lives in state.
func PatchBlockMaxGas(home string, gas int64) error {
	path := filepath.Join(home, "config", "genesis.json")
	gen, err := genutiltypes.AppGenesisFromFile(path)
	if err != nil {
		return err
	}
	if gen.Consensus == nil || gen.Consensus.Params == nil {
		return fmt.Errorf("%s has no consensus params", path)
	}
	gen.Consensus.Params.Block.MaxGas = gas
	return gen.SaveAs(path)
}
