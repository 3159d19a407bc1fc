package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
)

// complete runs the shell completion of args as the completion scripts
// do, and returns the candidates and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	if code := execute(context.Background(), &Factory{IO: io}, append([]string{"__complete"}, args...)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) == 1 {
		return nil, lines[0]
	}
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	t.Setenv("AWS_CONFIG_FILE", write("config", "[default]\nregion = us-west-2\n[profile data-owner]\nregion = eu-west-1\n[sso-session corp]\nsso_region = us-east-1\n[ profile spaced ]\n"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", write("credentials", "[analytics]\naws_access_key_id = x\n[data-owner]\n"))
	state, err := filepath.Abs("../../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	const noFiles, noFilesNoSpace, dirs = ":4", ":6", ":16"
	for _, tc := range []struct {
		args          []string
		want          []string
		wantDirective string
	}{
		{[]string{"plan", "--output", ""}, []string{"text", "json", "terraform", "cloudformation"}, noFiles},
		{[]string{"apply", "-o", "j"}, []string{"json"}, noFiles},
		{[]string{"explain", "--output", ""}, []string{"text", "json"}, noFiles},
		{[]string{"plan", "--access", ""}, []string{"list", "read", "versions", "write"}, noFilesNoSpace},
		{[]string{"plan", "--access", "read,"}, []string{"read,list", "read,versions", "read,write"}, noFilesNoSpace},
		{[]string{"plan", "--access", "read,list,w"}, []string{"read,list,write"}, noFilesNoSpace},
		{[]string{"plan", "--profile", ""}, []string{"analytics", "data-owner", "default", "spaced"}, noFiles},
		{[]string{"apply", "--owner-profile", "d"}, []string{"data-owner", "default"}, noFiles},
		{[]string{"plan", "--state", state, "--bucket", ""}, []string{"doc-example-bucket"}, noFiles},
		{[]string{"plan", "--bucket", ""}, nil, noFiles},
		{[]string{"revoke", "--state", state, "--grantee", "arn:aws:iam::444455556666:role/"}, []string{"arn:aws:iam::444455556666:role/analyst", "arn:aws:iam::444455556666:role/reader"}, noFiles},
		{[]string{"plan", "--state", state, "--key", "alias/"}, []string{"alias/app-data"}, noFiles},
		{[]string{"restore", ""}, nil, dirs},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, directive := complete(t, tc.args...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			if directive != tc.wantDirective {
				t.Errorf("directive %s, want %s", directive, tc.wantDirective)
			}
		})
	}
}
