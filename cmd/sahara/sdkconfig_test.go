package main

import (
	"os"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Pinning the scope must keep the config the process already has (same bech32 prefixes), not
// start a fresh default one.
func TestPinSDKConfigScopeKeepsTheConfig(t *testing.T) {
	t.Setenv(sdk.EnvConfigScope, "")
	if err := os.Unsetenv(sdk.EnvConfigScope); err != nil {
		t.Fatal(err)
	}
	before := sdk.GetConfig()
	pinSDKConfigScope()
	if os.Getenv(sdk.EnvConfigScope) == "" {
		t.Fatal("scope not pinned")
	}
	if after := sdk.GetConfig(); after != before {
		t.Fatal("pinning the scope switched to a different sdk.Config")
	}
	// A scope the user set wins.
	t.Setenv(sdk.EnvConfigScope, "mine")
	pinSDKConfigScope()
	if got := os.Getenv(sdk.EnvConfigScope); got != "mine" {
		t.Fatalf("scope overwritten: %q", got)
	}
}
