package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
)

// golden compares got with testdata/NAME, or rewrites it with
// KMSGRANT_UPDATE=1.
func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("KMSGRANT_UPDATE") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with KMSGRANT_UPDATE=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// exampleLater are the commands whose help has no examples yet.
var exampleLater = map[string]bool{}

// The help of every command is kept in a golden file, so a change to a
// flag or a word of it shows in review.
func TestHelpGolden(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&Factory{IO: io})
	names := []string{""}
	for _, c := range root.Commands() {
		if c.Name() != "help" && c.Name() != "completion" && !exampleLater[c.Name()] {
			names = append(names, c.Name())
		}
	}
	for _, name := range names {
		t.Run("kmsgrant "+name, func(t *testing.T) {
			io, _, out, errOut := iostreams.Test()
			args := strings.Fields(name + " --help")
			if code := execute(context.Background(), &Factory{IO: io, Build: Build{Version: "test"}}, args); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, filepath.Join("help", strings.Join(append([]string{"kmsgrant"}, strings.Fields(name)...), "_")+".txt"), out.String())
		})
	}
}

// Every command's help shows how to use it, and no example writes to a
// checked-in example state file.
func TestEveryCommandHasExamples(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	root := NewCmdRoot(&Factory{IO: io})
	if root.Example == "" {
		t.Error("kmsgrant --help has no examples")
	}
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" || exampleLater[c.Name()] {
			continue
		}
		if c.Example == "" {
			t.Errorf("kmsgrant %s --help has no examples", c.Name())
		}
		for _, line := range strings.Split(strings.ReplaceAll(c.Example, "\\\n", ""), "\n") {
			for _, verb := range []string{"kmsgrant apply", "kmsgrant revoke", "kmsgrant restore"} {
				if strings.Contains(line, verb) && strings.Contains(line, "--state examples/") {
					t.Errorf("kmsgrant %s --help: an example writes to a checked-in example: %s", c.Name(), line)
				}
			}
		}
	}
}

// What a person sees for the mistakes people make at the terminal: one
// error line saying exactly what is wrong and, where there is one, a hint
// with what to type instead.
func TestErrorsGolden(t *testing.T) {
	const role = "arn:aws:iam::444455556666:role/reader"
	seed, err := os.ReadFile("../../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	state := func(extra ...string) []string {
		return append([]string{"--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", role}, extra...)
	}
	cases := [][]string{
		{"plan"},
		{"apply", "--state", "$DIR/state.json"},
		{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket"},
		append([]string{"plan"}, state("-out=reader.plan")...),
		append([]string{"apply"}, state("-auto-approve")...),
		append([]string{"plan"}, state("--prefx", "reports/")...),
		append([]string{"apply"}, state("--auto-aprove")...),
		append([]string{"plan"}, state("--output", "yaml")...),
		append([]string{"revoke"}, state("--access", "write")...),
		{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam:444455556666:role/reader"},
		{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "44445555666"},
		{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "4444-5555-6666"},
		{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", " " + role + " "},
		{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:Role/reader"},
		append([]string{"apply"}, state()...),
	}
	var b strings.Builder
	for _, args := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "state.json"), seed, 0o600); err != nil {
			t.Fatal(err)
		}
		shown := make([]string, len(args))
		for i, a := range args {
			shown[i] = a
			if strings.ContainsAny(a, " ") {
				shown[i] = fmt.Sprintf("'%s'", a)
			}
		}
		code, _, stderr := run(t, dir, append([]string(nil), args...)...)
		fmt.Fprintf(&b, "$ kmsgrant %s\n%s[exit %d]\n\n", strings.Join(shown, " "), strings.ReplaceAll(stderr, dir, "$DIR"), code)
	}
	golden(t, "errors.txt", b.String())
}
