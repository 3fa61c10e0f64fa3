package cmd

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	lt "sahara/chain/x/licensing/types"
	rt "sahara/chain/x/registry/types"
	yt "sahara/chain/x/royalty/types"
	"sahara/platform/store"
)

// protocolCommands are the task-shaped CLIs over the three protocol modules:
// `sahara asset …`, `sahara license …`, `sahara royalty …`, `sahara pool …`.
func protocolCommands() []*cobra.Command {
	return []*cobra.Command{assetCmd(), licenseCmd(), royaltyCmd(), poolCmd()}
}

func txCommand(c *cobra.Command) *cobra.Command {
	flags.AddTxFlagsToCmd(c)
	return c
}

func queryCommand(c *cobra.Command) *cobra.Command {
	flags.AddQueryFlagsToCmd(c)
	return c
}

// contentRoot is the content commitment of an asset: hashed from --file (which gives the size
// too), or --root as given (with --size).
func contentRoot(file, root string, size uint64) ([]byte, uint64, error) {
	switch {
	case file != "" && root != "":
		return nil, 0, fmt.Errorf("give --file or --root, not both")
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		h, n, err := store.RootOf(f)
		if err != nil {
			return nil, 0, fmt.Errorf("hashing %s: %w", file, err)
		}
		return h[:], uint64(n), nil
	case root != "":
		h, err := store.ParseHash(root)
		if err != nil {
			return nil, 0, err
		}
		return h[:], size, nil
	}
	return nil, 0, fmt.Errorf("the content needs a root: --file PATH (hashed here) or --root HEX")
}

func parseID(what, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%s %q: want a positive integer id", what, s)
	}
	return id, nil
}

func assetCmd() *cobra.Command {
	c := &cobra.Command{Use: "asset", Short: "Register and inspect AI assets (datasets, models, agents, knowledge bases)"}
	var kind, name, uri, root, file string
	var size uint64
	var parents, holders []string
	reg := txCommand(&cobra.Command{
		Use:   "register",
		Short: "Register an asset; parents are ID:EDGE:LICENSE (e.g. 1:trained_on:3)",
		Example: "  sahara asset register --kind dataset --name faces --file faces.tar --from dev0\n" +
			"  sahara asset register --kind model --name vision --root 0x… --parent 1:trained_on:1 --from dev1",
		RunE: func(cmd *cobra.Command, _ []string) error {
			owner, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			k, err := rt.ParseKind(kind)
			if err != nil {
				return err
			}
			msg := &rt.MsgRegisterAsset{Owner: owner, Kind: k, Name: name, Uri: uri, Size_: size}
			if msg.ContentRoot, msg.Size_, err = contentRoot(file, root, size); err != nil {
				return err
			}
			for _, p := range parents {
				f := strings.Split(p, ":")
				if len(f) != 3 {
					return fmt.Errorf("--parent %q: want ID:EDGE:LICENSE, e.g. 1:trained_on:3", p)
				}
				pid, err := parseID("parent", f[0])
				if err != nil {
					return err
				}
				edge, err := rt.ParseEdge(f[1])
				if err != nil {
					return err
				}
				lid, err := parseID("license", f[2])
				if err != nil {
					return err
				}
				msg.Parents = append(msg.Parents, rt.ParentRef{ParentId: pid, EdgeType: edge, LicenseId: lid})
			}
			for _, h := range holders {
				addr, shares, ok := strings.Cut(h, ":")
				if !ok {
					return fmt.Errorf("--holder %q: want ADDRESS:SHARES (1e8 = 100%%)", h)
				}
				a, err := bech32Addr(addr)
				if err != nil {
					return err
				}
				n, err := strconv.ParseUint(shares, 10, 64)
				if err != nil {
					return fmt.Errorf("--holder %q: shares must be an integer", h)
				}
				msg.Shareholders = append(msg.Shareholders, rt.Shareholder{Address: a, Shares: n})
			}
			var resp rt.MsgRegisterAssetResponse
			r, err := sendMsg(cmd, msg, &resp)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered asset %d (root %s, %d bytes) in block %d, tx %s\n",
				resp.Id, hex.EncodeToString(msg.ContentRoot), msg.Size_, r.Height, r.TxHash)
			return nil
		},
	})
	reg.Flags().StringVar(&kind, "kind", "", "dataset, model, agent or knowledge_base")
	reg.Flags().StringVar(&name, "name", "", "asset name")
	reg.Flags().StringVar(&uri, "uri", "", "metadata URI")
	reg.Flags().StringVar(&root, "root", "", "content root (64 hex), as `sahara store put` prints it")
	reg.Flags().StringVar(&file, "file", "", "compute the content root and size from this file")
	reg.Flags().Uint64Var(&size, "size", 0, "size in bytes of the content (with --root)")
	reg.Flags().StringArrayVar(&parents, "parent", nil, "ID:EDGE:LICENSE, repeatable")
	reg.Flags().StringArrayVar(&holders, "holder", nil, "ADDRESS:SHARES, repeatable (default: the owner holds 100%)")

	show := queryCommand(&cobra.Command{
		Use: "show ID", Short: "Show an asset and its shareholders", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("asset", args[0])
			if err != nil {
				return err
			}
			qctx, err := queryContext(cmd)
			if err != nil {
				return err
			}
			res, err := rt.NewQueryClient(qctx).Asset(cmd.Context(), &rt.QueryAssetRequest{Id: id})
			if err != nil {
				return err
			}
			return printJSON(cmd, res)
		},
	})
	lineage := queryCommand(&cobra.Command{
		Use: "lineage ID", Short: "Flattened ancestors with their share of every payment", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("asset", args[0])
			if err != nil {
				return err
			}
			qctx, err := queryContext(cmd)
			if err != nil {
				return err
			}
			res, err := rt.NewQueryClient(qctx).Lineage(cmd.Context(), &rt.QueryLineageRequest{Id: id})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "asset %d: %d ancestors take %s of every payment\n", id, len(res.Ancestors), pct(res.RoyaltyStack))
			for _, a := range res.Ancestors {
				fmt.Fprintf(w, "  asset %-6d depth %-3d share %s\n", a.AssetId, a.Depth, pct(a.Share))
			}
			return nil
		},
	})
	c.AddCommand(reg, show, lineage)
	return c
}

