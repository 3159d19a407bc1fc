//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
)

// seedState copies the seed example into the test's folder, with the mode
// 0600, and returns its path and content.
func seedState(t *testing.T) (string, []byte) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state.json")
	orig, err := os.ReadFile("../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	return state, orig
}

// kmsgrantCmd is the test binary run as kmsgrant apply on a copy of the
// seed, with backups in the test's own folder (testenv requires it).
func kmsgrantCmd(ctx context.Context, t *testing.T, state string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "apply", "--state", state, "--bucket", "doc-example-bucket",
		"--grantee", "arn:aws:iam::444455556666:role/reader", "--prefix", "reports/")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TERM=xterm", "NO_COLOR=1", "XDG_CONFIG_HOME="+t.TempDir())
	return cmd
}

// TestApplyPromptOnTerminal runs kmsgrant apply on a pseudo-terminal, the
// way a person would, and answers the confirmation prompt. The terminal
// never answers a cursor position request (ESC [6n), as some CI and
// editor terminals do not: the prompt must not wait for one.
func TestApplyPromptOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		typed      string
		wantWrite  bool
		wantOutput string
	}{
		{name: "yes applies", typed: "yes\r", wantWrite: true, wantOutput: "Apply complete: 1 created, 3 updated."},
		{name: "y is not yes", typed: "y\r", wantOutput: `Error: apply cancelled: the answer was "y", and only 'yes' approves; nothing was changed`},
		{name: "no cancels", typed: "no\r", wantOutput: `Error: apply cancelled: the answer was "no", and only 'yes' approves; nothing was changed`},
		{name: "Enter cancels", typed: "\r", wantOutput: "Error: apply cancelled: no answer was typed, and only 'yes' approves; nothing was changed"},
		{name: "Ctrl-C cancels", typed: "\x03", wantOutput: "Error: apply cancelled (interrupted at the prompt); nothing was changed"},
		{name: "Ctrl-D cancels", typed: "\x04", wantOutput: "Error: apply cancelled: the input ended before an answer; nothing was changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, orig := seedState(t)
			// The deadline only keeps a hung prompt from hanging the suite.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := kmsgrantCmd(ctx, t, state)
			ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
			if err != nil {
				t.Fatal(err)
			}
			defer ptmx.Close()
			out := watch(ptmx)
			waitFor(t, out, "Only 'yes' will be accepted to approve.\r\n\r\n  Enter a value: ")
			if _, err := ptmx.Write([]byte(tc.typed)); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			<-out.done
			if tc.wantWrite != (err == nil) {
				t.Errorf("exit error = %v, want success %v; output:\n%s", err, tc.wantWrite, out)
			}
			if !strings.Contains(out.String(), tc.wantOutput) {
				t.Errorf("output lacks %q:\n%s", tc.wantOutput, out)
			}
			if n := out.cursorRequests(); n > 0 {
				t.Errorf("the prompt asked the terminal for the cursor position %d times", n)
			}
			checkState(t, state, orig, tc.wantWrite)
		})
	}
}

// checkState checks whether the state file was written, and that it kept
// its mode.
func checkState(t *testing.T, state string, orig []byte, wantWrite bool) {
	t.Helper()
	after, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if changed := !bytes.Equal(after, orig); changed != wantWrite {
		t.Errorf("state file changed = %v, want %v", changed, wantWrite)
	}
	info, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want the original 0600", info.Mode().Perm())
	}
}

