package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/generate"
)

// PlanOptions are the options of `kmsgrant plan`.
type PlanOptions struct {
	Factory          *Factory
	Grant            GrantFlags
	Output           string
	DetailedExitcode bool
	// Out is where to save the plan for a later `apply FILE`.
	Out string
	// Validate has IAM Access Analyzer check every document the plan
	// would write.
	Validate bool
}

// planFormats are the --output formats of plan.
var planFormats = []string{outputText, outputJSON, outputTerraform, outputCloudFormation}

// NewCmdPlan builds `kmsgrant plan`. runF replaces planRun in tests of flag
// parsing.
func NewCmdPlan(f *Factory, runF func(context.Context, *PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "plan --bucket NAME --grantee PRINCIPAL [--prefix PREFIX] [--state FILE | --profile PROFILE ...] [flags]",
		Short: "Show the policy changes a cross-account grant needs",
		Long: `Plan computes the minimal statements that the bucket policy, the KMS key
policy and the grantee's IAM policy still lack for the grant, and shows them
as diffs against the current documents. It changes nothing.

--output terraform and --output cloudformation show the same changes as what
to put in a Terraform configuration or a CloudFormation template, for
policies managed there. --validate has IAM Access Analyzer check every
document first (live AWS only).`,
		Example: `  # Against an account-state file, with no AWS account:
  kmsgrant plan --state examples/seed/state.json --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader --prefix reports/

  # Live, with a profile for each account:
  kmsgrant plan --owner-profile data-owner --grantee-profile analytics \
    --bucket doc-example-bucket --grantee arn:aws:iam::444455556666:role/reader

  # Save the plan for review, then apply exactly it:
  kmsgrant plan --profile data-owner --bucket doc-example-bucket \
    --grantee 444455556666 --out reader.plan

  # In CI: exit 2 when the grant is missing (drift), 0 when it holds:
  kmsgrant plan --profile data-owner --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader --detailed-exitcode -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.Output, planFormats...); err != nil {
				return err
			}
			if err := checkValidate(opts.Validate, opts.Grant); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return planRun(cmd.Context(), opts)
		},
	}
	opts.Grant.register(cmd)
	opts.Grant.registerFile(cmd)
	opts.Grant.registerPrune(cmd)
	opts.Grant.registerVia(cmd)
	addOutputFlag(cmd, &opts.Output, planFormats...)
	addValidateFlag(cmd, &opts.Validate)
	cmd.Flags().BoolVar(&opts.DetailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes to apply (0 none, 1 error)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "save the plan to `FILE`, to apply exactly that later with 'kmsgrant apply FILE'")
	return cmd
}

func planRun(ctx context.Context, opts *PlanOptions) error {
	pl, err := buildPlan(ctx, opts.Factory, &opts.Grant)
	if err == nil && opts.Validate {
		pl, err = validated(ctx, pl)
	}
	if err != nil {
		return err
	}
	backend, p := pl.backend, pl.plan
	if opts.Out != "" && !p.Blocked() {
		data, err := p.Save(opts.Factory.Build.Version, savedBackend(backend, opts.Grant, pl.profiles))
		if err != nil {
			return err
		}
		if err := writeNewFile(opts.Out, data); err != nil {
			return err
		}
		fmt.Fprintf(opts.Factory.IO.ErrOut, "Saved the plan to %s; apply exactly it with: kmsgrant apply %s\n", opts.Out, opts.Out)
	}
	io := opts.Factory.IO
	switch opts.Output {
	case outputJSON:
		err = p.WriteJSON(io.Out)
	case outputTerraform:
		err = p.WriteTerraform(io.Out)
	case outputCloudFormation:
		err = p.WriteCloudFormation(io.Out)
	default:
		err = p.WriteText(io.Out, io.ColorEnabled())
	}
	if err != nil {
		return err
	}
	if p.Blocked() {
		return errBlocked(p)
	}
	if opts.DetailedExitcode && p.HasChanges() {
		return &exitError{code: ExitChanges, silent: true}
	}
	return nil
}

// planned is a plan with the backend it was read through, and how to make
// it again from what the targets hold then.
type planned struct {
	backend apply.Backend
	plan    *apply.Plan
	// replan makes the plan again for apply.WithReplan; nil where a plan
	// cannot be made again (a restore puts back whole documents).
	replan apply.Replan
	// profiles are the grants file's AWS profiles, which a saved plan
	// keeps.
	profiles map[string]string
}

// addValidateFlag registers --validate, of plan and apply.
func addValidateFlag(cmd *cobra.Command, validate *bool) {
	cmd.Flags().BoolVar(validate, "validate", false, "live AWS: have IAM Access Analyzer check every document before it is shown or written; an error or public access it finds in kmsgrant's statements blocks")
}

// checkValidate refuses --validate with a state file: the checks are
// AWS's.
func checkValidate(validate bool, flags GrantFlags) error {
	if validate && flags.State != "" {
		return errors.New("--validate sends the documents to IAM Access Analyzer, so it needs AWS; it does not work with --state")
	}
	return nil
}

// validated has IAM Access Analyzer check the documents of a plan
// (--validate), and those of every plan made again for it when another
// writer changes a target during apply.
func validated(ctx context.Context, pl *planned) (*planned, error) {
	if pl.backend == nil {
		// Blocked before anything was read: nothing to check.
		return pl, nil
	}
	p, err := apply.Validate(ctx, pl.backend, pl.plan)
	if err != nil {
		return nil, err
	}
	out := *pl
	out.plan = p
	if replan := pl.replan; replan != nil {
		out.replan = func(ctx context.Context) (*apply.Plan, error) {
			p, err := replan(ctx)
			if err != nil {
				return nil, err
			}
			return apply.Validate(ctx, pl.backend, p)
		}
	}
	return &out, nil
}

// buildPlan turns grant flags, or a grants file, into a plan, through the
// state file or live AWS.
func buildPlan(ctx context.Context, f *Factory, flags *GrantFlags) (*planned, error) {
	return planWith(ctx, f, flags, generate.OpGrant)
}

// planWith reads what the grants of the flags (or grants file) name and
// plans them as one plan: granted, or revoked.
func planWith(ctx context.Context, f *Factory, flags *GrantFlags, op generate.Op) (*planned, error) {
	b, err := flags.grants()
	if err != nil {
		return nil, err
	}
	if len(b.blockers) > 0 {
		res := &generate.Result{Blockers: b.blockers}
		return &planned{plan: apply.FromResult(res)}, nil
	}
	prefix := ""
	if len(b.grants) == 1 {
		prefix = b.grants[0].Grant.Prefix
	}
	backend, err := openBackend(ctx, f, flags, b.reach(prefix))
	if err != nil {
		return nil, err
	}
	for i := range b.grants {
		if err := resolveSession(ctx, f, backend, &b.grants[i].Grant, false); err != nil {
			printNotes(f, backend)
			if b.fromFlags {
				return nil, fmt.Errorf("--grantee: %w", err)
			}
			return nil, fmt.Errorf("%s: grantee: %w", b.grants[i].Label, err)
		}
	}
	var opts []apply.BatchOption
	if flags.Prune {
		opts = append(opts, apply.Prune())
	}
	p, err := apply.PlanBatch(ctx, backend, b.grants, op, opts...)
	if err == nil {
		p.View.Prune = flags.Prune
	}
	printNotes(f, backend)
	if errors.Is(err, apply.ErrGranteeNotFound) && b.fromFlags && len(b.grants) == 1 {
		err = fmt.Errorf("--grantee: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return &planned{backend: backend, plan: p, replan: replanner(backend, b.grants, op, opts...), profiles: b.profiles}, nil
}

// replanner makes a plan again through the same backend, reading every
// document anew, the same way the first plan was made.
func replanner(b apply.Backend, grants []apply.Labelled, op generate.Op, opts ...apply.BatchOption) apply.Replan {
	return func(ctx context.Context) (*apply.Plan, error) {
		return apply.PlanBatch(ctx, b, grants, op, opts...)
	}
}

// readInputs opens the backend the flags name and reads what one grant
// needs, showing the backend's notes.
func readInputs(ctx context.Context, f *Factory, flags *GrantFlags, g *generate.Grant, keepSession bool) (apply.Backend, generate.Inputs, error) {
	backend, err := openBackend(ctx, f, flags, reach{granteeAccount: g.Grantee.Account, prefix: g.Prefix})
	if err != nil {
		return nil, generate.Inputs{}, err
	}
	if err := resolveSession(ctx, f, backend, g, keepSession); err != nil {
		printNotes(f, backend)
		return nil, generate.Inputs{}, fmt.Errorf("--grantee: %w", err)
	}
	in, err := apply.Read(ctx, backend, *g)
	printNotes(f, backend)
	if errors.Is(err, apply.ErrGranteeNotFound) {
		return nil, in, fmt.Errorf("--grantee: %w", err)
	}
	return backend, in, err
}

// resolveSession turns a grantee given as a session ARN into its role, with
// the path the grantee's account tells; unless the session is kept
// (explain evaluates the session itself), the grant is the role's, and a
// note says so.
func resolveSession(ctx context.Context, f *Factory, backend apply.Backend, g *generate.Grant, keepSession bool) error {
	if g.Grantee.Session == "" {
		return nil
	}
	session := g.Grantee.SessionARN()
	var err error
	if g.Grantee, err = apply.ResolveSession(ctx, backend, g.Grantee); err != nil {
		return err
	}
	if !keepSession {
		g.Grantee.Session = ""
		fmt.Fprintf(f.IO.ErrOut, "note: %s is a session of role %s: the grant is the role's, whose sessions all act with its permissions\n", session, g.Grantee.ARN())
	}
	return nil
}

// savedBackend records what a plan was made against.
func savedBackend(b apply.Backend, flags GrantFlags, profiles map[string]string) apply.SavedBackend {
	if flags.State != "" {
		return apply.SavedBackend{Kind: "state"}
	}
	sb := apply.SavedBackend{Kind: "live", Profiles: profiles}
	if a, ok := b.(interface{ Accounts() (string, string) }); ok {
		sb.OwnerAccount, sb.GranteeAccount = a.Accounts()
	}
	return sb
}

// printNotes shows on stderr what the backend wants known, such as
// missing grantee credentials.
func printNotes(f *Factory, backend apply.Backend) {
	if n, ok := backend.(interface{ Notes() []string }); ok {
		for _, note := range n.Notes() {
			fmt.Fprintln(f.IO.ErrOut, "note: "+note)
		}
	}
}

// reach is what a run's grants need of the backend.
type reach struct {
	// granteeAccount is the account of every grantee ("" for several),
	// which grantee credentials must be of.
	granteeAccount string
	// prefix is where --check-objects looks.
	prefix string
	// profiles are a grants file's profiles by account, and
	// granteeAccounts the accounts of its grantees.
	profiles        map[string]string
	granteeAccounts []string
}

// ownerProfile is the profile of the bucket owner's account: --owner-profile
// or --profile, else the one account of a grants file's profiles that no
// grantee is in.
func (r reach) ownerProfile(flags *GrantFlags) (string, error) {
	if flags.OwnerProfile != "" || flags.Profile != "" || len(r.profiles) == 0 {
		return flags.OwnerProfile, nil
	}
	var owners []string
	for account := range r.profiles {
		if !slices.Contains(r.granteeAccounts, account) {
			owners = append(owners, account)
		}
	}
	switch len(owners) {
	case 0:
		return "", nil
	case 1:
		return r.profiles[owners[0]], nil
	}
	slices.Sort(owners)
	return "", fmt.Errorf("the grants file's profiles name %s, and no grantee is in them: say which owns the buckets with --owner-profile", andList(owners))
}

// openBackend opens the state file, or, without --state, live AWS.
func openBackend(ctx context.Context, f *Factory, flags *GrantFlags, r reach) (apply.Backend, error) {
	if err := flags.checkAccounts(); err != nil {
		return nil, err
	}
	if flags.State != "" {
		b, err := f.OpenState(flags.State)
		if err != nil {
			return nil, fmt.Errorf("--state: %w", err)
		}
		return b, nil
	}
	ownerProfile, err := r.ownerProfile(flags)
	if err != nil {
		return nil, err
	}
	b, err := f.OpenLive(ctx, live.Options{
		Profile: flags.Profile, OwnerProfile: ownerProfile, GranteeProfile: flags.GranteeProfile, AccountProfiles: r.profiles,
		Region: flags.Region, EndpointURL: flags.EndpointURL,
		GranteeAccount: r.granteeAccount, Prefix: r.prefix, CheckObjects: flags.CheckObjects,
		VerifyDelay: verifyDelay(flags.VerifyDelay), VersionID: flags.VersionID,
		OnCall: callReporter(f),
	})
	if errors.Is(err, live.ErrNoCredentials) {
		return nil, &hintError{err: err, hint: "kmsgrant reads AWS with the SDK's credentials; pass --state FILE to plan against an account-state file instead"}
	}
	return b, err
}

// verifyDelay turns --verify-delay into live.Options.VerifyDelay, where 0
// means the default and a negative delay none.
func verifyDelay(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return -1
	case d < 0:
		return 0 // refused before
	}
	return d
}

func errBlocked(p *apply.Plan) error {
	codes := ""
	for i, b := range p.View.Blockers {
		if i > 0 {
			codes += ", "
		}
		codes += b.Code
	}
	return &hintError{err: errors.New("plan blocked (" + codes + "); nothing was changed"), hint: "fix what the plan lists under Blocked, then plan again"}
}
