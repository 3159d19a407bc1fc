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
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
	"github.com/kmsgrant/kmsgrant/cmd/internal/prompt"
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
	Version   string
}

// NewFactory returns the factory of a real run.
func NewFactory() *Factory {
	io := iostreams.System()
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
		Version: buildVersion(),
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
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
account's S3 bucket encrypted with a KMS customer managed key.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &hintError{err: err, hint: fmt.Sprintf("run '%s --help' for usage", c.CommandPath())}
	})
	root.AddCommand(NewCmdPlan(f, nil), NewCmdApply(f, nil), NewCmdSnapshot(f, nil), NewCmdRevoke(f, nil), NewCmdRestore(f, nil), NewCmdExplain(f, nil), NewCmdVersion(f))
	return root
}

// Main runs kmsgrant with the process's arguments and returns its exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := NewFactory()
	root := NewCmdRoot(f)
	root.SetArgs(os.Args[1:])
	return exitCode(root.ExecuteContext(ctx), f.IO.ErrOut)
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
