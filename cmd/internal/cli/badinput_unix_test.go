//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --state naming a named pipe or a link to a device fails at once with one
// line saying what it is: it neither waits for a writer (deaf to Ctrl-C)
// nor reads until memory runs out.
func TestStateNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.json")); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"fifo.json": "Error: --state: reading state file: $DIR/fifo.json: not a regular file (a named pipe)\n",
		"zero.json": "Error: --state: reading state file: $DIR/zero.json: not a regular file (a device)\n",
	} {
		t.Run(file, func(t *testing.T) {
			type result struct {
				code   int
				stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, _, stderr := run(t, dir, "plan", "--state", "$DIR/"+file, "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:role/reader")
				done <- result{code, stderr}
			}()
			select {
			case r := <-done:
				want = strings.ReplaceAll(want, "$DIR", dir)
				if r.code != 1 || r.stderr != want {
					t.Errorf("exit %d, stderr %q; want exit 1, %q", r.code, r.stderr, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("kmsgrant did not return")
			}
		})
	}
}

// --cloudtrail-event naming a named pipe fails at once, as --state does.
func TestCloudTrailEventNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "events.json"), 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	done := make(chan string, 1)
	go func() {
		_, _, stderr := run(t, dir, "explain", "--cloudtrail-event", "$DIR/events.json")
		done <- stderr
	}()
	select {
	case stderr := <-done:
		if want := "Error: --cloudtrail-event: " + dir + "/events.json: not a regular file (a named pipe)\n"; stderr != want {
			t.Errorf("stderr %q, want %q", stderr, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("kmsgrant did not return")
	}
}