func pct(v uint64) string {
	return strconv.FormatFloat(float64(v)*100/float64(rt.TotalShares), 'f', -1, 64) + "%"
}

func licenseCmd() *cobra.Command {
	c := &cobra.Command{Use: "license", Short: "License terms, license tokens and use checks"}
	terms := &cobra.Command{Use: "terms", Short: "Create and attach license terms"}
	var t lt.Terms
	var mintFee, perCall string
	var duration time.Duration
	create := txCommand(&cobra.Command{
		Use: "create", Short: "Create license terms (identical terms reuse one id)",
		Example: "  sahara license terms create --commercial --derivatives --rev-share-bps 1000 --mint-fee 1000asah --from dev0",
		RunE: func(cmd *cobra.Command, _ []string) error {
			creator, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			if mintFee != "" {
				if t.MintFee, err = sdk.ParseCoinNormalized(mintFee); err != nil {
					return fmt.Errorf("--mint-fee %q: %v (e.g. 1000asah)", mintFee, err)
				}
			}
			if perCall != "" {
				if t.PerCallPrice, err = sdk.ParseCoinNormalized(perCall); err != nil {
					return fmt.Errorf("--per-call %q: %v (e.g. 10asah)", perCall, err)
				}
			}
			t.DurationSeconds = uint64(duration / time.Second)
			var resp lt.MsgCreateTermsResponse
			if _, err := sendMsg(cmd, &lt.MsgCreateTerms{Creator: creator, Terms: t}, &resp); err != nil {
				return err
			}
			verb := "created"
			if !resp.Created {
				verb = "reused identical"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s terms %d\n", verb, resp.TermsId)
			return nil
		},
	})
	f := create.Flags()
	f.BoolVar(&t.CommercialUse, "commercial", false, "allow commercial use")
	f.BoolVar(&t.DerivativesAllowed, "derivatives", false, "allow derivatives (children in the registry)")
	f.Uint32Var(&t.DerivativeRevShareBps, "rev-share-bps", 0, "share of every payment into a derivative, in basis points")
	f.StringVar(&mintFee, "mint-fee", "", "fee to mint a license, e.g. 1000asah")
	f.StringVar(&perCall, "per-call", "", "price per metered call, e.g. 10asah")
	f.DurationVar(&duration, "duration", 0, "validity of a minted license (0 = perpetual), e.g. 720h")
	f.BoolVar(&t.Transferable, "transferable", false, "licenses may be transferred")
	f.Uint64Var(&t.SupplyCap, "supply-cap", 0, "licenses mintable per asset (0 = unlimited)")
	f.BoolVar(&t.Revocable, "revocable", false, "the asset owner may revoke licenses")

	attach := txCommand(&cobra.Command{
		Use: "attach ASSET TERMS", Short: "Offer licenses of your asset under terms", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			owner, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			asset, err := parseID("asset", args[0])
			if err != nil {
				return err
			}
			tid, err := parseID("terms", args[1])
			if err != nil {
				return err
			}
			if _, err := sendMsg(cmd, &lt.MsgAttachTerms{Owner: owner, AssetId: asset, TermsId: tid}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "asset %d offers terms %d\n", asset, tid)
			return nil
		},
	})
	terms.AddCommand(create, attach)

	var receiver, maxFee string
	var maxBps uint32
	mint := txCommand(&cobra.Command{
		Use: "mint ASSET TERMS", Short: "Mint a license token, paying at most --max-fee", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			minter, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			asset, err := parseID("asset", args[0])
			if err != nil {
				return err
			}
			tid, err := parseID("terms", args[1])
			if err != nil {
				return err
			}
			msg := &lt.MsgMintLicense{Minter: minter, AssetId: asset, TermsId: tid, MaxRevShareBps: maxBps}
			if maxFee != "" {
				if msg.MaxMintFee, err = sdk.ParseCoinNormalized(maxFee); err != nil {
					return fmt.Errorf("--max-fee %q: %v", maxFee, err)
				}
			}
			if receiver != "" {
				if msg.Receiver, err = bech32Addr(receiver); err != nil {
					return err
				}
			}
			var resp lt.MsgMintLicenseResponse
			if _, err := sendMsg(cmd, msg, &resp); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "minted license %d of asset %d\n", resp.LicenseId, asset)
			return nil
		},
	})
	mint.Flags().StringVar(&receiver, "receiver", "", "holder of the license (default: the signer)")
	mint.Flags().StringVar(&maxFee, "max-fee", "", "the most you agree to pay, e.g. 1000asah")
	mint.Flags().Uint32Var(&maxBps, "max-rev-share-bps", 0, "the highest derivative revenue share you accept")

	check := queryCommand(&cobra.Command{
		Use: "check ADDRESS ASSET PURPOSE", Short: "May ADDRESS use ASSET for PURPOSE (commercial, derivative, api-call, access) now?", Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := bech32Addr(args[0])
			if err != nil {
				return err
			}
			asset, err := parseID("asset", args[1])
			if err != nil {
				return err
			}
			p, err := lt.ParsePurpose(args[2])
			if err != nil {
				return err
			}
			qctx, err := queryContext(cmd)
			if err != nil {
				return err
			}
			res, err := lt.NewQueryClient(qctx).CheckUse(cmd.Context(), &lt.QueryCheckUseRequest{Address: addr, AssetId: asset, Purpose: p})
			if err != nil {
				return err
			}
			verdict := "no"
			if res.Allowed {
				verdict = "yes"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", verdict, res.Reason)
			return nil
		},
	})
	revoke := txCommand(&cobra.Command{
		Use: "revoke LICENSE", Short: "Revoke a license of your asset (the terms must say revocable)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sender, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			id, err := parseID("license", args[0])
			if err != nil {
				return err
			}
			if _, err := sendMsg(cmd, &lt.MsgRevokeLicense{Sender: sender, LicenseId: id}, &lt.MsgRevokeLicenseResponse{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked license %d\n", id)
			return nil
		},
	})
	c.AddCommand(terms, mint, revoke, check)
	return c
}

