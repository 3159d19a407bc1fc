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
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestApplyPromptOnTerminal runs kmsgrant apply on a pseudo-terminal, the
// way a person would, and answers the confirmation prompt.
func TestApplyPromptOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answer     string
		wantWrite  bool
		wantOutput string
	}{
		{name: "yes applies", answer: "yes", wantWrite: true, wantOutput: "Apply complete: 1 created, 3 updated."},
		{name: "y is not yes", answer: "y", wantWrite: false, wantOutput: "apply cancelled; nothing was changed"},
		{name: "no cancels", answer: "no", wantWrite: false, wantOutput: "apply cancelled; nothing was changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state.json")
			orig, err := os.ReadFile("../../examples/seed/state.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(state, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			// The deadline only keeps a hung prompt from hanging the suite.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "apply", "--state", state, "--bucket", "doc-example-bucket",
				"--grantee", "arn:aws:iam::444455556666:role/reader", "--prefix", "reports/")
			// Backups go to the test's own folder, as the harness
			// (testenv) requires.
			cmd.Env = append(os.Environ(), runMainEnv+"=1", "TERM=xterm", "NO_COLOR=1", "XDG_CONFIG_HOME="+t.TempDir())
			ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
			if err != nil {
				t.Fatal(err)
			}
			defer ptmx.Close()

			out := &terminal{pty: ptmx}
			done := make(chan struct{})
			go func() {
				out.run()
				close(done)
			}()
			waitFor(t, out, "Apply these changes?")
			// The prompt asks the terminal where the cursor is, twice,
			// before it reads an answer; typing earlier would be read as
			// the terminal's reply.
			waitUntil(t, out, "two cursor position requests", func() bool { return out.answeredCPRs() >= 2 })
			if _, err := ptmx.Write([]byte(tc.answer + "\r")); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			<-done
			if tc.wantWrite != (err == nil) {
				t.Errorf("exit error = %v, want success %v; output:\n%s", err, tc.wantWrite, out.String())
			}
			if !strings.Contains(out.String(), tc.wantOutput) {
				t.Errorf("output lacks %q:\n%s", tc.wantOutput, out.String())
			}
			after, err := os.ReadFile(state)
			if err != nil {
				t.Fatal(err)
			}
			if changed := !bytes.Equal(after, orig); changed != tc.wantWrite {
				t.Errorf("state file changed = %v, want %v", changed, tc.wantWrite)
			}
			info, err := os.Stat(state)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("state file mode = %v, want the original 0600", info.Mode().Perm())
			}
		})
	}
}

// terminal plays the terminal emulator's part: it records what the program
// writes and answers cursor position requests (ESC [6n), which the prompt
// library sends and waits on.
type terminal struct {
	pty io.ReadWriter
	mu  sync.Mutex
	buf bytes.Buffer
	// cprs counts the cursor position requests answered.
	cprs int
}

func (t *terminal) run() {
	chunk := make([]byte, 4096)
	for {
		n, err := t.pty.Read(chunk)
		if n > 0 {
			t.mu.Lock()
			t.buf.Write(chunk[:n])
			t.mu.Unlock()
			for range bytes.Count(chunk[:n], []byte("\x1b[6n")) {
				_, _ = t.pty.Write([]byte("\x1b[1;1R"))
				t.mu.Lock()
				t.cprs++
				t.mu.Unlock()
			}
		}
		if err != nil {
			return
		}
	}
}

func (t *terminal) answeredCPRs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cprs
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

// On a terminal the plan is coloured, unless NO_COLOR is set; the prompt
// follows the same rule.
func TestColourOnlyOnTerminalWithoutNoColor(t *testing.T) {
	sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`)
	for _, tc := range []struct {
		name      string
		env       []string
		wantColor bool
	}{
		{"terminal", nil, true},
		{"terminal with NO_COLOR", []string{"NO_COLOR=1"}, false},
		{"dumb terminal", []string{"TERM=dumb"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "plan", "--state", "../../examples/seed/state.json",
				"--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:role/reader")
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
			out := &terminal{pty: ptmx}
			done := make(chan struct{})
			go func() { out.run(); close(done) }()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("plan: %v\n%s", err, out.String())
			}
			<-done
			if got := sgr.MatchString(out.String()); got != tc.wantColor {
				t.Errorf("colour = %v, want %v:\n%q", got, tc.wantColor, out.String())
			}
		})
	}
}
