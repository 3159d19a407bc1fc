package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

type fakeM func() int

func (f fakeM) Run() int { return f() }

// keepEnv restores what Isolated changes in the process's environment.
func keepEnv(t *testing.T) {
	for _, k := range append([]string{"HOME", "XDG_CONFIG_HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"}, awsVariables...) {
		t.Setenv(k, os.Getenv(k))
	}
}

func TestIsolatedPassesTheCodeOfCleanTests(t *testing.T) {
	keepEnv(t)
	t.Setenv("AWS_PROFILE", "someone-real")
	realHome := os.Getenv("HOME")
	var home, config, profile string
	code := Isolated(fakeM(func() int {
		home, config, profile = os.Getenv("HOME"), os.Getenv("XDG_CONFIG_HOME"), os.Getenv("AWS_PROFILE")
		// Writing in a folder of one's own is fine.
		if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return 3
	})).Run()
	if code != 3 {
		t.Errorf("code = %d, want the tests' own 3", code)
	}
	if home == realHome || config == "" || profile != "" {
		t.Errorf("tests ran with HOME %q, XDG_CONFIG_HOME %q, AWS_PROFILE %q: not isolated", home, config, profile)
	}
}

func TestIsolatedFailsTestsThatWriteInTheUsersFolders(t *testing.T) {
	for _, variable := range []string{"HOME", "XDG_CONFIG_HOME"} {
		t.Run(variable, func(t *testing.T) {
			keepEnv(t)
			code := Isolated(fakeM(func() int {
				dir := filepath.Join(os.Getenv(variable), "kmsgrant", "backups")
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				return 0
			})).Run()
			if code != 1 {
				t.Errorf("code = %d, want 1 for tests that wrote in $%s", code, variable)
			}
		})
	}
}

// A write to the user's real folder, which no test should reach, fails the
// run in CI and is a warning elsewhere (other programs share the folder).
func TestIsolatedWatchesTheRealFolder(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		want int
	}{{"true", 1}, {"", 0}} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			keepEnv(t)
			real := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", real)
			t.Setenv("CI", tc.ci)
			if dir, _ := os.UserConfigDir(); dir != real {
				t.Skip("the configuration folder does not follow XDG_CONFIG_HOME here")
			}
			code := Isolated(fakeM(func() int {
				if err := os.MkdirAll(filepath.Join(real, "kmsgrant", "backups", "x"), 0o700); err != nil {
					t.Fatal(err)
				}
				return 0
			})).Run()
			if code != tc.want {
				t.Errorf("code = %d, want %d", code, tc.want)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	got := changes("d", map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1", "b": "3", "c": "4"})
	if len(got) != 2 {
		t.Errorf("changes = %q, want b changed and c created", got)
	}
}
