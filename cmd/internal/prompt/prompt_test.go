package prompt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func on(in io.Reader, out io.Writer) Line {
	return Line{Open: func() (io.Reader, io.Writer, func() error, error) {
		return in, out, func() error { return nil }, nil
	}}
}

func TestLineInput(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
		wantErr           error
	}{
		{name: "yes", input: "yes\n", want: "yes"},
		{name: "spaces and a carriage return", input: "  yes \r\n", want: "yes"},
		{name: "only the first line", input: "no\nyes\n", want: "no"},
		{name: "empty line", input: "\n", want: ""},
		{name: "a line the input ended in", input: "yes", want: "yes"},
		{name: "input ended at once", input: "", wantErr: ErrNoAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := on(strings.NewReader(tc.input), &out).Input(context.Background(), "Approve? ")
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("Input = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if !strings.HasPrefix(out.String(), "Approve? ") {
				t.Errorf("output %q lacks the question", out.String())
			}
		})
	}
}

// Ctrl-C cancels the run's context; the prompt gives up at once, though
// the input never answers.
func TestLineInputInterrupted(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if _, err := on(r, io.Discard).Input(ctx, "Approve? "); !errors.Is(err, ErrInterrupted) {
		t.Errorf("err = %v, want ErrInterrupted", err)
	}
}

func TestLineInputWithoutTerminal(t *testing.T) {
	noTerminal := errors.New("no terminal")
	l := Line{Open: func() (io.Reader, io.Writer, func() error, error) { return nil, nil, nil, noTerminal }}
	if _, err := l.Input(context.Background(), "Approve? "); !errors.Is(err, noTerminal) {
		t.Errorf("err = %v, want the Open error", err)
	}
}
