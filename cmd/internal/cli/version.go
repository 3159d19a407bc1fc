package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// NewCmdVersion builds `kmsgrant version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kmsgrant's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(f.IO.Out, "kmsgrant %s\n", f.Version)
			return err
		},
	}
}
