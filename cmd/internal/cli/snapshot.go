package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply/statefile"
)

// SnapshotOptions are the options of `kmsgrant snapshot`.
type SnapshotOptions struct {
	Factory *Factory
	Grant   GrantFlags
	Out     string
}

// NewCmdSnapshot builds `kmsgrant snapshot`.
func NewCmdSnapshot(f *Factory, runF func(context.Context, *SnapshotOptions) error) *cobra.Command {
	opts := &SnapshotOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "snapshot --bucket NAME --grantee PRINCIPAL [--prefix PREFIX] [--profile PROFILE ...] [--out FILE] [flags]",
		Short: "Write what a plan reads as an account-state file",
		Long: `Snapshot reads exactly what plan reads for the grant and writes it in the
account-state file format (to --out, or stdout), so that
'kmsgrant plan --state FILE' gives the same plan offline: for review, or to
attach to a bug report.`,
		Example: `  kmsgrant snapshot --owner-profile data-owner --grantee-profile analytics \
    --bucket doc-example-bucket --grantee arn:aws:iam::444455556666:role/reader --out snap.json
  kmsgrant plan --state snap.json --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return snapshotRun(cmd.Context(), opts)
		},
	}
	opts.Grant.register(cmd)
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the snapshot to `FILE` instead of stdout")
	return cmd
}

func snapshotRun(ctx context.Context, opts *SnapshotOptions) error {
	f := opts.Factory
	g, blocker, err := opts.Grant.grant()
	if err != nil {
		return err
	}
	if blocker != nil {
		return fmt.Errorf("--grantee: %s", blocker.Message)
	}
	_, in, err := readInputs(ctx, f, &opts.Grant, &g, false)
	if err != nil {
		return err
	}
	if in.Bucket == nil {
		return fmt.Errorf("--bucket: bucket %q does not exist", g.Bucket)
	}
	data, err := statefile.Snapshot(in, g.Grantee)
	if err != nil {
		return err
	}
	if opts.Out == "" {
		_, err = f.IO.Out.Write(data)
		return err
	}
	return writeNewFile(opts.Out, data)
}

// writeNewFile writes data to name through a temporary file in the same
// folder and a rename, so name is never half written.
func writeNewFile(name string, data []byte) error {
	// Not the state file's ".NAME.tmp-*": a run holding that file's lock
	// removes those as left by a killed run.
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".new-*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("--out: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
