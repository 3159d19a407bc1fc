//go:build unix

package statefile

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kmsgrant/kmsgrant/generate"
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

// A state file swapped for a named pipe between the read and the write is
// refused at once when Flush reads it again, not waited on.
func TestFlushFileReplacedByNamedPipe(t *testing.T) {
	name := filepath.Join(t.TempDir(), "state.json")
	f := openSeedCopy(t, name)
	ctx := context.Background()
	b, _ := f.Bucket(ctx, "doc-example-bucket")
	enc := *b.Encryption
	enc.KMSMasterKeyID = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	if err := f.Write(ctx, generate.Change{Kind: generate.KindBucketEncryption, Account: "111122223333", Target: "arn:aws:s3:::doc-example-bucket", Encryption: &enc}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Flush(ctx) }()
	select {
	case err := <-done:
		want := "writing state file: " + name + ": not a regular file (a named pipe)"
		if err == nil || err.Error() != want {
			t.Errorf("Flush error = %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Flush did not return")
	}
}
