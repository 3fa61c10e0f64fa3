// Package cli is `sahara store`: put, get, ls, verify, sign, trace and
// serve objects of the content-addressed blob store.
package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sahara/platform/store"
)

// Chain names the chain the store works with.
type Chain struct {
	EVMChainID   uint64 // EIP-712 and SIWE domain
	Bech32Prefix string
	GRPC         string // default node gRPC address for license checks
}

// Command returns `store`; defaultDir is used when --dir is not given.
func Command(defaultDir string, chain Chain) *cobra.Command {
	var dir, s3url, serverURL string
	var showProgress bool
	var keys keyFlags
	c := &cobra.Command{
		Use:   "store",
		Short: "Content-addressed blob store: put, get, ls, verify, sign, trace, serve",
		Long: `Objects are cut into content-defined chunks stored once under their sha256; an object is named
by the Merkle root over its chunks (the commitment an asset registers on chain) and every read is
verified against it.`,
	}
	c.PersistentFlags().StringVar(&dir, "dir", defaultDir, "store folder (the local backend, the node key and the export ledger)")
	c.PersistentFlags().StringVar(&s3url, "s3", "", "keep chunks and manifests in S3-compatible storage: s3://ACCESS:SECRET@host:port/bucket[/prefix][?tls=1]")
	c.PersistentFlags().BoolVar(&showProgress, "progress", isTerminal(os.Stderr), "draw a progress bar on standard error")
	c.PersistentFlags().StringVar(&serverURL, "server", "", "use a store's HTTP API (e.g. http://127.0.0.1:8090, what sahara up serves) instead of a local folder; signs in with the key")
	c.PersistentFlags().StringVar(&keys.file, "key-file", "", "file holding a hex private key (sign, and sign-in with --server); or set SAHARA_PRIVATE_KEY")
	c.PersistentFlags().StringVar(&keys.hex, "key", "", "hex private key (prefer --key-file or SAHARA_PRIVATE_KEY)")
	remote := func() (*remoteStore, error) { return signIn(serverURL, keys) }
	open := func() (*store.Store, error) { return openStore(dir, s3url) }

	var private bool
	put := &cobra.Command{
		Use:   "put FILE|DIR|-",
		Short: "Store a file, a directory or standard input (-) and print its root and size",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if serverURL != "" {
				rs, err := remote()
				if err != nil {
					return err
				}
				return rs.put(cmd, args[0], private, showProgress)
			}
			s, err := open()
			if err != nil {
				return err
			}
			defer s.Close()
			src, err := openPutSource(args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			o := store.PutOptions{Name: src.name, Private: private}
			var bar *progress
			if showProgress {
				bar = newProgress(cmd.ErrOrStderr(), "put", src.total)
				o.Progress = bar.set
			}
			t0 := time.Now()
			var m *store.Manifest
			var st store.PutStats
			isDir := src.isDir
			if isDir {
				m, err = s.PutDir(args[0], o)
			} else {
				m, st, err = s.PutWith(src.file, o)
			}
			if bar != nil {
				bar.finish()
			}
			if err != nil {
				return err
			}
			out := map[string]any{"root": m.Root.String(), "size": m.Size, "private": m.Private(), "seconds": time.Since(t0).Seconds()}
			if isDir {
				out["kind"] = store.KindDir
			} else {
				out["chunks"], out["new_chunks"], out["new_bytes"] = st.Chunks, st.NewChunks, st.NewBytes
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
		},
	}
	put.Flags().BoolVar(&private, "private", false, "encrypt at rest (AES-256-GCM, a data key per object wrapped by the node key); released over HTTP only to license holders")
	var out string
	var offset, length int64
	var asset uint64
	get := &cobra.Command{
		Use:   "get ROOT",
		Short: "Write an object (or a byte range of it) to --out or standard output, verified",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if serverURL != "" {
				rs, err := remote()
				if err != nil {
					return err
				}
				return rs.get(cmd, args[0], asset, out, offset, length, showProgress)
			}
			s, m, err := openManifest(open, args[0])
			if err != nil {
				return err
			}
			defer s.Close()
			root := m.Root
			if m.Kind == store.KindDir {
				if out == "" {
					return fmt.Errorf("object %s is a directory: give --out FOLDER (a new folder)", root)
				}
				return s.GetDir(root, out)
			}
			w, commit, err := outputFile(cmd, out)
			if err != nil {
				return err
			}
			if length < 0 {
				length = m.Size - offset
			}
			var bar *progress
			if showProgress && out != "" {
				bar = newProgress(cmd.ErrOrStderr(), "get", length)
				w = &countingWriter{w: w, f: bar.set}
			}
			err = s.CopyRange(m, offset, length, w)
			if bar != nil {
				bar.finish()
			}
			return commit(err)
		},
	}
	get.Flags().StringVar(&out, "out", "", "output file, or a new folder for a directory (written only if every chunk verifies)")
	get.Flags().Int64Var(&offset, "offset", 0, "first byte")
	get.Flags().Int64Var(&length, "length", -1, "bytes to read (default: to the end)")
	get.Flags().Uint64Var(&asset, "asset", 0, "with --server: the asset a private object belongs to (your license of it is checked)")

	ls := &cobra.Command{
		Use:   "ls",
		Short: "List stored objects",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ms []*store.Manifest
			if serverURL != "" {
				rs, err := remote()
				if err != nil {
					return err
				}
				if ms, err = rs.list(); err != nil {
					return err
				}
				return printList(cmd, ms)
			}
			s, err := open()
			if err != nil {
				return err
			}
			defer s.Close()
			ms, err = s.List()
			if err != nil {
				return err
			}
			return printList(cmd, ms)
		},
	}
	verify, sign := verifyCmds(open, chain, &keys)
	c.AddCommand(verify, sign, traceCmd(&dir), serveCmd(&dir, open, chain))
	c.AddCommand(put, get, ls)
	return c
}