// kmsgrant apply | tee apply.log: stdout is a pipe, but stdin and stderr
// are the terminal, so apply asks there and the plan goes down the pipe.
func TestApplyConfirmsOnTerminalWhenStdoutIsPiped(t *testing.T) {
	state, orig := seedState(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := kmsgrantCmd(ctx, t, state)
	var stdout bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	out := watch(ptmx)
	waitFor(t, out, "Enter a value: ")
	if _, err := ptmx.Write([]byte("yes\r")); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("apply: %v\nterminal:\n%s\nstdout:\n%s", err, out, stdout.String())
	}
	if !strings.Contains(stdout.String(), "Plan: 1 to create, 3 to update") || !strings.Contains(stdout.String(), "Apply complete") {
		t.Errorf("stdout lacks the plan and its result:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "Enter a value") {
		t.Errorf("the prompt went down the pipe:\n%s", stdout.String())
	}
	checkState(t, state, orig, true)
}

// With every stream redirected, apply asks on the terminal it was started
// from (/dev/tty); with none at all (CI), it refuses.
func TestApplyConfirmsOnControllingTerminal(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
	}{{"controlling terminal", true}, {"no terminal", false}} {
		t.Run(tc.name, func(t *testing.T) {
			state, orig := seedState(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := kmsgrantCmd(ctx, t, state)
			var stdout, stderr bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader("yes\n"), &stdout, &stderr
			// A new session has no controlling terminal until it is
			// given one.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			var out *terminal
			if tc.terminal {
				ptmx, tty, err := pty.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer ptmx.Close()
				cmd.ExtraFiles = []*os.File{tty} // descriptor 3 in the child
				cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, 3
				defer tty.Close()
				out = watch(ptmx)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !tc.terminal {
				if err := cmd.Wait(); err == nil {
					t.Fatalf("apply without a terminal succeeded:\n%s", stdout.String())
				}
				if want := "Error: refusing to apply without a terminal to confirm on; nothing was changed"; !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
				checkState(t, state, orig, false)
				return
			}
			waitFor(t, out, "Enter a value: ")
			if _, err := out.pty.Write([]byte("yes\r")); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("apply: %v\nterminal:\n%s\nstderr:\n%s", err, out, stderr.String())
			}
			if !strings.Contains(stdout.String(), "Apply complete") {
				t.Errorf("stdout lacks the result:\n%s", stdout.String())
			}
			checkState(t, state, orig, true)
		})
	}
}

// terminal plays the terminal emulator's part: it records what the program
// writes, and counts the cursor position requests (ESC [6n) it never
// answers.
type terminal struct {
	pty  io.ReadWriter
	done chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

// watch records what the program writes on ptmx until it closes.
func watch(ptmx io.ReadWriter) *terminal {
	t := &terminal{pty: ptmx, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		chunk := make([]byte, 4096)
		for {
			n, err := t.pty.Read(chunk)
			t.mu.Lock()
			t.buf.Write(chunk[:n])
			t.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return t
}

func (t *terminal) cursorRequests() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Count(t.buf.Bytes(), []byte("\x1b[6n"))
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// waitFor waits until the terminal output holds want. The deadline only
// guards against a hung prompt; it is not a timing assertion.
func waitFor(t *testing.T, out *terminal, want string) {
	t.Helper()
	waitUntil(t, out, fmt.Sprintf("%q on the terminal", want), func() bool { return strings.Contains(out.String(), want) })
}

func waitUntil(t *testing.T, out *terminal, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s; got:\n%s", what, out.String())
}

// On a terminal the plan is coloured, unless NO_COLOR is set and not
// empty, or --no-color is given.
func TestColourOnlyOnTerminalWithoutNoColor(t *testing.T) {
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	for _, tc := range []struct {
		name      string
		env       []string
		args      []string
		wantColor bool
	}{
		{"terminal", nil, nil, true},
		{"terminal with NO_COLOR", []string{"NO_COLOR=1"}, nil, false},
		{"terminal with an empty NO_COLOR", []string{"NO_COLOR="}, nil, true},
		{"terminal with --no-color", nil, []string{"--no-color"}, false},
		{"dumb terminal", []string{"TERM=dumb"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "plan", "--state", "../../examples/seed/state.json",
				"--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:role/reader")
			cmd.Args = append(cmd.Args, tc.args...)
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(append(env, runMainEnv+"=1", "TERM=xterm"), tc.env...)
			ptmx, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer ptmx.Close()
			out := watch(ptmx)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("plan: %v\n%s", err, out.String())
			}
			<-out.done
			if got := sgr.MatchString(out.String()); got != tc.wantColor {
				t.Errorf("colour = %v, want %v:\n%q", got, tc.wantColor, out.String())
			}
		})
	}
}

// A live run on a terminal says which AWS call is in flight on stderr, on
// one line rewritten in place, and erases it before the plan is printed.
func TestProgressOnTerminal(t *testing.T) {
	seed, err := os.ReadFile("../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := livetest.New(t, seed)
	env, err := writeProfiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "plan", "--owner-profile", "owner", "--grantee-profile", "partner",
		"--endpoint-url", srv.URL, "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:role/reader")
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1", "TERM=xterm", "NO_COLOR=1"), env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	out := watch(ptmx)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	<-out.done
	got := out.String()
	for _, want := range []string{"reading STS GetCallerIdentity", "reading S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket …", "\r\x1b[KGrant arn:aws:iam::444455556666:role/reader"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, got)
		}
	}
	if strings.Contains(got, "debug:") {
		t.Errorf("debug lines without --debug:\n%q", got)
	}
}
