package main

import (
	"fmt"
	"os"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// pinSDKConfigScope makes sdk.GetConfig cheap. Without COSMOS_SDK_CONFIG_SCOPE set, every call
// derives its registry key from os.Executable (a readlink of /proc/self/exe), os.Hostname and the
// pid — and every bech32 address parse calls it, twice. Under transfer load that was 4.4% of the
// node's CPU. Setting the variable to the very key the SDK derives keeps the config that package
// initialisation already registered; a value set by the user is left alone.
func pinSDKConfigScope() {
	if os.Getenv(sdk.EnvConfigScope) != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		exe = "unknown-exe"
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	_ = os.Setenv(sdk.EnvConfigScope, fmt.Sprintf("%s|%s|%d", host, exe, os.Getpid()))
}
