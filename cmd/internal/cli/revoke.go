package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/generate"
)

// NewCmdRevoke builds `kmsgrant revoke`: the same flags and flow as apply,
// with a plan that removes the grantee instead of adding it.
func NewCmdRevoke(f *Factory, runF func(context.Context, *ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{Factory: f, revoke: true}
	cmd := &cobra.Command{
		Use:   "revoke --bucket NAME --grantee PRINCIPAL [--prefix PREFIX] [--state FILE | --profile PROFILE ...] [flags]",
		Short: "Remove a grantee from the statements kmsgrant wrote",
		Long: `Revoke plans the removal of the grantee from the Kmsgrant statements for the
bucket and prefix (of any access level): a statement left with no principal
is dropped, and so is the grantee's kmsgrant inline policy left with no
statement. Statements kmsgrant did not write are never touched. The plan is
shown and confirmed as with apply.`,
		Example: `  kmsgrant revoke --state state.json --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader --prefix reports/

  kmsgrant revoke --owner-profile data-owner --grantee-profile analytics \
    --bucket doc-example-bucket --grantee arn:aws:iam::444455556666:role/reader`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("access") {
				return errors.New("--access: revoke removes all of the grantee's kmsgrant access for the bucket and prefix; it takes no access level")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	opts.Grant.register(cmd)
	opts.Grant.registerFile(cmd)
	// Revoke takes away every access level; --access is kept only to
	// say so when it is given, and is not shown.
	_ = cmd.Flags().MarkHidden("access")
	opts.registerWriteFlags(cmd)
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "revoke without asking for confirmation")
	cmd.Flags().BoolVar(&opts.NoRollback, "no-rollback", false, "when a write fails, keep the writes before it instead of restoring their targets")
	cmd.Flags().StringVar(&opts.BackupDir, "backup-dir", "", "save the documents as they were to a new folder under `DIR` before writing (default: kmsgrant/backups in the user's configuration folder)")
	return cmd
}

// revokePlan plans a revoke through the same backend as plan and apply.
func revokePlan(ctx context.Context, f *Factory, flags *GrantFlags) (*planned, error) {
	return planWith(ctx, f, flags, generate.OpRevoke)
}
