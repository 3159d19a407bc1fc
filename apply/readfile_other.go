//go:build !unix

package apply

import "os"

// openFlags is a plain read-only open: outside Unix, opening a file does
// not wait on a named pipe's writer.
const openFlags = os.O_RDONLY
