// Command sahara is the single binary of the project: the chain node, the
// platform services and every CLI.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	chaincmd "sahara/chain/cmd"
	truthcli "sahara/platform/truth/cli"
)

func main() {
	tuneGC()
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

	if err := svrcmd.Execute(root, "SAHARA", chaincmd.DefaultHome()); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
