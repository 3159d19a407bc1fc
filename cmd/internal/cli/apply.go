package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/cmd/internal/prompt"
	"github.com/kmsgrant/kmsgrant/generate"
)

// ApplyOptions are the options of `kmsgrant apply`.
type ApplyOptions struct {
	Factory     *Factory
	Grant       GrantFlags
	AutoApprove bool
	// PlanFile is a saved plan to apply instead of planning anew.
	PlanFile string
	// BackupDir is where the documents are saved before the first write.
	BackupDir string
	// NoRollback keeps the writes that succeeded when a later one fails.
	NoRollback bool
	// revoke plans the grantee's removal instead of the grant.
	revoke bool
	// restoreFrom is a backup folder to put back.
	restoreFrom string
	// Force restores targets that changed since the backed-up apply.
	Force bool
	// LockTimeout is how long to wait for the state file's lock.
	LockTimeout time.Duration
	// Validate has IAM Access Analyzer check the documents first.
	Validate bool
	// Output is "text", or "json" for one JSON result document.
	Output string
	// Parallelism is how many documents are written at once.
	Parallelism int
}

// defaultLockTimeout is how long a run waits for another run's state lock.
const defaultLockTimeout = 60 * time.Second

// operation names the command, for the state lock and messages.
func (o *ApplyOptions) operation() string {
	switch {
	case o.revoke:
		return "revoke"
	case o.restoreFrom != "":
		return "restore"
	}
	return "apply"
}

// registerWriteFlags adds the flags of every command that writes: how long
// to wait for the state lock, how long to wait before verifying live
// writes, and the output format.
func (o *ApplyOptions) registerWriteFlags(cmd *cobra.Command) {
	addOutputFlag(cmd, &o.Output, outputText, outputJSON)
	fl := cmd.Flags()
	fl.DurationVar(&o.LockTimeout, "lock-timeout", defaultLockTimeout, "state file only: wait up to `DURATION` for another run's lock on it (0: do not wait)")
	o.Grant.VerifyDelay = live.DefaultVerifyDelay
	fl.Var(&verifyDelayFlag{g: &o.Grant}, "verify-delay", "live AWS only: wait `DURATION` after the last write before reading every written document back (0: at once)")
	fl.Lookup("verify-delay").DefValue = live.DefaultVerifyDelay.String()
	fl.IntVar(&o.Parallelism, "parallelism", apply.DefaultParallelism, "write up to `N` documents at once (1: one at a time, in plan order)")
}

