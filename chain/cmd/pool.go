package cmd

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	sdk "github.com/cosmos/cosmos-sdk/types"

	dt "sahara/chain/x/datatask/types"
	rt "sahara/chain/x/registry/types"
)

// poolCmd is the task-shaped CLI over x/datatask: `sahara pool …`.
func poolCmd() *cobra.Command {
	c := &cobra.Command{Use: "pool", Short: "Reward pools for data work: escrow, batched payouts, refunds, the minted dataset"}
	var name, deposit, rate, deadline, share string
	var auths []string
	var bonus uint32
	create := txCommand(&cobra.Command{
		Use:   "create",
		Short: "Escrow a deposit (one or more denoms) for a data project",
		Example: "  sahara pool create --name spam-labels --deposit 100000000000000000000asah --rate 1000000000000000000asah \\\n" +
			"      --deadline 72h --authority 0x… --requester-share 20% --from dev0",
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			msg := &dt.MsgCreatePool{Requester: req, Name: name, MaxBonusBps: bonus}
			if msg.Deposit, err = parseCoins("--deposit", deposit); err != nil {
				return err
			}
			if msg.Rate, err = parseCoins("--rate", rate); err != nil {
				return err
			}
			if msg.Deadline, err = parseDeadline(deadline); err != nil {
				return err
			}
			if msg.RequesterShare, err = parseShare(share); err != nil {
				return err
			}
			if len(auths) == 0 {
				return errors.New("--authority is required: the address of the QA service that will post payouts (repeatable)")
			}
			for _, a := range auths {
				b, err := bech32Addr(a)
				if err != nil {
					return fmt.Errorf("--authority: %w", err)
				}
				msg.Authorities = append(msg.Authorities, b)
			}
			var resp dt.MsgCreatePoolResponse
			r, err := sendMsg(cmd, msg, &resp)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created pool %d holding %s, until %s, in block %d\n",
				resp.PoolId, msg.Deposit, time.Unix(msg.Deadline, 0).UTC().Format(time.RFC3339), r.Height)
			return nil
		},
	})
	create.Flags().StringVar(&name, "name", "", "project name")
	create.Flags().StringVar(&deposit, "deposit", "", "coins to escrow, e.g. 1000asah,500erc20:0x…")
	create.Flags().StringVar(&rate, "rate", "", "price of one accepted unit in each deposit denom")
	create.Flags().StringVar(&deadline, "deadline", "", "when the requester may take back the rest: a duration (72h), unix seconds or RFC 3339")
	create.Flags().StringArrayVar(&auths, "authority", nil, "QA authority address (repeatable)")
	create.Flags().StringVar(&share, "requester-share", "0%", "the requester's part of the minted dataset (percent, e.g. 20%)")
	create.Flags().Uint32Var(&bonus, "max-bonus-bps", 0, "quality bonus allowed above the rate, in basis points")

	fund := txCommand(&cobra.Command{
		Use: "fund POOL AMOUNT", Short: "Add to an open pool's escrow", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			id, err := parseID("pool", args[0])
			if err != nil {
				return err
			}
			amt, err := parseCoins("AMOUNT", args[1])
			if err != nil {
				return err
			}
			if _, err := sendMsg(cmd, &dt.MsgFundPool{Funder: from, PoolId: id, Amount: amt}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s to pool %d\n", amt, id)
			return nil
		},
	})

	var file string
	payout := txCommand(&cobra.Command{
		Use:   "payout POOL BATCH --file payouts.csv",
		Short: "Pay a batch of contributors (QA authority only; each batch id is applied once)",
		Long: "The file is CSV with a header: address,amount,units,weight — amount as coins (e.g. 30asah,15erc20:0x…),\n" +
			"units the accepted units paid for, weight the quality-weighted work that sets dataset shares.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			id, err := parseID("pool", args[0])
			if err != nil {
				return err
			}
			batch, err := parseID("batch", args[1])
			if err != nil {
				return err
			}
			if file == "" {
				return errors.New("--file is required: a CSV of address,amount,units,weight")
			}
			entries, err := readPayouts(file)
			if err != nil {
				return err
			}
			var resp dt.MsgPostPayoutsResponse
			if _, err := sendMsg(cmd, &dt.MsgPostPayouts{Authority: from, PoolId: id, BatchId: batch, Entries: entries}, &resp); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "batch %d of pool %d: paid %s to %d contributors\n", batch, id, sdk.Coins(resp.Paid), len(entries))
			return nil
		},
	})
	payout.Flags().StringVar(&file, "file", "", "CSV of address,amount,units,weight")

	closeCmd := txCommand(&cobra.Command{
		Use: "close POOL", Short: "Close a pool and refund what it holds to the requester", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			id, err := parseID("pool", args[0])
			if err != nil {
				return err
			}
			var resp dt.MsgClosePoolResponse
			if _, err := sendMsg(cmd, &dt.MsgClosePool{Sender: from, PoolId: id}, &resp); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "closed pool %d; refunded %s\n", id, coinsOrNothing(resp.Refunded))
			return nil
		},
	})

	var mintName, uri, root, mintFile string
	mint := txCommand(&cobra.Command{
		Use: "mint POOL", Short: "Register the finished dataset, shared by its contributors by quality-weighted work", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			id, err := parseID("pool", args[0])
			if err != nil {
				return err
			}
			msg := &dt.MsgMintDataset{Sender: from, PoolId: id, Name: mintName, Uri: uri}
			if msg.ContentRoot, msg.Size_, err = contentRoot(mintFile, root, 0); err != nil {
				return err
			}
			var resp dt.MsgMintDatasetResponse
			if _, err := sendMsg(cmd, msg, &resp); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "minted dataset asset %d from pool %d\n", resp.AssetId, id)
			return nil
		},
	})
	mint.Flags().StringVar(&mintName, "name", "", "dataset name")
	mint.Flags().StringVar(&uri, "uri", "", "metadata URI")
	mint.Flags().StringVar(&root, "root", "", "content root (64 hex)")
	mint.Flags().StringVar(&mintFile, "file", "", "compute the content root and size from this file")

	show := queryCommand(&cobra.Command{
		Use: "show POOL", Short: "A pool: escrow, paid, refunded, held, its contributors", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("pool", args[0])
			if err != nil {
				return err
			}
			qctx, err := queryContext(cmd)
			if err != nil {
				return err
			}
			q := dt.NewQueryClient(qctx)
			res, err := q.Pool(cmd.Context(), &dt.QueryPoolRequest{Id: id})
			if err != nil {
				return err
			}
			p := res.Pool
			w := cmd.OutOrStdout()
			status := "open"
			if p.Status == dt.POOL_STATUS_CLOSED {
				status = "closed"
			}
			fmt.Fprintf(w, "pool %d %q (%s) by %s\n", p.Id, p.Name, status, p.Requester)
			fmt.Fprintf(w, "  deposited %s\n  paid      %s\n  refunded  %s\n  held      %s\n",
				coinsOrNothing(p.Deposited), coinsOrNothing(p.Paid), coinsOrNothing(p.Refunded), coinsOrNothing(res.Held))
			fmt.Fprintf(w, "  rate %s per unit (+%d bps bonus), deadline %s, last batch %d, %d units\n",
				sdk.Coins(p.Rate), p.MaxBonusBps, time.Unix(p.Deadline, 0).UTC().Format(time.RFC3339), p.LastBatch, p.Units)
			if p.DatasetId != 0 {
				fmt.Fprintf(w, "  dataset asset %d\n", p.DatasetId)
			}
			cs, err := q.Contributions(cmd.Context(), &dt.QueryContributionsRequest{PoolId: id})
			if err != nil {
				return err
			}
			for _, c := range cs.Contributions {
				fmt.Fprintf(w, "  %s  %s  units %d  weight %d\n", c.Address, sdk.Coins(c.Paid), c.Units, c.Weight)
			}
			return nil
		},
	})
	c.AddCommand(create, fund, payout, closeCmd, mint, show)
	return c
}

