package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// NewCmdRestore builds `kmsgrant restore BACKUP`.
func NewCmdRestore(f *Factory, runF func(context.Context, *ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "restore BACKUP [--state FILE | --profile PROFILE ...] [flags]",
		Short: "Put back the documents an apply backed up",
		Long: `Restore plans putting every target of a backup (a folder apply wrote
before its first write) back to the document it held then, shows the diffs,
and writes them on confirmation, like any other change. What the targets
hold now is backed up first, so a restore can be undone too.`,
		Example: `  # The folder apply named on stderr ("Backed up the documents as they were to ..."):
  kmsgrant restore ~/.config/kmsgrant/backups/20250101T120000Z-123456 --state state.json

  kmsgrant restore ~/.config/kmsgrant/backups/20250101T120000Z-123456 \
    --owner-profile data-owner --grantee-profile analytics`,
		Args: cobra.ExactArgs(1),
		// BACKUP is a folder.
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.restoreFrom = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	opts.Grant.registerAccounts(cmd)
	opts.registerWriteFlags(cmd)
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "restore without asking for confirmation")
	cmd.Flags().StringVar(&opts.BackupDir, "backup-dir", "", "save what the targets hold now to a new folder under `DIR` before writing (default: kmsgrant/backups in the user's configuration folder)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "restore targets that changed after the apply the backup is from, losing those changes")
	return cmd
}

// restorePlan plans a restore: each target of the backup from what it
// holds now back to the saved document.
func restorePlan(ctx context.Context, f *Factory, opts *ApplyOptions) (*planned, error) {
	data, err := apply.ReadFile(filepath.Join(opts.restoreFrom, "manifest.json"), apply.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading backup: %w", err)
	}
	var m apply.Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(&m)
	grants := m.Grants
	if m.Grant != nil {
		grants = []generate.Resolved{*m.Grant}
	}
	if err != nil || m.FormatVersion != apply.FormatVersion || len(grants) == 0 {
		return nil, fmt.Errorf("%s: not a kmsgrant backup (manifest.json format_version %q)", opts.restoreFrom, m.FormatVersion)
	}
	account := ""
	for _, g := range grants {
		grantee, err := arns.ParsePrincipal(g.Grantee, "")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opts.restoreFrom, err)
		}
		if account != "" && grantee.Account != account {
			account = ""
			break
		}
		account = grantee.Account
	}
	backend, err := openBackend(ctx, f, &opts.Grant, reach{granteeAccount: account})
	if err != nil {
		return nil, err
	}
	// Reading the buckets tells the backend their Regions.
	for _, g := range grants {
		if _, err := backend.Bucket(ctx, g.Bucket); err != nil {
			return nil, err
		}
	}
	res := &generate.Result{Grant: grants[0], Operation: "restore"}
	if len(grants) > 1 {
		res.Grants = grants
	}
	var changedSince []string
	for _, t := range m.Targets {
		c, err := restoreChange(ctx, backend, opts.restoreFrom, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %s of %s: %w", opts.restoreFrom, t.Kind, t.Target, err)
		}
		if c.Action != generate.NoOp && apply.Digest(c.Before) != t.AfterSHA256 {
			changedSince = append(changedSince, t.Kind+" "+t.Target)
		}
		res.Changes = append(res.Changes, c)
	}
	if len(changedSince) > 0 && !opts.Force {
		return nil, &hintError{
			err:  fmt.Errorf("%w: %s changed after the apply this backup is from; restoring would lose those changes", apply.ErrStale, strings.Join(changedSince, ", ")),
			hint: "look at what changed; --force restores anyway",
		}
	}
	return &planned{backend: backend, plan: apply.FromResult(res)}, nil
}

func restoreChange(ctx context.Context, b apply.Backend, dir string, t apply.BackupTarget) (generate.Change, error) {
	c := generate.Change{Kind: t.Kind, Account: t.Account, Target: t.Target, PolicyName: t.PolicyName,
		Reason: "puts back the document backed up in " + dir}
	if t.Kind == generate.KindIAMPolicy {
		p, err := arns.ParsePrincipal(t.Target, "")
		if err != nil {
			return c, err
		}
		c.Grantee = &p
	}
	if t.File != "" {
		if t.File != filepath.Base(t.File) || strings.HasPrefix(t.File, ".") {
			return c, fmt.Errorf("file %q is not in the backup folder", t.File)
		}
		saved, err := apply.ReadFile(filepath.Join(dir, t.File), apply.MaxFileSize)
		if err != nil {
			return c, err
		}
		c.After = string(saved)
	}
	if apply.Digest(c.After) != t.BeforeSHA256 {
		return c, errors.New("the backed-up document was changed after the backup was made (checksum mismatch)")
	}
	current, err := b.Current(ctx, c)
	if err != nil {
		return c, err
	}
	c.Before = current
	switch {
	case c.After == c.Before:
		c.Action = generate.NoOp
		c.Reason = "already holds the backed-up document"
		return c, nil
	case c.After == "":
		c.Action = generate.Delete
		return c, nil
	case c.Before == "":
		c.Action = generate.Create
	default:
		c.Action = generate.Update
	}
	if t.Kind == generate.KindBucketEncryption {
		var e generate.Encryption
		if err := json.Unmarshal([]byte(c.After), &e); err != nil {
			return c, err
		}
		c.Encryption = &e
		return c, nil
	}
	if t.Kind == generate.KindKeyGrants {
		grants, err := generate.ParseGrantsJSON(c.After)
		if err != nil {
			return c, errors.New("the backed-up document is not a list of grants: " + err.Error())
		}
		c.KeyGrants = generate.OwnGrants(grants)
		return c, nil
	}
	doc, err := policy.Parse([]byte(c.After))
	if err != nil {
		return c, errors.New("the backed-up document is not a policy: " + err.Error())
	}
	c.Policy = doc
	return c, nil
}
