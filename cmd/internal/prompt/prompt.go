// Package prompt asks a person to confirm. The survey library behind it is
// no longer maintained, so it is kept behind the one-method Prompter
// interface and can be swapped without touching the commands.
package prompt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/core"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// Prompter asks yes-or-no questions.
type Prompter interface {
	// Confirm asks message and reports whether the answer was exactly
	// "yes". help is shown when the person types "?".
	Confirm(message, help string) (bool, error)
}

// ErrInterrupted is returned when the person pressed Ctrl-C at the prompt.
var ErrInterrupted = errors.New("interrupted")

// Survey is a Prompter on a terminal, drawn with the survey library.
type Survey struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// NoColor draws the prompt without colour.
	NoColor bool
}

// Confirm implements Prompter. Only the exact word yes approves, as in
// Terraform, so a stray "y" or Enter never changes a security policy.
func (s Survey) Confirm(message, help string) (bool, error) {
	in, ok := s.In.(*os.File)
	out, ok2 := s.Out.(*os.File)
	if !ok || !ok2 {
		return false, fmt.Errorf("prompt: input and output must be terminals")
	}
	// survey keeps its colour switch in a package variable; kmsgrant asks
	// one question per run, so setting it here is safe.
	core.DisableColor = s.NoColor
	var answer string
	q := &survey.Input{Message: message, Help: help}
	err := survey.AskOne(q, &answer, survey.WithStdio(in, out, s.Err))
	if errors.Is(err, terminal.InterruptErr) {
		return false, ErrInterrupted
	}
	if err != nil {
		return false, fmt.Errorf("prompt: %w", err)
	}
	return strings.TrimSpace(answer) == "yes", nil
}
