// Package prompt asks a person a question on the terminal. Commands see only
// the one-method Prompter interface, so the way of asking can be swapped
// (a prompt library, a fake in tests) without touching them.
package prompt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Prompter asks a person a question.
type Prompter interface {
	// Input shows message and returns the line the person typed, without
	// the spaces around it. It returns ErrInterrupted when ctx ends first
	// (Ctrl-C), and ErrNoAnswer when the input ends before a line does.
	Input(ctx context.Context, message string) (string, error)
}

var (
	// ErrInterrupted is returned when the person pressed Ctrl-C at the
	// prompt.
	ErrInterrupted = errors.New("interrupted")
	// ErrNoAnswer is returned when the input ended (Ctrl-D) before an
	// answer.
	ErrNoAnswer = errors.New("the input ended before an answer")
)

// Line is a Prompter that writes the question and reads one line with the
// terminal left in its ordinary line mode: the terminal itself echoes,
// edits the line and turns Ctrl-C into an interrupt. It never queries the
// terminal (prompt libraries that draw in place ask it for the cursor
// position, and wait forever on a terminal that does not answer), so it
// cannot hang on one.
type Line struct {
	// Open returns the terminal to ask on: what to read the answer from,
	// where to write the question, and how to let go of them.
	Open func() (in io.Reader, out io.Writer, release func() error, err error)
}

// Input implements Prompter.
func (l Line) Input(ctx context.Context, message string) (string, error) {
	in, out, release, err := l.Open()
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	defer release()
	if _, err := io.WriteString(out, message); err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	type answer struct {
		line string
		err  error
	}
	// The read blocks until a line comes; on an interrupt it is left
	// behind, and the process ends soon after.
	got := make(chan answer, 1)
	go func() {
		line, err := readLine(in)
		got <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		// The terminal echoed ^C where the answer was being typed.
		fmt.Fprintln(out)
		return "", ErrInterrupted
	case a := <-got:
		if errors.Is(a.err, io.EOF) && a.line == "" {
			fmt.Fprintln(out)
			return "", ErrNoAnswer
		}
		if a.err != nil && !errors.Is(a.err, io.EOF) {
			return "", fmt.Errorf("prompt: %w", a.err)
		}
		return strings.TrimSpace(a.line), nil
	}
}

// readLine reads up to a newline, a byte at a time, so that nothing after
// the answer is taken from the input.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}
