package iostreams

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The question goes where a person sees it without it landing in stdout's
// file or pipe, and only a run with no terminal at all cannot ask.
func TestPromptStreams(t *testing.T) {
	device := filepath.Join(t.TempDir(), "tty")
	if err := os.WriteFile(device, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	openDevice := func() (*os.File, error) { return os.OpenFile(device, os.O_RDWR, 0) }
	noDevice := func() (*os.File, error) { return nil, errors.New("no such device") }
	for _, tc := range []struct {
		name                  string
		stdin, stdout, stderr bool
		open                  func() (*os.File, error)
		wantIn, wantOut       string
		wantCanPrompt         bool
	}{
		{name: "all terminals: stdin and stderr", stdin: true, stdout: true, stderr: true, open: noDevice, wantIn: "stdin", wantOut: "stderr", wantCanPrompt: true},
		{name: "stdout piped: stdin and stderr", stdin: true, stderr: true, open: noDevice, wantIn: "stdin", wantOut: "stderr", wantCanPrompt: true},
		{name: "stderr redirected: stdin and stdout", stdin: true, stdout: true, open: noDevice, wantIn: "stdin", wantOut: "stdout", wantCanPrompt: true},
		{name: "everything redirected: the controlling terminal", open: openDevice, wantIn: "device", wantOut: "device", wantCanPrompt: true},
		{name: "stdin piped: the controlling terminal", stdout: true, stderr: true, open: openDevice, wantIn: "device", wantOut: "device", wantCanPrompt: true},
		{name: "no terminal at all", stdout: true, stderr: true, open: noDevice},
		{name: "tests: no device to open", stdin: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetTTY(tc.stdin, tc.stdout, tc.stderr)
			s.openTTY = tc.open
			if got := s.CanPrompt(); got != tc.wantCanPrompt {
				t.Errorf("CanPrompt = %v, want %v", got, tc.wantCanPrompt)
			}
			in, out, release, err := s.PromptStreams()
			if !tc.wantCanPrompt {
				if !errors.Is(err, ErrNoTerminal) {
					t.Errorf("PromptStreams err = %v, want ErrNoTerminal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			name := func(v any) string {
				switch v {
				case s.In:
					return "stdin"
				case s.Out:
					return "stdout"
				case s.ErrOut:
					return "stderr"
				}
				if f, ok := v.(*os.File); ok && f.Name() == device {
					return "device"
				}
				return "something else"
			}
			if name(in) != tc.wantIn || name(out) != tc.wantOut {
				t.Errorf("asks on %s and %s, want %s and %s", name(in), name(out), tc.wantIn, tc.wantOut)
			}
		})
	}
}
