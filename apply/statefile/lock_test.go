package statefile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func newStateFile(t *testing.T) (dir, name string) {
	t.Helper()
	dir = t.TempDir()
	name = filepath.Join(dir, "state.json")
	if err := os.WriteFile(name, seedData(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, name
}

// A second lock of the same state file waits, says who holds it, and gives
// up after its timeout or when its context ends; once released, the lock
// can be taken again.
func TestLockIsExclusive(t *testing.T) {
	_, name := newStateFile(t)
	first, err := AcquireLock(context.Background(), name, "apply", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	_, err = AcquireLock(context.Background(), name, "revoke", 150*time.Millisecond, func(holder string) { told = append(told, holder) })
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if len(told) != 1 || !strings.HasPrefix(told[0], "kmsgrant apply, pid ") {
		t.Errorf("waiting was told %q, want once who holds the lock", told)
	}
	if !strings.Contains(err.Error(), LockPath(name)) || !strings.HasSuffix(err.Error(), "gave up after waiting 150ms") {
		t.Errorf("err = %v, want it to name the lock file and the wait", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AcquireLock(ctx, name, "apply", time.Minute, nil); !errors.Is(err, ErrLocked) || !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled context: err = %v, want ErrLocked and context.Canceled", err)
	}

	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	second, err := AcquireLock(context.Background(), name, "apply", 0, nil)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	second.Release()
}

// Two paths to one state file, through a symbolic link, share its lock.
func TestLockFollowsSymlinks(t *testing.T) {
	dir, name := newStateFile(t)
	link := filepath.Join(t.TempDir(), "linked.json")
	if err := os.Symlink(name, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if LockPath(link) != filepath.Join(dir, ".state.json.lock") {
		t.Errorf("LockPath(link) = %s", LockPath(link))
	}
	l, err := AcquireLock(context.Background(), name, "apply", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := AcquireLock(context.Background(), link, "apply", 0, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("locking through the link: err = %v, want ErrLocked", err)
	}
}

// Taking the lock removes the temporary files a killed run left, and
// nothing else.
func TestLockRemovesStaleTemporaryFiles(t *testing.T) {
	dir, name := newStateFile(t)
	for _, f := range []string{".state.json.tmp-123", ".state.json.tmp-9", ".state.json.tmp-abc", "state.json.tmp-1", ".other.json.tmp-1", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := AcquireLock(context.Background(), name, "apply", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{".other.json.tmp-1", ".state.json.lock", ".state.json.tmp-abc", "notes.txt", "state.json", "state.json.tmp-1"}
	if !slices.Equal(left, want) {
		t.Errorf("files left %v, want %v", left, want)
	}
}

// No lock file is made beside a state file that does not exist.
func TestLockOfAMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := AcquireLock(context.Background(), filepath.Join(dir, "nope.json"), "apply", 0, nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a missing file", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files made: %v", entries)
	}
}
