//go:build unix

package apply

import (
	"os"
	"syscall"
)

// openFlags opens without blocking: opening a named pipe for reading
// otherwise waits for a writer, with no way to interrupt it.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
