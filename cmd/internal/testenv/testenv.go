// Package testenv keeps kmsgrant's command tests inside their temporary
// folders. A test binary wrapped with Isolated runs with HOME, the user's
// configuration folder and the AWS config files pointed at a folder of its
// own (so does every process it starts, which inherits them), and fails
// when a test wrote there or into the repository's examples: a test that
// means to write must give its own temporary folder (t.TempDir,
// --backup-dir, XDG_CONFIG_HOME). A change to the user's real kmsgrant
// folder fails the run in CI, and is a warning on a machine shared with
// other programs.
package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// M is what a test binary's TestMain runs: *testing.M.
type M interface {
	Run() int
}

// Isolated returns m, run in the sandbox described in the package comment.
// Its Run returns 1 when the tests passed but wrote outside their
// temporary folders, and prints what they wrote.
func Isolated(m M) M { return isolated{m} }

type isolated struct{ m M }

// awsVariables are cleared for the tests, so that no test reaches the
// user's AWS accounts or credentials, whatever the shell has set.
var awsVariables = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"}

func (i isolated) Run() int {
	realDir := ""
	if dir, err := os.UserConfigDir(); err == nil {
		realDir = filepath.Join(dir, "kmsgrant")
	}
	examples := ""
	if root, err := moduleRoot(); err == nil {
		examples = filepath.Join(root, "examples")
	}
	realBefore, examplesBefore := snapshot(realDir), snapshot(examples)

	sandbox, err := os.MkdirTemp("", "kmsgrant-test-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	defer os.RemoveAll(sandbox)
	env := map[string]string{
		"HOME":                        filepath.Join(sandbox, "home"),
		"XDG_CONFIG_HOME":             filepath.Join(sandbox, "config"),
		"AWS_CONFIG_FILE":             filepath.Join(sandbox, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(sandbox, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for _, k := range awsVariables {
		os.Unsetenv(k)
	}
	for k, v := range env {
		os.Setenv(k, v)
	}

	code := i.m.Run()

	var problems []string
	for _, dir := range []string{env["HOME"], env["XDG_CONFIG_HOME"]} {
		for _, name := range topmost(snapshot(dir)) {
			problems = append(problems, "wrote "+filepath.Join(dir, name)+" (the user's folder as the tests see it: give each test a temporary folder of its own)")
		}
	}
	if examples != "" {
		problems = append(problems, changes(examples, examplesBefore, snapshot(examples))...)
	}
	// The user's real folder is shared with every other program of the
	// machine, other test runs included: a change there fails the run in
	// CI, where the tests run alone, and is a warning elsewhere. The tests'
	// own writes to it land in the folders above, whatever the machine.
	if real := changes(realDir, realBefore, snapshot(realDir)); len(real) > 0 {
		if os.Getenv("CI") != "" {
			problems = append(problems, real...)
		} else {
			fmt.Fprintln(os.Stderr, "warning: the user's kmsgrant folder changed during the tests (another program may have written it; in CI this fails the run):")
			for _, r := range topmostChanges(real) {
				fmt.Fprintln(os.Stderr, "  "+r)
			}
		}
	}
	if len(problems) == 0 {
		return code
	}
	slices.Sort(problems)
	fmt.Fprintln(os.Stderr, "FAIL: tests wrote outside their temporary folders:")
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "  "+p)
	}
	return 1
}

// snapshot returns the files under dir with a digest of each: its content
// for a small file, its size and time otherwise. A missing dir is empty.
func snapshot(dir string) map[string]string {
	files := map[string]string{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return nil
		}
		switch {
		case d.IsDir():
			files[rel+"/"] = "folder"
		case info.Mode().IsRegular() && info.Size() <= 1<<20:
			files[rel] = digest(path)
		default:
			files[rel] = fmt.Sprintf("%d bytes, %s", info.Size(), info.ModTime())
		}
		return nil
	})
	return files
}

func digest(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unreadable"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable"
	}
	return hex.EncodeToString(h.Sum(nil))
}

// topmost returns the names of a snapshot that are not under another one
// of its folders, sorted: what was written, without every file inside.
func topmost(files map[string]string) []string {
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []string
	for _, name := range names {
		if len(out) > 0 && strings.HasSuffix(out[len(out)-1], "/") && strings.HasPrefix(name, out[len(out)-1]) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// topmostChanges keeps the first change of each folder that changed.
func topmostChanges(changes []string) []string {
	slices.Sort(changes)
	var out []string
	for _, c := range changes {
		if len(out) > 0 && strings.HasPrefix(c, out[len(out)-1]+"/") {
			continue
		}
		out = append(out, c)
	}
	return out
}

// changes lists what differs between two snapshots of dir.
func changes(dir string, before, after map[string]string) []string {
	var out []string
	for name, d := range after {
		switch old, ok := before[name]; {
		case !ok:
			out = append(out, "created "+filepath.Join(dir, name))
		case old != d:
			out = append(out, "changed "+filepath.Join(dir, name))
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			out = append(out, "removed "+filepath.Join(dir, name))
		}
	}
	return out
}

// moduleRoot is the folder of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir || strings.TrimSpace(parent) == "" {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
