package apply_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	small := write("small.json", "0123456789abcdef")
	empty := write("empty.json", "")
	sub := filepath.Join(dir, "folder")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr string
	}{
		{name: "regular file", path: small, limit: 1 << 20, want: "0123456789abcdef"},
		{name: "exactly the limit", path: small, limit: 16, want: "0123456789abcdef"},
		{name: "empty file", path: empty, limit: 16, want: ""},
		{name: "one byte over the limit", path: small, limit: 15, wantErr: small + ": larger than the 15 bytes kmsgrant reads"},
		{name: "over a limit in MiB", path: write("big.json", strings.Repeat("x", 1<<20+1)), limit: 1 << 20, wantErr: "big.json: larger than the 1 MiB kmsgrant reads"},
		{name: "directory", path: sub, limit: 1 << 20, wantErr: sub + ": not a regular file (a directory)"},
		{name: "missing", path: filepath.Join(dir, "none.json"), limit: 1 << 20, wantErr: "none.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := apply.ReadFile(tc.path, tc.limit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
		})
	}
}
