package apply

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxFileSize is the most kmsgrant reads of a file it is given: a state
// file, a saved plan, a backup, a policy. The largest of these, a state file
// of an organisation with thousands of buckets and roles, runs to tens of
// megabytes (50 MB fits five times over); beyond that a path most likely
// names something else by mistake (a log, a link to /dev/zero), and since
// kmsgrant holds a file in memory several times over while it parses and
// edits it, refusing it here is what keeps memory bounded.
const MaxFileSize = 256 << 20

// ReadFile reads a file a person named, refusing anything that is not a
// regular file (a named pipe would block the open, and the read, forever; a
// device may never end) and files larger than limit bytes. Errors name the
// file and what is wrong with it.
func ReadFile(name string, limit int64) ([]byte, error) {
	// openFlags keeps the open from waiting for a writer when name is a
	// named pipe; the file's type is checked on what was opened, so a
	// link or a swap after a check cannot slip something else in.
	f, err := os.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", name, fileKind(info.Mode()))
	}
	if info.Size() > limit {
		return nil, tooLarge(name, limit)
	}
	// The size may change after Stat, and some files (under /proc) report
	// none: the read itself stops one byte past the limit.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	return data, nil
}

func tooLarge(name string, limit int64) error {
	size := fmt.Sprintf("%d bytes", limit)
	if limit >= 1<<20 && limit%(1<<20) == 0 {
		size = fmt.Sprintf("%d MiB", limit>>20)
	}
	return fmt.Errorf("%s: larger than the %s kmsgrant reads", name, size)
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
