//go:build !unix

package apply

import "os"

// openFlags is a plain read-only open: outside Unix, opening a named pipe
// does not wait for the other end.
const openFlags = os.O_RDONLY
