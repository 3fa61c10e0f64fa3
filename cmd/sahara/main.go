// Command sahara is the single binary of the project: the chain node, the
// platform services and every CLI.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"sahara/chain/app"
	chaincmd "sahara/chain/cmd"
	dspcli "sahara/platform/dsp/cli"
	storecli "sahara/platform/store/cli"
	truthcli "sahara/platform/truth/cli"
)

func main() {
	pinSDKConfigScope()
	tuneGC()
	chaincmd.AddUpService(platformService)
	root := &cobra.Command{
		Use:           "sahara",
		Short:         "Sahara: an AI-native layer-1 chain and the platform on it",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	chaincmd.AddChainCommands(root)

	// Library commands never touch a node home.
	truth := truthcli.Command()
	truth.PersistentPreRunE = func(*cobra.Command, []string) error { return nil }
	root.AddCommand(truth)
	st := storecli.Command(filepath.Join(chaincmd.DefaultHome(), "store"), storeChain)
	st.PersistentPreRunE = func(*cobra.Command, []string) error { return nil }
	root.AddCommand(st)
	task := dspcli.Command(chaincmd.DefaultHome())
	task.PersistentPreRunE = func(*cobra.Command, []string) error { return nil }
	root.AddCommand(task)

	if err := svrcmd.Execute(root, "SAHARA", chaincmd.DefaultHome()); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

var storeChain = storecli.Chain{EVMChainID: app.EVMChainID, Bech32Prefix: app.Bech32Prefix, GRPC: "127.0.0.1:9090"}
