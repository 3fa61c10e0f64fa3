// Command sahara is the single binary of the project: the chain node, the
// platform services and every CLI.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"sahara/chain/app"
	chaincmd "sahara/chain/cmd"
	"sahara/platform/store"
	storecli "sahara/platform/store/cli"
	truthcli "sahara/platform/truth/cli"
)

func main() {
	pinSDKConfigScope()
	tuneGC()
	chaincmd.AddUpService(storeService)
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

	if err := svrcmd.Execute(root, "SAHARA", chaincmd.DefaultHome()); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

var storeChain = storecli.Chain{EVMChainID: app.EVMChainID, Bech32Prefix: app.Bech32Prefix, GRPC: "127.0.0.1:9090"}

// storeService runs the blob store's HTTP API with `sahara up`, its data
// under <home>/store and its license checks against the node's gRPC.
func storeService(f *pflag.FlagSet) func(chaincmd.UpEnv) error {
	addr := f.String("store-addr", "127.0.0.1:8090", `blob store HTTP API listen address ("" to not run it)`)
	return func(env chaincmd.UpEnv) error {
		if *addr == "" {
			return nil
		}
		dir := filepath.Join(env.Home, "store")
		s, err := store.Open(dir)
		if err != nil {
			return fmt.Errorf("blob store in %s: %w", dir, err)
		}
		chain := storeChain
		chain.GRPC = env.GRPC
		ready := make(chan error, 1)
		go func() {
			err := storecli.Serve(context.Background(), storecli.ServeConfig{Store: s, Dir: dir, Addr: *addr, GRPC: env.GRPC, MaxUpload: 64 << 30, Chain: chain},
				func(url string) { fmt.Fprintf(env.Out, "Blob store API:     %s\n", url); ready <- nil })
			ready <- err
		}()
		return <-ready
	}
}