// NewCmdApply builds `kmsgrant apply`.
func NewCmdApply(f *Factory, runF func(context.Context, *ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "apply (--bucket NAME --grantee PRINCIPAL | PLANFILE) [--state FILE | --profile PROFILE ...] [flags]",
		Short: "Plan a cross-account grant, confirm, and write the policies",
		Long: `Apply shows the plan, asks for confirmation, and writes the changes. Only the
answer "yes" approves. It asks on the terminal even when stdout is redirected
(| tee apply.log); where there is no terminal at all (CI), it refuses unless
--auto-approve is given. Statements kmsgrant did not write are never removed
or changed.

With PLANFILE (from 'kmsgrant plan --out'), apply writes exactly the saved
plan, after checking that no target changed since it was made. On live AWS,
a target another writer changes while apply writes gets the same statements
merged into what it then holds (backed up first, and said on stderr).`,
		Example: `  # Try it on a copy of an example: apply writes to the state file.
  cp examples/seed/state.json state.json
  kmsgrant apply --state state.json --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader --prefix reports/

  # Live; the plan goes to a log, the question to the terminal:
  kmsgrant apply --owner-profile data-owner --grantee-profile analytics \
    --bucket doc-example-bucket --grantee arn:aws:iam::444455556666:role/reader | tee apply.log

  # A plan saved with 'kmsgrant plan --out', as reviewed, from a pipeline:
  kmsgrant apply reader.plan --profile data-owner --auto-approve`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			if err := checkValidate(opts.Validate, opts.Grant); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	opts.Grant.register(cmd)
	opts.Grant.registerFile(cmd)
	opts.Grant.registerPrune(cmd)
	opts.Grant.registerVia(cmd)
	opts.registerWriteFlags(cmd)
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for confirmation")
	addValidateFlag(cmd, &opts.Validate)
	cmd.Flags().BoolVar(&opts.NoRollback, "no-rollback", false, "when a write fails, keep the writes before it instead of restoring their targets")
	cmd.Flags().StringVar(&opts.BackupDir, "backup-dir", "", "save the documents as they were to a new folder under `DIR` before writing (default: kmsgrant/backups in the user's configuration folder)")
	return cmd
}

// questions are what each command asks before it writes.
var questions = map[string]string{
	"apply":   "Apply these changes?",
	"revoke":  "Revoke this access?",
	"restore": "Restore these documents?",
}

// confirm asks the person at the terminal to approve the writes of
// operation (apply, revoke, restore), saying up front that only "yes"
// approves, as Terraform does, so a stray "y" or Enter never changes a
// security policy, and saying so when the answer was something else. It
// refuses only where there is no terminal at all.
func confirm(ctx context.Context, f *Factory, operation string) error {
	if !f.IO.CanPrompt() {
		return &hintError{
			err:  fmt.Errorf("refusing to %s without a terminal to confirm on; nothing was changed", operation),
			hint: "review the plan above, then run again with --auto-approve",
		}
	}
	message := fmt.Sprintf("\n%s\n  kmsgrant will write the changes shown above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", questions[operation])
	answer, err := f.Prompter.Input(ctx, message)
	switch {
	case errors.Is(err, prompt.ErrInterrupted):
		return fmt.Errorf("%s cancelled (interrupted at the prompt); nothing was changed", operation)
	case errors.Is(err, prompt.ErrNoAnswer):
		return fmt.Errorf("%s cancelled: %v; nothing was changed", operation, err)
	case err != nil:
		return fmt.Errorf("%w; nothing was changed", err)
	case answer == "":
		return fmt.Errorf("%s cancelled: no answer was typed, and only 'yes' approves; nothing was changed", operation)
	case answer != "yes":
		return fmt.Errorf("%s cancelled: the answer was %q, and only 'yes' approves; nothing was changed", operation, answer)
	}
	return nil
}

// checkWriteOutput checks --output of apply, revoke and restore before
// anything is read: JSON output asks no question, so it needs
// --auto-approve.
func checkWriteOutput(opts *ApplyOptions) error {
	if opts.Output == "" {
		opts.Output = outputText
	}
	if err := checkOutput(opts.Output, outputText, outputJSON); err != nil {
		return err
	}
	if opts.Output == outputJSON && !opts.AutoApprove {
		return &hintError{
			err:  fmt.Errorf("--output json asks no question: give --auto-approve too"),
			hint: "review the plan first with 'kmsgrant plan --output json', or save it with 'kmsgrant plan --out FILE' and apply that",
		}
	}
	return nil
}

func applyRun(ctx context.Context, opts *ApplyOptions) error {
	f := opts.Factory
	if err := checkWriteOutput(opts); err != nil {
		return err
	}
	if opts.LockTimeout < 0 {
		return fmt.Errorf("--lock-timeout: want a duration of 0 or more, not %s", opts.LockTimeout)
	}
	switch {
	case opts.Parallelism < 0:
		return fmt.Errorf("--parallelism: want 1 or more documents at once, not %d", opts.Parallelism)
	case opts.Parallelism == 0:
		opts.Parallelism = apply.DefaultParallelism
	}
	if opts.Grant.State != "" && f.LockState != nil {
		// One writer at a time, from the read the plan is made of to
		// the write of its changes.
		release, err := f.LockState(ctx, opts.Grant.State, opts.operation(), opts.LockTimeout, func(holder string) {
			fmt.Fprintf(f.IO.ErrOut, "Waiting for the state lock on %s (held by %s), for up to %s...\n", opts.Grant.State, holder, opts.LockTimeout)
		})
		if errors.Is(err, statefile.ErrLocked) {
			return &hintError{err: fmt.Errorf("--state: %w; nothing was changed", err),
				hint: "wait for the other run to finish, or wait longer with --lock-timeout"}
		}
		if err != nil {
			return fmt.Errorf("--state: %w", err)
		}
		defer func() {
			if err := release(); err != nil {
				fmt.Fprintf(f.IO.ErrOut, "warning: releasing the state lock: %v (the operating system releases it when kmsgrant exits)\n", err)
			}
		}()
	}
	var pl *planned
	var err error
	switch {
	case opts.PlanFile != "":
		pl, err = savedPlan(ctx, f, opts)
	case opts.revoke:
		pl, err = revokePlan(ctx, f, &opts.Grant)
	case opts.restoreFrom != "":
		pl, err = restorePlan(ctx, f, opts)
	default:
		pl, err = buildPlan(ctx, f, &opts.Grant)
	}
	if err == nil && opts.Validate {
		pl, err = validated(ctx, pl)
	}
	if err != nil {
		return err
	}
	backend, p := pl.backend, pl.plan
	jsonOut := opts.Output == outputJSON
	// result writes the JSON result once the plan is made, whatever
	// ends the run, and returns err.
	result := func(backup string, outcomes []apply.Outcome, err error) error {
		if !jsonOut {
			return err
		}
		r := apply.NewResult(opts.operation(), p, backup, outcomes, err)
		if err != nil && ctx.Err() != nil {
			r.Status, r.Error = apply.ResultInterrupted, interrupted(err).Error()
		}
		if werr := apply.WriteResultJSON(f.IO.Out, r); werr != nil && err == nil {
			return werr
		}
		return err
	}
	if !jsonOut {
		if err := p.WriteText(f.IO.Out, f.IO.ColorEnabled()); err != nil {
			return err
		}
	}
	if p.Blocked() {
		return result("", nil, errBlocked(p))
	}
	if !p.HasChanges() {
		return result("", nil, nil)
	}
	if !opts.AutoApprove {
		if err := confirm(ctx, f, opts.operation()); err != nil {
			return err
		}
	}
	dir := opts.BackupDir
	if dir == "" {
		if dir, err = apply.DefaultBackupDir(); err != nil {
			return result("", nil, err)
		}
	}
	backup, err := apply.Backup(dir, p, time.Now())
	if err != nil {
		return result("", nil, fmt.Errorf("%w; nothing was written", err))
	}
	if backup != "" {
		fmt.Fprintf(f.IO.ErrOut, "Backed up the documents as they were to %s\n", backup)
	}
	execOpts := []apply.Option{apply.Parallelism(opts.Parallelism)}
	if opts.NoRollback {
		execOpts = append(execOpts, apply.NoRollback())
	}
	if pl.replan != nil {
		execOpts = append(execOpts, apply.WithReplan(approvedReplan(f, pl.replan, p, dir)))
	}
	outcomes, err := apply.Execute(ctx, backend, p, execOpts...)
	if jsonOut {
		return result(backup, outcomes, err)
	}
	fmt.Fprintln(f.IO.Out)
	printOutcomes(f, outcomes, backup)
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, applySummary(outcomes))
	for _, c := range p.Result.Changes {
		if c.Action == generate.Manual {
			fmt.Fprintf(f.IO.Out, "Still to do by hand: attach the %s shown above in account %s.\n", c.Kind, c.Account)
		}
	}
	return nil
}

