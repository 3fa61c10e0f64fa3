package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client/flags"

	"sahara/chain/network"
)

// NodeHome is the home of validator i of a localnet under dir.
func NodeHome(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("node%d", i)) }

// LocalnetPorts spaces the nodes' ports 100 apart: node i listens on
// 26656+100i (p2p), 26657+100i (CometBFT RPC), 8545+100i (JSON-RPC), ...
func LocalnetPorts(base network.Ports) func(int) network.Ports {
	return func(i int) network.Ports { return base.Offset(100 * i) }
}

func localnetCmd() *cobra.Command {
	var validators, accounts int
	var blockTime time.Duration
	var basePort int
	c := &cobra.Command{
		Use:   "localnet --validators N --home DIR",
		Short: "Create (first run) and run a network of N validators on loopback, each its own process",
		Long: `Create and run a local network of validators on 127.0.0.1, each validator its own
process with its own home DIR/node<i>, ports spaced 100 apart (node i: JSON-RPC 8545+100i,
CometBFT RPC 26657+100i, p2p 26656+100i). Each node logs to DIR/node<i>/node.log and its pid is
in DIR/node<i>/node.pid. Ctrl-C stops them all. A later run with the same DIR resumes the network.`,
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _ := cmd.Flags().GetString(flags.FlagHome)
			if !cmd.Flags().Changed(flags.FlagHome) {
				return fmt.Errorf("--home DIR is required: the folder that holds the validators' homes")
			}
			dir, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			if validators < 1 {
				return fmt.Errorf("--validators must be at least 1")
			}
			base := network.DefaultPorts.Offset(basePort - network.DefaultPorts.JSONRPC)
			out := cmd.OutOrStdout()
			if _, err := os.Stat(filepath.Join(NodeHome(dir, 0), "config", "genesis.json")); os.IsNotExist(err) {
				res, err := network.Init(network.Spec{Validators: validators, DevAccounts: accounts, BlockTime: blockTime,
					Ports: LocalnetPorts(base), NodeHome: func(i int) string { return NodeHome(dir, i) }})
				if err != nil {
					return err
				}
				if err := writeJSON(filepath.Join(dir, DevAccountsFile), res.Accounts); err != nil {
					return err
				}
				fmt.Fprintf(out, "Created %d validators in %s\n", validators, dir)
				printAccounts(out, res.Accounts)
			} else {
				n := 0
				for ; ; n++ {
					if _, err := os.Stat(NodeHome(dir, n)); err != nil {
						break
					}
				}
				validators = n
				fmt.Fprintf(out, "Resuming %d validators in %s\n", validators, dir)
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			procs := make([]*exec.Cmd, validators)
			exited := make([]chan struct{}, validators)
			var printMu sync.Mutex
			for i := 0; i < validators; i++ {
				home := NodeHome(dir, i)
				logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					return err
				}
				p := exec.Command(exe, "node", "start", "--home", home, "--log_level", "info")
				p.Stdout, p.Stderr = logf, logf
				if err := p.Start(); err != nil {
					return err
				}
				procs[i] = p
				_ = os.WriteFile(filepath.Join(home, "node.pid"), []byte(strconv.Itoa(p.Process.Pid)), 0o600)
				ports := LocalnetPorts(base)(i)
				fmt.Fprintf(out, "node%d: pid %d, JSON-RPC http://127.0.0.1:%d, CometBFT RPC http://127.0.0.1:%d\n", i, p.Process.Pid, ports.JSONRPC, ports.RPC)
				// A validator that stops (a port in use, a crash, a kill) is reported at once
				// with where its log is; the others keep running, as a real network would.
				exited[i] = make(chan struct{})
				go func(i int, p *exec.Cmd, logPath string) {
					defer close(exited[i])
					err := p.Wait()
					printMu.Lock()
					defer printMu.Unlock()
					fmt.Fprintf(out, "node%d exited (%v); its log: %s\n", i, exitStatus(err), logPath)
				}(i, p, logf.Name())
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			<-sig
			printMu.Lock()
			fmt.Fprintln(out, "stopping the validators")
			printMu.Unlock()
			for i, p := range procs {
				select {
				case <-exited[i]:
				default:
					_ = p.Process.Signal(syscall.SIGTERM)
				}
			}
			for i := range procs {
				<-exited[i]
			}
			return nil
		},
	}
	c.Flags().IntVar(&validators, "validators", 4, "number of validators")
	c.Flags().IntVar(&accounts, "accounts", 10, "dev accounts to fund")
	c.Flags().DurationVar(&blockTime, "block-time", time.Second, "target time between blocks")
	c.Flags().IntVar(&basePort, "base-port", 8545, "JSON-RPC port of node0; every other port moves with it")
	return c
}

// exitStatus says how a validator process ended.
func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

func writeJSON(path string, v any) error {
	bz, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, bz, 0o600)
}
