package network

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/viper"

	cmtcfg "github.com/cometbft/cometbft/config"

	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
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