// approvedReplan confines the plans Execute makes again, when another
// writer changed a target under it, to what the person approved: the same
// grant merged into what the targets hold then, on the targets the approved
// plan writes and no others. Each plan made again is backed up before it is
// written, and said on stderr.
func approvedReplan(f *Factory, replan apply.Replan, approved *apply.Plan, dir string) apply.Replan {
	ok := map[string]bool{}
	for _, c := range approved.Result.Changes {
		if c.Writes() {
			ok[c.Kind+" "+c.Target+" "+c.PolicyName] = true
		}
	}
	return func(ctx context.Context) (*apply.Plan, error) {
		next, err := replan(ctx)
		if err != nil || next.Blocked() {
			return next, err
		}
		var targets []string
		for _, c := range next.Result.Changes {
			if !c.Writes() {
				continue
			}
			if !ok[c.Kind+" "+c.Target+" "+c.PolicyName] {
				return nil, fmt.Errorf("the plan made again would also write %s %s, which was not in the plan approved: plan again", c.Kind, c.Target)
			}
			targets = append(targets, c.Kind+" "+c.Target)
		}
		if len(targets) == 0 {
			return next, nil
		}
		backup, err := apply.Backup(dir, next, time.Now())
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(f.IO.ErrOut, "Another writer changed %s since kmsgrant read it: writing the same grant again, merged into what it holds now (backed up to %s)\n",
			strings.Join(targets, ", "), backup)
		return next, nil
	}
}

