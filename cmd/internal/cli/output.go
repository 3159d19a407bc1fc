package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// The --output formats. Plan renders every one; explain only text and json.
const (
	outputText           = "text"
	outputJSON           = "json"
	outputTerraform      = "terraform"
	outputCloudFormation = "cloudformation"
)

// addOutputFlag registers --output (-o) on commands that print either for
// people (text, the default) or for programs (json, and for plan the
// Terraform and CloudFormation renderings).
func addOutputFlag(cmd *cobra.Command, format *string, formats ...string) {
	cmd.Flags().StringVarP(format, "output", "o", outputText, "output `FORMAT`: "+orList(formats))
	_ = cmd.RegisterFlagCompletionFunc("output", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return matching(formats, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
}

// checkOutput rejects an --output value the command does not render,
// before anything is read.
func checkOutput(format string, formats ...string) error {
	for _, f := range formats {
		if format == f {
			return nil
		}
	}
	return fmt.Errorf("--output: unknown format %q (want %s)", format, orList(formats))
}

// orList joins words as "a, b or c".
func orList(words []string) string { return joinWords(words, "or") }

// andList joins words as "a, b and c".
func andList(words []string) string { return joinWords(words, "and") }

func joinWords(words []string, conjunction string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conjunction + " " + words[len(words)-1]
}
