package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/spf13/pflag"

	"sahara/chain/app"
	chaincmd "sahara/chain/cmd"
	"sahara/platform/db"
	"sahara/platform/dsp"
	"sahara/platform/dsp/dspweb"
	"sahara/platform/indexer"
	"sahara/platform/store"
	storecli "sahara/platform/store/cli"
	"sahara/platform/web"
	"sahara/sdk/evmclient"
)

// platformService runs the platform beside the chain under `sahara up`: the blob store's HTTP API
// (data in <home>/store), the indexer that follows the chain into the platform database
// (<home>/platform.db, or --db postgres://…) and the web app on :8080. The store is opened once
// and shared by its API and the web app's uploads.
func platformService(f *pflag.FlagSet) func(chaincmd.UpEnv) error {
	storeAddr := f.String("store-addr", "127.0.0.1:8090", `blob store HTTP API listen address ("" to not run it)`)
	webAddr := f.String("web-addr", "127.0.0.1:8080", `web app listen address ("" to not run it, nor the indexer)`)
	dsn := f.String("db", "", "platform database: a SQLite file or a postgres:// URL (default <home>/platform.db)")
	maxUpload := f.Int64("web-max-upload", 256<<20, "largest file the web app accepts, in bytes")
	maxImport := f.Int64("dsp-max-import", 64<<20, "largest item import (CSV, JSONL, images) the data platform accepts, in bytes")
	return func(env chaincmd.UpEnv) error {
		var st *store.Store
		if *storeAddr != "" || *webAddr != "" {
			dir := filepath.Join(env.Home, "store")
			s, err := store.Open(dir)
			if err != nil {
				return fmt.Errorf("blob store in %s: %w", dir, err)
			}
			st = s
		}
		if *storeAddr != "" {
			chain := storeChain
			chain.GRPC = env.GRPC
			ready := make(chan error, 1)
			go func() {
				err := storecli.Serve(context.Background(), storecli.ServeConfig{Store: st, Dir: filepath.Join(env.Home, "store"), Addr: *storeAddr, GRPC: env.GRPC, MaxUpload: 64 << 30, Chain: chain},
					func(url string) { fmt.Fprintf(env.Out, "Blob store API:     %s\n", url); ready <- nil })
				ready <- err
			}()
			if err := <-ready; err != nil {
				return err
			}
		}
		if *webAddr == "" {
			return nil
		}
		if *dsn == "" {
			*dsn = filepath.Join(env.Home, "platform.db")
		}
		return startWeb(env, st, *dsn, *webAddr, *maxUpload, *maxImport)
	}
}

func startWeb(env chaincmd.UpEnv, st *store.Store, dsn, addr string, maxUpload, maxImport int64) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := db.Open(dsn)
	if err != nil {
		return err
	}
	ix, err := indexer.New(ctx, d, indexer.NewSource(env.CometRPC), app.Denom, log)
	if err != nil {
		return fmt.Errorf("indexer on %s: %w", d, err)
	}
	key, err := web.LoadOrCreateKey(filepath.Join(env.Home, "web.key"))
	if err != nil {
		return fmt.Errorf("web app key: %w", err)
	}
	var dev []web.DevAccount
	for _, a := range env.Accounts {
		dev = append(dev, web.DevAccount{Address: a.Address, PrivateKey: a.PrivateKey})
	}
	w, err := web.New(web.Config{DB: d, Indexer: ix, EVMRPC: "http://" + env.EVMRPC, GRPC: env.GRPC, ChainID: app.EVMChainID,
		Denom: app.Denom, Bech32: app.Bech32Prefix, Store: st, Dev: dev, Key: key, MaxUpload: maxUpload, Log: log})
	if err != nil {
		return err
	}
	if err := startDSP(ctx, env, d, st, w, log, maxImport); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() {
		ready <- w.ListenAndServe(ctx, addr, func(url string) {
			fmt.Fprintf(env.Out, "Web app:            %s  (platform database: %s)\n", url, d)
			ready <- nil
		})
	}()
	if err := <-ready; err != nil {
		return err
	}
	// The indexer starts once the app answers, so its progress can be watched (/api/status).
	go func() {
		if err := ix.Run(ctx); err != nil {
			log.Error("the indexer stopped: the web app shows the index as of its last block", "err", err)
		}
	}()
	return nil
}

// startDSP adds the data platform to the web app. Its QA authority key (which posts payout batches
// to x/datatask) is <home>/dsp-authority.key; on a dev chain a dev account tops it up with gas money.
func startDSP(ctx context.Context, env chaincmd.UpEnv, d *db.DB, st *store.Store, w *web.App, log *slog.Logger, maxImport int64) error {
	key, err := dsp.LoadOrCreateAuthority(filepath.Join(env.Home, "dsp-authority.key"))
	if err != nil {
		return fmt.Errorf("data platform authority key: %w", err)
	}
	chain, err := dsp.DialChain("http://"+env.EVMRPC, env.GRPC, key)
	if err != nil {
		return err
	}
	if len(env.Accounts) > 0 {
		go func() { // once JSON-RPC answers
			devKey := env.Accounts[len(env.Accounts)-1].PrivateKey
			for i := 0; i < 120; i++ {
				if !chainStarted(env.CometRPC) { // JSON-RPC logs a warning for every call before block 1
					time.Sleep(time.Second)
					continue
				}
				c, err := chain.Client(ctx)
				if err == nil {
					if err = fundAuthority(ctx, c, devKey, key.Address); err == nil {
						return
					}
				}
				time.Sleep(time.Second)
			}
			log.Warn("could not fund the data platform's authority: payouts need gas", "address", key.Address.Hex())
		}()
	}
	svc, err := dsp.New(ctx, dsp.Config{DB: d, Store: st, Chain: chain, Log: log})
	if err != nil {
		return fmt.Errorf("data platform on %s: %w", d, err)
	}
	dspweb.Register(w, svc, maxImport)
	fmt.Fprintf(env.Out, "Data platform:      QA authority %s\n", key.Address.Hex())
	return nil
}

// fundAuthority sends the authority 100 SAH from a dev account when it has less than 10.
func fundAuthority(ctx context.Context, c *evmclient.Client, devKey string, to common.Address) error {
	if h, err := c.BlockNumber(ctx); err != nil || h < 1 {
		return fmt.Errorf("the chain has no block yet")
	}
	bal, err := c.BalanceAt(ctx, to, nil)
	if err != nil {
		return err
	}
	if bal.Cmp(evmclient.Ether(10)) >= 0 {
		return nil
	}
	dev, err := evmclient.WalletFromHex(devKey)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = c.SendAndWait(ctx, dev, &to, evmclient.Ether(100), nil, 21_000)
	return err
}

// chainStarted reports whether the node has executed a block (CometBFT's /abci_info).
func chainStarted(cometRPC string) bool {
	if !strings.HasPrefix(cometRPC, "http") {
		cometRPC = "http://" + cometRPC
	}
	res, err := http.Get(cometRPC + "/abci_info")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var info struct {
		Result struct {
			Response struct {
				LastBlockHeight string `json:"last_block_height"`
			} `json:"response"`
		} `json:"result"`
	}
	if json.NewDecoder(res.Body).Decode(&info) != nil {
		return false
	}
	h := info.Result.Response.LastBlockHeight
	return h != "" && h != "0"
}
