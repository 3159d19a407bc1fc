//go:build unix

package statefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A state file that is a named pipe or a link to a device fails at once
// with what it is, instead of blocking or reading without end.
func TestOpenNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	zero := filepath.Join(dir, "zero.json")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
	}{
		{fifo, "reading state file: " + fifo + ": not a regular file (a named pipe)"},
		{zero, "reading state file: " + zero + ": not a regular file (a device)"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := Open(tc.name)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != tc.want {
				t.Errorf("Open(%s) error = %v, want %q", filepath.Base(tc.name), err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) did not return", filepath.Base(tc.name))
		}
	}
}
