// Package cli is `sahara task`: the data platform's operator commands, which work on the platform
// database and the chain directly (payouts from cron or after a crash, status).
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"sahara/platform/db"
	"sahara/platform/dsp"
)

// Command returns `sahara task`; home is the default node home (its platform.db and
// dsp-authority.key are the defaults).
func Command(home string) *cobra.Command {
	c := &cobra.Command{
		Use:   "task",
		Short: "Data platform: pay out accepted answers, settle pending batches, project status",
		Long: "Operator commands of the data platform (the labelling itself happens in the web app, /tasks).\n" +
			"They open the platform database directly, so they work beside a running `sahara up` or after it stopped.",
	}
	var dsn, key, evmRPC, grpcAddr string
	var batch int
	flags := func(cmd *cobra.Command, chain bool) {
		cmd.Flags().StringVar(&dsn, "db", filepath.Join(home, "platform.db"), "platform database: a SQLite file or a postgres:// URL")
		if chain {
			cmd.Flags().StringVar(&key, "key", filepath.Join(home, "dsp-authority.key"), "the QA authority's key file (posts the payout batches)")
			cmd.Flags().StringVar(&evmRPC, "evm-rpc", "http://127.0.0.1:8545", "the node's Ethereum JSON-RPC")
			cmd.Flags().StringVar(&grpcAddr, "grpc", "127.0.0.1:9090", "the node's gRPC")
			cmd.Flags().IntVar(&batch, "batch-size", 1000, "contributors per payout transaction")
		}
	}
	open := func(ctx context.Context, cmd *cobra.Command, chain bool) (*dsp.Service, func(), error) {
		if h := cmd.Flag("home"); h != nil && h.Changed { // --home moves the defaults with it
			if !cmd.Flags().Changed("db") {
				dsn = filepath.Join(h.Value.String(), "platform.db")
			}
			if chain && !cmd.Flags().Changed("key") {
				key = filepath.Join(h.Value.String(), "dsp-authority.key")
			}
		}
		if !db.IsPostgres(dsn) {
			if _, err := os.Stat(dsn); err != nil {
				return nil, nil, fmt.Errorf("no platform database at %s: start `sahara up` once, or pass --db", dsn)
			}
		}
		if chain {
			if _, err := os.Stat(key); err != nil {
				return nil, nil, fmt.Errorf("no QA authority key at %s: `sahara up` creates it, or pass --key", key)
			}
		}
		d, err := db.Open(dsn)
		if err != nil {
			return nil, nil, err
		}
		cfg := dsp.Config{DB: d, MaxBatchEntries: batch}
		closeAll := func() { d.Close() }
		if chain {
			w, err := dsp.LoadOrCreateAuthority(key)
			if err != nil {
				d.Close()
				return nil, nil, fmt.Errorf("authority key %s: %w", key, err)
			}
			ch, err := dsp.DialChain(evmRPC, grpcAddr, w)
			if err != nil {
				d.Close()
				return nil, nil, err
			}
			cfg.Chain = ch
			out := cmd.OutOrStdout()
			cfg.OnSettled = func(b dsp.Batch, hash string) {
				fmt.Fprintf(out, "batch %d of pool %d settled: %d contributors, %d answers (%s)\n", b.BatchID, b.PoolID, len(b.Entries), b.Labels, hash)
			}
			closeAll = func() { ch.Close(); d.Close() }
		}
		s, err := dsp.New(ctx, cfg)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		return s, closeAll, nil
	}
	project := func(args []string) (int64, error) {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return 0, fmt.Errorf("project %q: want a positive project id (see /tasks)", args[0])
		}
		return id, nil
	}

	payout := &cobra.Command{
		Use:   "payout PROJECT",
		Short: "Decide pending answers, record payout batches for the accepted ones and settle them on chain",
		Long: "Each accepted answer goes into exactly one batch, recorded in the database before anything is sent;\n" +
			"each batch is applied on chain at most once. Killed in the middle, run it again: it settles what is left.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := project(args)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Hour)
			defer cancel()
			s, done, err := open(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer done()
			if n, err := s.Settle(ctx, id); err != nil { // batches a crash left behind go first
				return fmt.Errorf("settling the batches left pending: %w", err)
			} else if n > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "settled %d batches left pending by an earlier run\n", n)
			}
			res, err := s.CloseEpoch(ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "epoch: %d answers accepted, %d rejected; %d batches for %d contributors\n", res.Accepted, res.Rejected, len(res.Batches), res.Paid)
			n, err := s.Settle(ctx, id)
			if err != nil {
				return fmt.Errorf("after %d batches: %w (run `sahara task payout %d` again to settle the rest)", n, err, id)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "done: %d batches settled\n", n)
			return nil
		},
	}
	flags(payout, true)

	status := &cobra.Command{
		Use: "status PROJECT", Short: "A project's items, answers, contributors and payout batches", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := project(args)
			if err != nil {
				return err
			}
			s, done, err := open(cmd.Context(), cmd, false)
			if err != nil {
				return err
			}
			defer done()
			p, err := s.Project(cmd.Context(), id)
			if errors.Is(err, dsp.ErrNotFound) {
				return fmt.Errorf("no project %d in %s", id, dsn)
			}
			if err != nil {
				return err
			}
			pr, err := s.Progress(cmd.Context(), id)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "project %d %q (%s, %s), pool %d\n", p.ID, p.Name, p.TaskType, p.Status, p.PoolID)
			fmt.Fprintf(w, "  items    %d done, %d in review, %d open of %d (+%d control)\n", pr.Done, pr.Review, pr.Open, pr.Items, pr.Controls)
			fmt.Fprintf(w, "  answers  %d: %d accepted, %d rejected, %d pending\n", pr.Answers, pr.Accepted, pr.Rejected, pr.Pending)
			banned := 0
			for _, wk := range pr.Workers {
				if wk.Banned != "" {
					banned++
				}
			}
			fmt.Fprintf(w, "  people   %d contributors, %d banned\n", len(pr.Workers), banned)
			pending := 0
			for _, b := range pr.Batches {
				if b.Status != "settled" {
					pending++
				}
			}
			fmt.Fprintf(w, "  payouts  %d batches, %d not yet on chain\n", len(pr.Batches), pending)
			for _, d := range pr.Denoms {
				fmt.Fprintf(w, "           %s %s paid of %s recorded\n", pr.Paid[d], d, pr.Recorded[d])
			}
			return nil
		},
	}
	flags(status, false)
	c.AddCommand(payout, status)
	return c
}