// verifyDelayFlag is --verify-delay: a duration, and whether it was given,
// since a state file takes none.
type verifyDelayFlag struct{ g *GrantFlags }

func (v *verifyDelayFlag) String() string {
	if v.g == nil {
		return ""
	}
	return v.g.VerifyDelay.String()
}

func (v *verifyDelayFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	v.g.VerifyDelay, v.g.verifyDelaySet = d, true
	return nil
}

func (v *verifyDelayFlag) Type() string { return "duration" }

// savedPlan reads a plan file and opens the backend it names, refusing a
// plan for other accounts or one whose targets moved since.
func savedPlan(ctx context.Context, f *Factory, opts *ApplyOptions) (*planned, error) {
	if opts.Grant.Bucket != "" || opts.Grant.Grantee != "" || opts.Grant.File != "" || opts.Grant.Prune {
		return nil, errors.New("a saved plan carries its grants: give PLANFILE alone, without --bucket, --grantee, -f or --prune")
	}
	data, err := apply.ReadFile(opts.PlanFile, apply.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading plan file: %w", err)
	}
	sp, err := apply.ReadSaved(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.PlanFile, err)
	}
	saved := sp.Grants
	if sp.Grant != nil {
		saved = []generate.Resolved{*sp.Grant}
	}
	if len(saved) == 0 {
		return nil, fmt.Errorf("%s: the plan has no grant", opts.PlanFile)
	}
	switch {
	case sp.Backend.Kind == "state" && opts.Grant.State == "":
		return nil, fmt.Errorf("%s was made against a state file: give it with --state", opts.PlanFile)
	case sp.Backend.Kind == "live" && opts.Grant.State != "":
		return nil, fmt.Errorf("%s was made against live accounts, not a state file", opts.PlanFile)
	}
	b := &batch{}
	for i, r := range saved {
		spec := grantSpec{Bucket: r.Bucket, Grantee: r.Grantee, Prefix: r.Prefix, Key: r.KeyARN, Access: strings.Join(r.Access, ","), IAMPolicyName: r.IAMPolicyName, Via: r.Via}
		label := ""
		if len(saved) > 1 {
			label = fmt.Sprintf("%s: grant %d", opts.PlanFile, i+1)
		}
		if err := b.add(spec, func(field string) string { return opts.PlanFile + ": " + field }, label); err != nil {
			return nil, err
		}
	}
	if len(b.blockers) > 0 {
		return nil, fmt.Errorf("%s: %s", opts.PlanFile, b.blockers[0].Message)
	}
	b.profiles = sp.Backend.Profiles
	backend, err := openBackend(ctx, f, &opts.Grant, b.reach(""))
	if err != nil {
		return nil, err
	}
	if a, ok := backend.(interface{ Accounts() (string, string) }); ok {
		owner, grantee := a.Accounts()
		if owner != sp.Backend.OwnerAccount || (sp.Backend.GranteeAccount != "" && grantee != sp.Backend.GranteeAccount) {
			return nil, fmt.Errorf("%s was made for owner account %s and grantee account %s, but the credentials reach %s and %s",
				opts.PlanFile, sp.Backend.OwnerAccount, orNone(sp.Backend.GranteeAccount), owner, orNone(grantee))
		}
	}
	p, err := sp.Plan()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.PlanFile, err)
	}
	if err := apply.CheckStale(ctx, backend, p); err != nil {
		return nil, err
	}
	// The saved documents must be exactly what kmsgrant plans for the
	// saved grant now: a plan file cannot carry anything else, whatever
	// was done to it, and what relied-on documents say is checked again.
	var batchOpts []apply.BatchOption
	if sp.Prune {
		batchOpts = append(batchOpts, apply.Prune())
	}
	replan := replanner(backend, b.grants, generate.OpGrant, batchOpts...)
	fresh, err := replan(ctx)
	if err != nil {
		return nil, err
	}
	if err := apply.SamePlan(p, fresh); err != nil {
		return nil, fmt.Errorf("%s: %w", opts.PlanFile, err)
	}
	return &planned{backend: backend, plan: fresh, replan: replan}, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func printOutcomes(f *Factory, outcomes []apply.Outcome, backup string) {
	for _, o := range outcomes {
		verb := map[generate.Action]string{generate.Create: "created", generate.Update: "updated", generate.Delete: "deleted"}[o.Change.Action]
		switch o.Status() {
		case "applied":
			again := ""
			if o.Rewrites > 0 {
				again = fmt.Sprintf(" (written again %d time(s): another writer changed it)", o.Rewrites)
			}
			fmt.Fprintf(f.IO.Out, "%s %s %s%s\n", verb, o.Change.Kind, o.Change.Target, again)
		case "kept":
			fmt.Fprintf(f.IO.ErrOut, "kept %s %s: it names the same key by its full ARN, which grants nothing and which other runs may rely on\n", o.Change.Kind, o.Change.Target)
		case "failed":
			fmt.Fprintf(f.IO.ErrOut, "failed %s %s: %v\n", o.Change.Kind, o.Change.Target, o.Err)
		case "rolled back":
			fmt.Fprintf(f.IO.ErrOut, "rolled back %s %s\n", o.Change.Kind, o.Change.Target)
		case "overwritten by another writer":
			fmt.Fprintf(f.IO.ErrOut, "overwritten %s %s: another writer replaced it, and kmsgrant's change is not there\n", o.Change.Kind, o.Change.Target)
		case "failed to roll back":
			fmt.Fprintf(f.IO.ErrOut, "FAILED TO ROLL BACK %s %s: %v; its document as it was is in %s\n", o.Change.Kind, o.Change.Target, o.RollbackErr, backup)
		default:
			fmt.Fprintf(f.IO.ErrOut, "not written %s %s\n", o.Change.Kind, o.Change.Target)
		}
	}
}

func applySummary(outcomes []apply.Outcome) string {
	var created, updated, deleted int
	for _, o := range outcomes {
		if !o.Done {
			continue
		}
		switch o.Change.Action {
		case generate.Create:
			created++
		case generate.Delete:
			deleted++
		default:
			updated++
		}
	}
	parts := []string{fmt.Sprintf("%d created", created), fmt.Sprintf("%d updated", updated)}
	if deleted > 0 {
		parts = append(parts, fmt.Sprintf("%d deleted", deleted))
	}
	return "Apply complete: " + strings.Join(parts, ", ") + "."
}
