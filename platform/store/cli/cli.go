// Package cli is `sahara store`: put, get, ls and verify objects in the
// content-addressed blob store.
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

// Command returns `store`; defaultDir is used when --dir is not given.
func Command(defaultDir string) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "store",
		Short: "Content-addressed blob store: put, get, ls, verify",
		Long: `Objects are cut into content-defined chunks stored once under their sha256; an object is named
by the Merkle root over its chunks (the commitment an asset registers on chain) and every read is
verified against it.`,
	}
	c.PersistentFlags().StringVar(&dir, "dir", defaultDir, "store folder")
	open := func() (*store.Store, error) { return store.Open(dir) }
	// openFor parses a root argument and opens the store.
	openFor := func(arg string) (store.Hash, *store.Store, error) {
		root, err := store.ParseHash(arg)
		if err != nil {
			return root, nil, err
		}
		s, err := open()
		return root, s, err
	}

	put := &cobra.Command{
		Use:   "put FILE",
		Short: "Store a file (- for standard input) and print its root and size",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			var r io.Reader = os.Stdin
			name := "stdin"
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r, name = f, filepath.Base(args[0])
			}
			t0 := time.Now()
			m, st, err := s.Put(r, name)
			if err != nil {
				return err
			}
			secs := time.Since(t0).Seconds()
			return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{
				"root": m.Root.String(), "size": m.Size, "chunks": st.Chunks, "new_chunks": st.NewChunks,
				"new_bytes": st.NewBytes, "seconds": secs,
			})
		},
	}
	var out string
	var offset, length int64
	get := &cobra.Command{
		Use:   "get ROOT",
		Short: "Write an object (or a byte range of it) to --out or standard output, verified",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, s, err := openFor(args[0])
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			var f *os.File
			if out != "" {
				if f, err = os.CreateTemp(filepath.Dir(out), ".get-*"); err != nil {
					return err
				}
				defer os.Remove(f.Name())
				w = f
			}
			if length >= 0 || offset > 0 {
				m, err := s.Manifest(root)
				if err != nil {
					return err
				}
				if length < 0 {
					length = m.Size - offset
				}
				err = s.GetRange(root, offset, length, w)
			} else {
				err = s.Get(root, w)
			}
			if f == nil {
				return err
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err // the partial file is removed: a verified copy or none
			}
			return os.Rename(f.Name(), out)
		},
	}
	get.Flags().StringVar(&out, "out", "", "output file (written only if every chunk verifies)")
	get.Flags().Int64Var(&offset, "offset", 0, "first byte")
	get.Flags().Int64Var(&length, "length", -1, "bytes to read (default: to the end)")

	ls := &cobra.Command{
		Use:   "ls",
		Short: "List stored objects",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			ms, err := s.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ROOT\tSIZE\tCHUNKS\tNAME\tCREATED")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", m.Root, m.Size, len(m.Chunks), m.Name, m.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	verify := &cobra.Command{
		Use:   "verify ROOT",
		Short: "Re-read every chunk of an object and check it against the root",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, s, err := openFor(args[0])
			if err != nil {
				return err
			}
			if err := s.Verify(root); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s verifies\n", root)
			return nil
		},
	}
	c.AddCommand(put, get, ls, verify)
	return c
}
