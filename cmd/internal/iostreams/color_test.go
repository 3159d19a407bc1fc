package iostreams

import "testing"

func TestColorFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		tty, want bool
	}{
		{name: "terminal", tty: true, want: true},
		{name: "pipe", want: false},
		{name: "NO_COLOR", env: map[string]string{"NO_COLOR": "1"}, tty: true, want: false},
		{name: "NO_COLOR of any value", env: map[string]string{"NO_COLOR": "false"}, tty: true, want: false},
		{name: "empty NO_COLOR does not count", env: map[string]string{"NO_COLOR": ""}, tty: true, want: true},
		{name: "CLICOLOR_FORCE through a pipe", env: map[string]string{"CLICOLOR_FORCE": "1"}, want: true},
		{name: "FORCE_COLOR through a pipe", env: map[string]string{"FORCE_COLOR": "true"}, want: true},
		{name: "CLICOLOR_FORCE=0 forces nothing", env: map[string]string{"CLICOLOR_FORCE": "0"}, want: false},
		{name: "empty FORCE_COLOR forces nothing", env: map[string]string{"FORCE_COLOR": ""}, want: false},
		{name: "NO_COLOR wins over CLICOLOR_FORCE", env: map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, tty: true, want: false},
		{name: "CLICOLOR=0", env: map[string]string{"CLICOLOR": "0"}, tty: true, want: false},
		{name: "CLICOLOR=1 on a pipe", env: map[string]string{"CLICOLOR": "1"}, want: false},
		{name: "dumb terminal", env: map[string]string{"TERM": "dumb"}, tty: true, want: false},
		{name: "forced on a dumb terminal", env: map[string]string{"TERM": "dumb", "CLICOLOR_FORCE": "1"}, tty: true, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ColorFromEnv(func(k string) string { return tc.env[k] }, tc.tty); got != tc.want {
				t.Errorf("ColorFromEnv = %v, want %v", got, tc.want)
			}
		})
	}
}
