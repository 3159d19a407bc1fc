// Package iostreams carries kmsgrant's standard streams and what is known
// about them (terminals, colour), so no code below main touches os.Stdout
// and tests can give each command plain buffers.
package iostreams

import (
	"bytes"
	"errors"
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
	// openTTY opens the process's controlling terminal; nil where
	// there is none to open (tests).
	openTTY func() (*os.File, error)
}

// System returns the process's streams, with colour as ColorFromEnv
// decides for them.
func System() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		openTTY:   openControllingTerminal,
	}
	s.color = ColorFromEnv(os.Getenv, s.stdoutTTY)
	return s
}

// ColorFromEnv decides whether stdout carries colour, by the conventions
// people set once in their shell: NO_COLOR, when not empty, turns it off
// (https://no-color.org: an empty NO_COLOR= does not); CLICOLOR_FORCE or
// FORCE_COLOR, when neither empty nor 0, turns it on even when stdout is
// not a terminal, for CI logs that render it; CLICOLOR=0 turns it off.
// Otherwise colour is on exactly when stdout is a terminal that is not
// TERM=dumb. --no-color is applied after this (SetColorEnabled).
func ColorFromEnv(getenv func(string) string, stdoutTTY bool) bool {
	set := func(k string) bool { v := getenv(k); return v != "" && v != "0" }
	switch {
	case getenv("NO_COLOR") != "":
		return false
	case set("CLICOLOR_FORCE") || set("FORCE_COLOR"):
		return true
	case getenv("CLICOLOR") == "0", getenv("TERM") == "dumb":
		return false
	}
	return stdoutTTY
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// openControllingTerminal opens the terminal the process was started
// from, whatever its streams are redirected to; it fails where there is
// none (CI, cron, a service; and on Windows, which has no /dev/tty).
func openControllingTerminal() (*os.File, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if !isTerminal(f) {
		f.Close()
		return nil, ErrNoTerminal
	}
	return f, nil
}

// Test returns streams on buffers, none of them a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks the streams as terminals or not, for tests.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// ErrNoTerminal is returned when there is no terminal to ask a person on.
var ErrNoTerminal = errors.New("no terminal")

// CanPrompt reports whether a person can answer a question: stdin is a
// terminal and so is stderr or stdout, or the process has a controlling
// terminal its streams were redirected away from (kmsgrant apply | tee
// apply.log). Only a run with no terminal at all (CI) cannot prompt.
func (s *IOStreams) CanPrompt() bool {
	_, _, release, err := s.PromptStreams()
	if err != nil {
		return false
	}
	_ = release()
	return true
}

// PromptStreams returns where to ask a person a question: stdin, with the
// question on stderr (or stdout, when only it is a terminal), so that
// stdout keeps only the plan; otherwise the controlling terminal. It
// returns ErrNoTerminal when CanPrompt is false.
func (s *IOStreams) PromptStreams() (in io.Reader, out io.Writer, release func() error, err error) {
	nothing := func() error { return nil }
	switch {
	case s.stdinTTY && s.stderrTTY:
		return s.In, s.ErrOut, nothing, nil
	case s.stdinTTY && s.stdoutTTY:
		return s.In, s.Out, nothing, nil
	case s.openTTY == nil:
		return nil, nil, nil, ErrNoTerminal
	}
	f, err := s.openTTY()
	if err != nil {
		return nil, nil, nil, ErrNoTerminal
	}
	return f, f, f.Close, nil
}

// IsStderrTTY reports whether stderr is a terminal, where progress is
// shown.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// TerminalWidth is the width of the terminal stderr is on, 80 when it is
// not known.
func (s *IOStreams) TerminalWidth() int {
	if f, ok := s.ErrOut.(*os.File); ok && s.stderrTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// ColorEnabled reports whether stdout should carry colour.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// SetColorEnabled turns colour on or off (--no-color; tests).
func (s *IOStreams) SetColorEnabled(on bool) { s.color = on }
