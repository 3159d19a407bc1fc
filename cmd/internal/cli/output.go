package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// addOutputFlag registers --output (-o) on commands that print either for
// people (text, the default) or for programs (json).
func addOutputFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "output", "o", "text", "output `FORMAT`: text or json")
}

// checkOutput rejects an --output value other than text or json before
// anything is read.
func checkOutput(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("--output: unknown format %q (want text or json)", format)
	}
	return nil
}