func printList(cmd *cobra.Command, ms []*store.Manifest) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROOT\tSIZE\tKIND\tPRIVATE\tNAME\tCREATED")
	for _, m := range ms {
		kind := m.Kind
		if kind == "" {
			kind = "file"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%s\t%s\n", m.Root, m.Size, kind, m.Private(), m.Name, m.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

// outputFile is where a get writes: standard output, or (with out) a
// temporary file beside out that commit renames into place only if the
// whole copy succeeded — a verified copy or none.
func outputFile(cmd *cobra.Command, out string) (io.Writer, func(error) error, error) {
	if out == "" {
		return cmd.OutOrStdout(), func(err error) error { return err }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".get-*")
	if err != nil {
		return nil, nil, err
	}
	return f, func(err error) error {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), out)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}, nil
}

// openManifest parses a root argument, opens the store and reads the
// object's manifest; the caller closes the store.
func openManifest(open func() (*store.Store, error), arg string) (*store.Store, *store.Manifest, error) {
	root, err := store.ParseHash(arg)
	if err != nil {
		return nil, nil, err
	}
	s, err := open()
	if err != nil {
		return nil, nil, err
	}
	m, err := s.Manifest(root)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, m, nil
}

// putSource is what put reads: standard input ("-"), a file, or a folder (read by the caller).
type putSource struct {
	name  string
	isDir bool
	file  io.Reader // standard input or the open file; nil for a folder
	total int64     // bytes, for the progress bar (0: unknown)
	close func() error
}

func (p putSource) Close() error {
	if p.close == nil {
		return nil
	}
	return p.close()
}

func openPutSource(path string) (putSource, error) {
	if path == "-" {
		return putSource{name: "stdin", file: os.Stdin}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return putSource{}, err
	}
	src := putSource{name: filepath.Base(path), isDir: fi.IsDir()}
	if src.isDir {
		src.total = dirSize(path)
		return src, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return putSource{}, err
	}
	src.file, src.total, src.close = f, fi.Size(), f.Close
	return src, nil
}