func royaltyCmd() *cobra.Command {
	c := &cobra.Command{Use: "royalty", Short: "Pay assets and claim royalties"}
	pay := txCommand(&cobra.Command{
		Use: "pay ASSET AMOUNT", Short: "Pay into an asset; its ancestors take their shares", Args: cobra.ExactArgs(2),
		Example: "  sahara royalty pay 2 1000000asah --from dev3",
		RunE: func(cmd *cobra.Command, args []string) error {
			payer, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			asset, err := parseID("asset", args[0])
			if err != nil {
				return err
			}
			amt, err := sdk.ParseCoinsNormalized(args[1])
			if err != nil || amt.Empty() {
				return fmt.Errorf("amount %q: want coins like 1000asah", args[1])
			}
			if _, err := sendMsg(cmd, &yt.MsgPay{Payer: payer, AssetId: asset, Amount: amt}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "paid %s into asset %d\n", amt, asset)
			return nil
		},
	})
	claim := txCommand(&cobra.Command{
		Use: "claim", Short: "Claim everything you are owed, across assets and denoms (several transactions if needed)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			who, err := fromAddress(cmd)
			if err != nil {
				return err
			}
			total := sdk.NewCoins()
			var after uint64
			for {
				var resp yt.MsgClaimResponse
				if _, err := sendMsg(cmd, &yt.MsgClaim{Claimant: who, StartAfter: after}, &resp); err != nil {
					return err
				}
				total = total.Add(resp.Claimed...)
				if resp.Next == 0 {
					break
				}
				after = resp.Next
			}
			if total.IsZero() {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to claim")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "claimed %s\n", total)
			return nil
		},
	})
	claimable := queryCommand(&cobra.Command{
		Use: "claimable ADDRESS", Short: "What ADDRESS may claim, per asset and denom", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := bech32Addr(args[0])
			if err != nil {
				return err
			}
			qctx, err := queryContext(cmd)
			if err != nil {
				return err
			}
			res, err := yt.NewQueryClient(qctx).Claimable(cmd.Context(), &yt.QueryClaimableRequest{Address: addr})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, e := range res.Entries {
				fmt.Fprintf(w, "  asset %-6d %s\n", e.AssetId, e.Amount)
			}
			fmt.Fprintf(w, "total: %s\n", nonEmpty(res.Total.String()))
			return nil
		},
	})
	c.AddCommand(pay, claim, claimable)
	return c
}

func nonEmpty(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}
