// Package cli is kmsgrant's command tree: flags become options, options
// become a grant, and errors become exit codes, in one place.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
	"github.com/kmsgrant/kmsgrant/cmd/internal/prompt"
	"github.com/kmsgrant/kmsgrant/generate"
)

// version is set at build time with -ldflags "-X ...cli.version=v1.2.3".
var version = ""

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan --detailed-exitcode only
)

// Factory holds what commands need from outside: streams, the prompt, and
// how to open a backend. Tests replace any of them.
type Factory struct {
	IO        *iostreams.IOStreams
	Prompter  prompt.Prompter
	OpenState func(path string) (apply.Backend, error)
	OpenLive  func(ctx context.Context, opts live.Options) (apply.Backend, error)
	// LockState takes the lock of a state file for a run that writes it
	// and returns how to release it; nil takes none (tests whose state
	// is not a file).
	LockState func(ctx context.Context, path, operation string, timeout time.Duration, waiting func(holder string)) (release func() error, err error)
	// Build says what kmsgrant was built from: its Version, which saved
	// plans record too, and the rest for `kmsgrant version`.
	Build Build
	// Debug logs every AWS call on stderr (--debug).
	Debug bool
}

// NewFactory returns the factory of a real run.
func NewFactory() *Factory {
	io := iostreams.System()
	build := readBuild(version)
	return &Factory{
		IO:       io,
		Prompter: prompt.Line{Open: io.PromptStreams},
		OpenState: func(path string) (apply.Backend, error) {
			return statefile.Open(path)
		},
		OpenLive: func(ctx context.Context, opts live.Options) (apply.Backend, error) {
			return live.New(ctx, opts)
		},
		LockState: func(ctx context.Context, path, operation string, timeout time.Duration, waiting func(string)) (func() error, error) {
			l, err := statefile.AcquireLock(ctx, path, operation, timeout, waiting)
			if err != nil {
				return nil, err
			}
			return l.Release, nil
		},
		Build: build,
	}
}

// exitError carries an exit code other than 1, or an error already shown.
type exitError struct {
	code int
	// silent errors have been reported by the command itself.
	silent bool
	err    error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// hintError is an error with a next step for the person.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "kmsgrant",
		Short: "Fix cross-account Access Denied on S3 objects encrypted with a KMS key",
		Long: `kmsgrant plans and applies the minimal bucket policy, KMS key policy and IAM
policy statements that let a role, user or account read objects of another
account's S3 bucket encrypted with a KMS customer managed key.

Live AWS runs take the AWS SDK's settings: AWS_PROFILE (or --profile),
AWS_REGION (or --region), AWS_ENDPOINT_URL (or --endpoint-url), and the
credentials of its default chain.

Colour is on when stdout is a terminal. NO_COLOR (set and not empty),
CLICOLOR=0 or --no-color turn it off; CLICOLOR_FORCE or FORCE_COLOR (set,
not empty and not 0) turn it on when stdout is not a terminal, for CI logs
that render it.`,
		Example: `  kmsgrant plan --state state.json --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader --prefix reports/
  kmsgrant apply --profile data-owner --bucket doc-example-bucket \
    --grantee arn:aws:iam::444455556666:role/reader
  kmsgrant explain --state state.json --grantee arn:aws:iam::444455556666:role/reader \
    --object s3://doc-example-bucket/reports/q1.csv`,
		Version:       f.Build.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate(versionText(f) + "\n")
	root.Flags().BoolP("version", "v", false, "print kmsgrant's version, as 'kmsgrant version' does")
	var noColor bool
	root.PersistentFlags().BoolVar(&noColor, "no-color", false, "no colour in the output, whatever the terminal and NO_COLOR, CLICOLOR_FORCE or FORCE_COLOR say")
	root.PersistentFlags().BoolVar(&f.Debug, "debug", false, "log every AWS call on stderr: service, operation, Region, target, HTTP status and time")
	root.PersistentPreRun = func(*cobra.Command, []string) {
		if noColor {
			f.IO.SetColorEnabled(false)
		}
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		usage := fmt.Sprintf("run '%s --help' for usage", c.CommandPath())
		if near := nearFlags(c, err); len(near) > 0 {
			return &hintError{err: err, hint: "did you mean " + orList(near) + "? (" + usage + ")"}
		}
		return &hintError{err: err, hint: usage}
	})
	root.AddCommand(NewCmdPlan(f, nil), NewCmdApply(f, nil), NewCmdSnapshot(f, nil), NewCmdRevoke(f, nil), NewCmdRestore(f, nil), NewCmdExplain(f, nil), NewCmdVersion(f))
	return root
}

// Main runs kmsgrant with the process's arguments and returns its exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C stops the run after the call in flight, and
		// rolls back what was written; a second one ends it at once.
		<-ctx.Done()
		stop()
	}()
	return execute(ctx, NewFactory(), os.Args[1:])
}

// execute runs the command tree on args and returns the exit code, having
// printed any error once.
func execute(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := checkDashes(root, args)
	if err == nil {
		err = root.ExecuteContext(ctx)
	}
	if err != nil && ctx.Err() != nil {
		err = interrupted(err)
	}
	return exitCode(err, f.IO.ErrOut)
}

// interrupted is the error of a run stopped by Ctrl-C (or SIGTERM): what
// was written and what was not, instead of the error of the call the
// interrupt cancelled ("operation error S3: GetBucketLocation, …, context
// canceled"). An error the command already put in its own words, such as
// a cancelled confirmation, is kept.
func interrupted(err error) error {
	var we *apply.WriteError
	switch {
	case errors.As(err, &we):
		return fmt.Errorf("interrupted; %s", we.Written())
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "context canceled"):
		return errors.New("interrupted; nothing was written")
	}
	return err
}

// checkDashes refuses a long flag typed with one dash, as Terraform takes
// them (-out=x.plan, -auto-approve), before the flag parser reads it as
// shorthand flags (-o ut=x.plan) and fails on something the person did not
// type; it names the flag with two dashes.
func checkDashes(root *cobra.Command, args []string) error {
	cmd, _, err := root.Find(args)
	if err != nil {
		return nil
	}
	var typed, meant []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "--") {
			// A flag that takes a value, given apart, is followed by it.
			if name, _, hasValue := strings.Cut(a[2:], "="); !hasValue {
				if fl := cmd.Flag(name); fl != nil && fl.NoOptDefVal == "" {
					i++
				}
			}
			continue
		}
		if !strings.HasPrefix(a, "-") || len(a) < 3 {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if fl := cmd.Flag(name); fl != nil && len(name) > 1 {
			typed, meant = append(typed, a), append(meant, "-"+a)
		}
	}
	if len(typed) == 0 {
		return nil
	}
	return &hintError{
		err:  fmt.Errorf("%s: kmsgrant's long flags take two dashes", strings.Join(typed, " ")),
		hint: "did you mean " + strings.Join(meant, " ") + "?",
	}
}

// nearFlags returns the flags of c nearest to the unknown one err names,
// for a "did you mean" hint.
func nearFlags(c *cobra.Command, err error) []string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return nil
	}
	var names []string
	c.Flags().VisitAll(func(fl *pflag.Flag) {
		if !fl.Hidden {
			names = append(names, fl.Name)
		}
	})
	c.InheritedFlags().VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	var out []string
	for _, n := range generate.Closest(name, names) {
		out = append(out, "--"+n)
	}
	return out
}

// exitCode prints an error once, with its hint, and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent && ee.err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	var he *hintError
	if errors.As(err, &he) && he.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", he.hint)
	}
	return ExitError
}