func coinsOrNothing(c sdk.Coins) string {
	if c.IsZero() {
		return "nothing"
	}
	return c.String()
}

func parseCoins(field, s string) (sdk.Coins, error) {
	c, err := sdk.ParseCoinsNormalized(s)
	if err != nil || c.Empty() {
		return nil, fmt.Errorf("%s %q: want coins like 1000asah or 1000asah,500erc20:0x…", field, s)
	}
	return c, nil
}

// parseDeadline reads a duration from now, unix seconds or an RFC 3339 time.
func parseDeadline(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("--deadline is required: a duration from now (72h), unix seconds or an RFC 3339 time")
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d).Unix(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("--deadline %q: want a duration (72h), unix seconds or an RFC 3339 time", s)
}

// parseShare reads a percentage (20%, 12.5%) as a part of 1e8.
func parseShare(s string) (uint64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("--requester-share %q: want a percentage from 0%% to 100%%", s)
	}
	return uint64(v*float64(rt.TotalShares)/100 + 0.5), nil
}

// readPayouts reads a payout CSV, naming the line of any bad row.
func readPayouts(path string) ([]dt.PayoutEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 4
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if strings.Join(head, ",") != "address,amount,units,weight" {
		return nil, fmt.Errorf("%s line 1: the header must be address,amount,units,weight", path)
	}
	var out []dt.PayoutEntry
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		addr, err := bech32Addr(rec[0])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: address: %w", path, line, err)
		}
		amt, err := sdk.ParseCoinsNormalized(rec[1])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: amount %q: want coins like 30asah", path, line, rec[1])
		}
		units, err1 := strconv.ParseUint(rec[2], 10, 64)
		weight, err2 := strconv.ParseUint(rec[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s line %d: units and weight must be whole numbers", path, line)
		}
		out = append(out, dt.PayoutEntry{Address: addr, Amount: amt, Units: units, Weight: weight})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no payouts after the header", path)
	}
	return out, nil
}
