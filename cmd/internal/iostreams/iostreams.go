// Package iostreams carries kmsgrant's standard streams and what is known
// about them (terminals, colour), so no code below main touches os.Stdout
// and tests can give each command plain buffers.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are a command's input and outputs.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	color                          bool
}

// System returns the process's streams. Colour is on only when stdout is a
// terminal, NO_COLOR is unset (https://no-color.org) and TERM is not dumb.
func System() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	s.color = s.stdoutTTY && !noColor && os.Getenv("TERM") != "dumb"
	return s
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams on buffers, none of them a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks the streams as terminals or not, for tests.
func (s *IOStreams) SetTTY(stdin, stdout bool) {
	s.stdinTTY, s.stdoutTTY = stdin, stdout
}

// CanPrompt reports whether a person can answer a question: stdin and
// stdout are both terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// ColorEnabled reports whether stdout should carry colour.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// PromptOut returns where a prompt should be drawn: stderr when it is a
// terminal, so stdout keeps only the plan; stdout otherwise.
func (s *IOStreams) PromptOut() io.Writer {
	if s.stderrTTY {
		return s.ErrOut
	}
	return s.Out
}
