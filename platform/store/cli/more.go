package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"sahara/platform/siwe"
	"sahara/platform/store"
	"sahara/platform/store/fingerprint"
	"sahara/platform/store/server"
)

func openStore(dir, s3url string) (*store.Store, error) {
	if s3url == "" {
		return store.Open(dir)
	}
	cfg, err := store.ParseS3URL(s3url)
	if err != nil {
		return nil, err
	}
	b, err := store.OpenS3(cfg)
	if err != nil {
		return nil, err
	}
	k, err := store.LoadNodeKey(filepath.Join(dir, "node.key"))
	if err != nil {
		return nil, err
	}
	return store.New(b, k), nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Signature is an owner's EIP-712 signature of a content commitment, as
// `store sign` writes it and `store verify --signature` reads it.
type Signature struct {
	Root      store.Hash     `json:"root"`
	Size      int64          `json:"size"`
	ChainID   uint64         `json:"chain_id"`
	Signer    common.Address `json:"signer"`
	Signature string         `json:"signature"`
}

func readKey(hexKey, file string) ([]byte, error) {
	if file != "" {
		bz, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		hexKey = strings.TrimSpace(string(bz))
	}
	if hexKey == "" {
		hexKey = os.Getenv("SAHARA_PRIVATE_KEY")
	}
	if hexKey == "" {
		return nil, errors.New("no key: give --key-file FILE (hex private key), --key 0x… or set SAHARA_PRIVATE_KEY")
	}
	k, err := hex.DecodeString(strings.TrimPrefix(hexKey, "0x"))
	if err != nil || len(k) != 32 {
		return nil, errors.New("the private key must be 32 bytes of hex")
	}
	return k, nil
}

// keyFlags name the signer's key (sign, and sign-in with --server).
type keyFlags struct{ hex, file string }

func verifyCmds(open func() (*store.Store, error), chain Chain, keys *keyFlags) (*cobra.Command, *cobra.Command) {
	var file, sigPath, owner string
	var chainID uint64
	verify := &cobra.Command{
		Use:   "verify ROOT",
		Short: "Check bytes ↔ root ↔ owner signature",
		Long: `Without --file, re-reads every chunk of the stored object and checks it against ROOT.
With --file, computes the root of a local file and checks it equals ROOT.
With --signature (a file written by 'store sign'), also checks that the EIP-712 signature
is over ROOT and the size, and names the signer; --owner requires a given signer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := store.ParseHash(args[0])
			if err != nil {
				return err
			}
			var size int64
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				got, n, err := store.RootOf(f)
				if err != nil {
					return err
				}
				if got != root {
					return fmt.Errorf("%s hashes to root %s, not %s", file, got, root)
				}
				size = n
				fmt.Fprintf(cmd.OutOrStdout(), "ok: %s (%d bytes) hashes to %s\n", file, n, root)
			} else {
				s, err := open()
				if err != nil {
					return err
				}
				defer s.Close()
				if err := s.Verify(root); err != nil {
					return err
				}
				m, _ := s.Manifest(root)
				size = m.Size
				fmt.Fprintf(cmd.OutOrStdout(), "ok: every chunk of %s verifies (%d bytes)\n", root, size)
			}
			if sigPath == "" {
				return nil
			}
			bz, err := os.ReadFile(sigPath)
			if err != nil {
				return err
			}
			var sg Signature
			if err := json.Unmarshal(bz, &sg); err != nil {
				return fmt.Errorf("%s is not a signature file from 'store sign': %w", sigPath, err)
			}
			if sg.Root != root || sg.Size != size {
				return fmt.Errorf("the signature is for root %s, %d bytes; the bytes are root %s, %d bytes", sg.Root, sg.Size, root, size)
			}
			raw, err := siwe.DecodeSignature(sg.Signature)
			if err != nil {
				return err
			}
			cid := sg.ChainID
			if chainID != 0 {
				cid = chainID
			}
			signer, err := store.CommitmentSigner(root, size, cid, raw)
			if err != nil {
				return err
			}
			if signer != sg.Signer {
				return fmt.Errorf("the signature recovers %s, but the file claims %s: it was not made for these bytes", signer.Hex(), sg.Signer.Hex())
			}
			if owner != "" && !strings.EqualFold(owner, signer.Hex()) {
				return fmt.Errorf("signed by %s, not by the owner %s", signer.Hex(), owner)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: root %s signed by %s (EIP-712, chain id %d)\n", root, signer.Hex(), cid)
			return nil
		},
	}
	verify.Flags().StringVar(&file, "file", "", "a local file to check against ROOT instead of the stored object")
	verify.Flags().StringVar(&sigPath, "signature", "", "signature file from 'store sign'")
	verify.Flags().StringVar(&owner, "owner", "", "require this signer (0x address), e.g. the asset's on-chain owner")
	verify.Flags().Uint64Var(&chainID, "chain-id", 0, "EVM chain id of the signature's domain (default: the one in the file)")

	var out string
	sign := &cobra.Command{
		Use:   "sign ROOT",
		Short: "Sign a stored object's root and size as its owner (EIP-712) and write the signature file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, m, err := openManifest(open, args[0])
			if err != nil {
				return err
			}
			defer s.Close()
			root := m.Root
			k, err := readKey(keys.hex, keys.file)
			if err != nil {
				return err
			}
			sig, signer, err := store.SignCommitment(root, m.Size, chain.EVMChainID, k)
			if err != nil {
				return err
			}
			bz, _ := json.MarshalIndent(Signature{Root: root, Size: m.Size, ChainID: chain.EVMChainID, Signer: signer, Signature: fmt.Sprintf("0x%x", sig)}, "", "  ")
			if out == "" {
				_, err = cmd.OutOrStdout().Write(append(bz, '\n'))
				return err
			}
			return os.WriteFile(out, append(bz, '\n'), 0o644)
		},
	}
	sign.Flags().StringVar(&out, "out", "", "write the signature here instead of standard output")
	return verify, sign
}

func traceCmd(dir *string) *cobra.Command {
	var asset uint64
	var format string
	c := &cobra.Command{
		Use:   "trace FILE",
		Short: "Name the licensee whose fingerprinted export FILE (or a part of it) came from",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asset == 0 {
				return errors.New("name the asset: --asset ID")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			fm := fingerprint.Format(format)
			if fm == "" {
				head := make([]byte, 4096)
				n, _ := f.Read(head)
				if fm, err = fingerprint.Detect(args[0], head[:n]); err != nil {
					return err
				}
				f.Seek(0, 0)
			}
			// Only the node key and the ledger: this works while a node serves the store.
			key, err := store.ReadNodeKey(filepath.Join(*dir, "node.key"))
			if err != nil {
				return err
			}
			v, err := server.Trace(key, server.OpenLedger(filepath.Join(*dir, "exports.jsonl")), asset, fm, f)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		},
	}
	c.Flags().Uint64Var(&asset, "asset", 0, "the asset the file is a copy of")
	c.Flags().StringVar(&format, "format", "", "csv or jsonl (default: from the name or the content)")
	return c
}

func serveCmd(dir *string, open func() (*store.Store, error), chain Chain) *cobra.Command {
	var addr, grpcAddr, domain string
	var maxUpload int64
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the store's HTTP API (uploads, verified downloads, key release to license holders, exports)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			defer s.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return Serve(ctx, ServeConfig{Store: s, Dir: *dir, Addr: addr, GRPC: grpcAddr, Domain: domain, MaxUpload: maxUpload, Chain: chain},
				func(url string) { fmt.Fprintf(cmd.OutOrStdout(), "Store API: %s\n", url) })
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "listen address")
	c.Flags().StringVar(&grpcAddr, "grpc", chain.GRPC, "node gRPC address for license checks")
	c.Flags().StringVar(&domain, "domain", "", "Sign-In with Ethereum domain clients sign for (default: the listen address)")
	c.Flags().Int64Var(&maxUpload, "max-upload", 64<<30, "largest upload in bytes")
	return c
}

// ServeConfig runs the HTTP API over a store.
type ServeConfig struct {
	Store     *store.Store
	Dir       string // for the export ledger
	Addr      string
	GRPC      string
	Domain    string
	MaxUpload int64
	Chain     Chain
}

// Serve runs the API until ctx ends; ready is called with its URL.
func Serve(ctx context.Context, c ServeConfig, ready func(url string)) error {
	access, err := server.DialChain(c.GRPC, c.Chain.Bech32Prefix)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("store API: %w", err)
	}
	if c.Domain == "" {
		c.Domain = l.Addr().String()
	}
	h := server.New(server.Config{Store: c.Store, Access: access, SIWE: siwe.NewServer(c.Domain, c.Chain.EVMChainID),
		Ledger: server.OpenLedger(filepath.Join(c.Dir, "exports.jsonl")), MaxUpload: c.MaxUpload})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if ready != nil {
		ready("http://" + l.Addr().String())
	}
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
