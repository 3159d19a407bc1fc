package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/cmd/internal/prompt"
	"github.com/kmsgrant/kmsgrant/generate"
)

// ApplyOptions are the options of `kmsgrant apply`.
type ApplyOptions struct {
	Factory     *Factory
	Grant       GrantFlags
	AutoApprove bool
}

// NewCmdApply builds `kmsgrant apply`.
func NewCmdApply(f *Factory, runF func(context.Context, *ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "apply --bucket NAME --grantee PRINCIPAL [--state FILE | --owner-profile P ...] [flags]",
		Short: "Plan a cross-account grant, confirm, and write the policies",
		Long: `Apply shows the plan, asks for confirmation, and writes the changes. Only the
answer "yes" approves. Without a terminal it refuses unless --auto-approve is
given. Statements kmsgrant did not write are never removed or changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return applyRun(cmd.Context(), opts)
		},
	}
	opts.Grant.register(cmd)
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for confirmation")
	return cmd
}

var errCancelled = errors.New("apply cancelled; nothing was changed")

func applyRun(ctx context.Context, opts *ApplyOptions) error {
	f := opts.Factory
	backend, p, err := buildPlan(ctx, f, &opts.Grant)
	if err != nil {
		return err
	}
	if err := p.WriteText(f.IO.Out, f.IO.ColorEnabled()); err != nil {
		return err
	}
	if p.Blocked() {
		return errBlocked(p)
	}
	if !p.HasChanges() {
		return nil
	}
	if !opts.AutoApprove {
		if !f.IO.CanPrompt() {
			return &hintError{
				err:  errors.New("refusing to apply without a terminal to confirm on; nothing was changed"),
				hint: "review the plan above, then run again with --auto-approve",
			}
		}
		ok, err := f.Prompter.Confirm("Apply these changes?", "kmsgrant will write the changes shown above. Only 'yes' will be accepted to approve.")
		if errors.Is(err, prompt.ErrInterrupted) {
			return errCancelled
		}
		if err != nil {
			return err
		}
		if !ok {
			return errCancelled
		}
	}
	outcomes, err := apply.Execute(ctx, backend, p)
	fmt.Fprintln(f.IO.Out)
	printOutcomes(f, outcomes)
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

func printOutcomes(f *Factory, outcomes []apply.Outcome) {
	for _, o := range outcomes {
		verb := map[generate.Action]string{generate.Create: "created", generate.Update: "updated"}[o.Change.Action]
		switch {
		case o.Done:
			fmt.Fprintf(f.IO.Out, "%s %s %s\n", verb, o.Change.Kind, o.Change.Target)
		case o.Err != nil:
			fmt.Fprintf(f.IO.ErrOut, "failed %s %s: %v\n", o.Change.Kind, o.Change.Target, o.Err)
		default:
			fmt.Fprintf(f.IO.ErrOut, "not written %s %s\n", o.Change.Kind, o.Change.Target)
		}
	}
}

func applySummary(outcomes []apply.Outcome) string {
	var created, updated int
	for _, o := range outcomes {
		if !o.Done {
			continue
		}
		if o.Change.Action == generate.Create {
			created++
		} else {
			updated++
		}
	}
	parts := []string{fmt.Sprintf("%d created", created), fmt.Sprintf("%d updated", updated)}
	return "Apply complete: " + strings.Join(parts, ", ") + "."
}
