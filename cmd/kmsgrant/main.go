// Command kmsgrant fixes cross-account Access Denied on S3 objects encrypted
// with a KMS customer managed key. See README.md.
package main

import (
	"os"

	"github.com/kmsgrant/kmsgrant/cmd/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
