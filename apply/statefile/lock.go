package statefile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// ErrLocked is returned when another run holds a state file's lock for
// longer than the caller would wait.
var ErrLocked = errors.New("state file is locked")

// Lock is an exclusive lock on a state file, held by one writing run from
// its read to its write so that concurrent runs are serialised instead of
// overwriting each other's changes.
//
// The lock is an advisory lock (flock on Unix, LockFileEx on Windows) on a
// lock file beside the state file. The operating system releases it when
// the process exits, however it exits, so a crashed or killed run never
// leaves a lock behind. The lock file itself is never removed: removing it
// would let two runs lock two different files of the same name.
type Lock struct {
	file *os.File
	// Path is the lock file.
	Path string
}

// LockInfo is what a lock file says about the run holding it, for the
// messages of the runs that wait.
type LockInfo struct {
	PID       int       `json:"pid"`
	Operation string    `json:"operation"`
	Host      string    `json:"host,omitempty"`
	Created   time.Time `json:"created"`
}

func (i LockInfo) String() string {
	s := fmt.Sprintf("kmsgrant %s, pid %d", i.Operation, i.PID)
	if i.Host != "" {
		s += " on " + i.Host
	}
	return s + ", since " + i.Created.Local().Format(time.TimeOnly)
}

// LockPath is the lock file of the state file name: beside the file it
// names once symbolic links are resolved, so two paths to one state file
// share one lock.
func LockPath(name string) string {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	return filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".lock")
}

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 100 * time.Millisecond

// AcquireLock takes the lock of the state file name for operation ("apply",
// "revoke", "restore"). When another run holds it, waiting is called once
// with what the lock file says of that run, and AcquireLock tries again
// until timeout has passed (a timeout of 0 tries once) or ctx is done; then
// it returns an error matching ErrLocked.
//
// Once it holds the lock, temporary files a killed run left beside the
// state file are removed: no other run can be writing them.
func AcquireLock(ctx context.Context, name, operation string, timeout time.Duration, waiting func(holder string)) (*Lock, error) {
	// No lock file is left beside a state file that is not there.
	if _, err := os.Stat(name); err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	path := LockPath(name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, os.ErrPermission) {
		// Another user's lock file, in a folder shared with a group: an
		// advisory lock needs no write access to it (it is then only
		// not told who holds it).
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the state lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	told := false
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if ok {
			break
		}
		holder := describeHolder(path)
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: %s is held by %s; gave up after waiting %s", ErrLocked, path, holder, timeout)
		}
		if !told && waiting != nil {
			waiting(holder)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%w: %s is held by %s; stopped waiting: %w", ErrLocked, path, holder, ctx.Err())
		case <-time.After(min(lockPoll, time.Until(deadline))):
		}
	}
	l := &Lock{file: f, Path: path}
	l.record(operation)
	removeStaleTemps(name)
	return l, nil
}

// record writes who holds the lock into the lock file. It is only for
// messages: a failure to write it does not matter.
func (l *Lock) record(operation string) {
	host, _ := os.Hostname()
	data, _ := json.Marshal(LockInfo{PID: os.Getpid(), Operation: operation, Host: host, Created: time.Now().UTC()})
	if err := l.file.Truncate(0); err == nil {
		_, _ = l.file.WriteAt(append(data, '\n'), 0)
	}
}

// describeHolder reads what the lock file says of the run holding it.
func describeHolder(path string) string {
	data, err := os.ReadFile(path)
	var info LockInfo
	if err != nil || json.Unmarshal(data, &info) != nil || info.PID == 0 {
		return "another program (a kmsgrant run, or an editor taking the lock)"
	}
	return info.String()
}

// Release gives the lock up. The lock file stays, empty of any holder.
func (l *Lock) Release() error {
	if l == nil || l.file == nil {
		return nil
	}
	_ = l.file.Truncate(0)
	err := unlock(l.file)
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.file = nil
	return err
}

// removeStaleTemps removes the temporary files Flush writes before its
// rename (".NAME.tmp-DIGITS") that a run killed in between left behind.
// Only the lock holder calls it, so none of them is being written.
func removeStaleTemps(name string) {
	target := name
	if t, err := filepath.EvalSymlinks(name); err == nil {
		target = t
	}
	dir := filepath.Dir(target)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	temp := regexp.MustCompile(`^` + regexp.QuoteMeta("."+filepath.Base(target)+".tmp-") + `[0-9]+$`)
	for _, e := range entries {
		if e.Type().IsRegular() && temp.MatchString(e.Name()) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
