//go:build unix

package apply_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kmsgrant/kmsgrant/apply"
)

// A named pipe with no writer is refused at once: opening it for reading
// must not wait for a writer that never comes.
func TestReadFileNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "state.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := apply.ReadFile(fifo, apply.MaxFileSize)
		done <- err
	}()
	select {
	case err := <-done:
		want := fifo + ": not a regular file (a named pipe)"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	case <-time.After(5 * time.Second):
		// Unblock the open so the goroutine ends with the test.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("ReadFile blocked on a named pipe")
	}
}

// A link to a device that never ends is refused by what it opens, not read
// until memory runs out.
func TestReadFileLinkToDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	link := filepath.Join(t.TempDir(), "state.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	_, err := apply.ReadFile(link, apply.MaxFileSize)
	want := link + ": not a regular file (a device)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}
