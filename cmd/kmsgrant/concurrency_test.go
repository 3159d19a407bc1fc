package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// The tests here run kmsgrant as real processes, several at once, the way
// a team's pipelines do, and check the one promise that matters when runs
// race: a run that exits 0 made a change that is still there.

const (
	testBucket = "doc-example-bucket"
	testPrefix = "reports/"
)

// roleARN is the ARN of role rN of the grantee account.
func roleARN(n int) string { return fmt.Sprintf("arn:aws:iam::444455556666:role/r%d", n) }

// seedWithRoles is the seed example with roles r1…rN in the grantee
// account.
func seedWithRoles(t testing.TB, n int) []byte {
	t.Helper()
	data, err := os.ReadFile("../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	roles := st["accounts"].(map[string]any)["444455556666"].(map[string]any)["iam_roles"].(map[string]any)
	for i := 1; i <= n; i++ {
		roles[fmt.Sprintf("r%d", i)] = map[string]any{"path": "/", "inline_policies": map[string]any{}, "attached_policies": []any{}}
	}
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// result is how one kmsgrant process ended.
type result struct {
	args   []string
	code   int
	stdout string
	stderr string
}

// kmsgrant runs the test binary as kmsgrant, with backups and
// configuration under dir.
func kmsgrant(ctx context.Context, t testing.TB, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "NO_COLOR=1",
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "HOME="+filepath.Join(dir, "home"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"), "AWS_PROFILE=", "AWS_ENDPOINT_URL=")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// runAll runs every command line at once and returns how each ended.
func runAll(t *testing.T, dir string, env []string, lines [][]string) []result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results := make([]result, len(lines))
	var wg sync.WaitGroup
	for i, args := range lines {
		wg.Go(func() {
			cmd := kmsgrant(ctx, t, dir, env, args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				code = -1
			}
			results[i] = result{args: args, code: code, stdout: stdout.String(), stderr: stderr.String()}
		})
	}
	wg.Wait()
	return results
}

// planOf plans a grant (or, with revoke, its removal) of role n against
// state file data.
func planOf(t testing.TB, data []byte, n int, revoke bool) *apply.Plan {
	t.Helper()
	f, err := statefile.Parse("state.json", data)
	if err != nil {
		t.Fatalf("the state file does not parse: %v", err)
	}
	p, err := arns.ParsePrincipal(roleARN(n), "aws")
	if err != nil {
		t.Fatal(err)
	}
	g := generate.Grant{Bucket: testBucket, Prefix: testPrefix, Grantee: p, Access: []string{"read"}, IAMPolicyName: generate.IAMPolicyName}
	in, err := apply.Read(context.Background(), f, g)
	if err != nil {
		t.Fatal(err)
	}
	compute := generate.Changes
	if revoke {
		compute = generate.Revoke
	}
	res, err := compute(g, in)
	if err != nil {
		t.Fatal(err)
	}
	return apply.FromResult(res)
}

// granted reports whether role n has every statement its grant needs in
// state file data: planning the grant again finds nothing to add.
func granted(t testing.TB, data []byte, n int) bool {
	t.Helper()
	p := planOf(t, data, n, false)
	return !p.Blocked() && !p.HasChanges()
}

// checkFailure checks that a run that did not exit 0 said why in one
// "Error:" line.
func checkFailure(t *testing.T, r result) {
	t.Helper()
	if r.code == 0 {
		return
	}
	if r.code != 1 || !strings.Contains(r.stderr, "Error: ") {
		t.Errorf("%v: exit %d with no clear error:\n%s", r.args, r.code, r.stderr)
	}
}

func stateArgs(verb, state, backups string, n int) []string {
	return []string{verb, "--state", state, "--bucket", testBucket, "--grantee", roleARN(n), "--prefix", testPrefix,
		"--auto-approve", "--backup-dir", backups}
}

// Twenty applies for twenty roles on one state file, at once, several
// times: the lock makes them take turns, so every one succeeds and every
// grant is in the file; none of them leaves a temporary file.
func TestConcurrentAppliesOnAStateFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 processes")
	}
	const roles, rounds = 20, 3
	for round := range rounds {
		dir := t.TempDir()
		state := filepath.Join(dir, "state.json")
		if err := os.WriteFile(state, seedWithRoles(t, roles), 0o644); err != nil {
			t.Fatal(err)
		}
		var lines [][]string
		for n := 1; n <= roles; n++ {
			lines = append(lines, stateArgs("apply", state, filepath.Join(dir, "backups"), n))
		}
		results := runAll(t, dir, nil, lines)
		final, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		for n, r := range results {
			if r.code != 0 {
				t.Errorf("round %d: apply for r%d exited %d:\n%s", round, n+1, r.code, r.stderr)
				continue
			}
			if !strings.Contains(r.stdout, "Apply complete") {
				t.Errorf("round %d: apply for r%d exited 0 without saying it applied:\n%s", round, n+1, r.stdout)
			}
			if !granted(t, final, n+1) {
				t.Errorf("round %d: apply for r%d exited 0, but its grant is not in the state file", round, n+1)
			}
		}
		checkNoTemporaryFiles(t, dir)
	}
}

// Revokes racing applies on one state file: every revoke that exits 0 has
// removed its role, and every apply that exits 0 has added its own.
func TestConcurrentRevokesAndAppliesOnAStateFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 20 processes")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	// r1…r10 hold grants to start with.
	data := seedWithRoles(t, 20)
	for n := 1; n <= 10; n++ {
		data = applyInProcess(t, data, n)
	}
	if err := os.WriteFile(state, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	for n := 1; n <= 10; n++ {
		lines = append(lines, stateArgs("revoke", state, filepath.Join(dir, "backups"), n), stateArgs("apply", state, filepath.Join(dir, "backups"), n+10))
	}
	results := runAll(t, dir, nil, lines)
	final, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.code != 0 {
			t.Errorf("%s exited %d:\n%s", strings.Join(r.args[:1], " "), r.code, r.stderr)
		}
	}
	for n := 1; n <= 20; n++ {
		revoked := n <= 10
		if granted(t, final, n) == revoked {
			t.Errorf("r%d: granted = %v after its %s exited 0", n, !revoked, map[bool]string{true: "revoke", false: "apply"}[revoked])
		}
		if revoked && planOf(t, final, n, true).HasChanges() {
			t.Errorf("r%d: kmsgrant statements still name it after its revoke exited 0", n)
		}
	}
	checkNoTemporaryFiles(t, dir)
}

// applyInProcess applies the grant of role n to state file data and
// returns the new data. (Flush writes the file, so it is named in a
// temporary folder.)
func applyInProcess(t testing.TB, data []byte, n int) []byte {
	t.Helper()
	f, err := statefile.Parse(filepath.Join(t.TempDir(), "state.json"), data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Execute(context.Background(), f, planOf(t, data, n, false)); err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}

// checkNoTemporaryFiles fails when a state file's temporary file is left
// in dir.
func checkNoTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, ".state.json.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A run holding the lock makes another wait, saying so, and then fail with
// one line naming the lock when --lock-timeout runs out; nothing is written.
func TestLockTimeout(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	data := seedWithRoles(t, 1)
	if err := os.WriteFile(state, data, 0o644); err != nil {
		t.Fatal(err)
	}
	held, err := statefile.AcquireLock(context.Background(), state, "apply", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	args := append(stateArgs("apply", state, filepath.Join(dir, "backups"), 1), "--lock-timeout", "300ms")
	r := runAll(t, dir, nil, [][]string{args})[0]
	if r.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", r.code, r.stderr)
	}
	lock := statefile.LockPath(state)
	for _, want := range []string{
		"Waiting for the state lock on " + state + " (held by kmsgrant apply, pid ",
		"Error: --state: state file is locked: " + lock + " is held by kmsgrant apply, pid ",
		"; gave up after waiting 300ms; nothing was changed\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if after, _ := os.ReadFile(state); !bytes.Equal(after, data) {
		t.Error("the state file changed")
	}
	// Once the lock is free, the same run goes through.
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	if r := runAll(t, dir, nil, [][]string{args})[0]; r.code != 0 {
		t.Fatalf("after release: exit %d:\n%s", r.code, r.stderr)
	}
}

// An apply killed with SIGKILL at a random point leaves the state file as
// it was or as the apply writes it, never anything between; the next run
// is not blocked by a lock or a temporary file the killed one left, and
// brings the grant about.
func TestKilledApplyLeavesTheOldOrTheNewFile(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 20 processes")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	before := seedWithRoles(t, 1)
	after := applyInProcess(t, before, 1)
	args := stateArgs("apply", state, filepath.Join(dir, "backups"), 1)

	// How long a whole apply takes here, to spread the kills over it.
	if err := os.WriteFile(state, before, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if r := runAll(t, dir, nil, [][]string{args})[0]; r.code != 0 {
		t.Fatalf("apply: exit %d:\n%s", r.code, r.stderr)
	}
	whole := time.Since(start)
	if got, _ := os.ReadFile(state); !bytes.Equal(got, after) {
		t.Fatalf("a whole apply wrote something else than the in-process apply:\n%s", got)
	}

	outcomes := map[string]int{}
	for i := range 20 {
		if err := os.WriteFile(state, before, 0o644); err != nil {
			t.Fatal(err)
		}
		// A temporary file such as a run killed before its rename
		// leaves.
		stale := filepath.Join(dir, fmt.Sprintf(".state.json.tmp-%d", 1000+i))
		if err := os.WriteFile(stale, after[:len(after)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := kmsgrant(context.Background(), t, dir, nil, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i) * whole / 19)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()

		got, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Equal(got, before):
			outcomes["old"]++
		case bytes.Equal(got, after):
			outcomes["new"]++
		default:
			t.Fatalf("kill %d: the state file is neither the old nor the new one:\n%s", i, got)
		}
		// The next run does not wait for a lock, and converges.
		r := runAll(t, dir, nil, [][]string{append(args, "--lock-timeout", "0")})[0]
		if r.code != 0 {
			t.Fatalf("kill %d: the next run: exit %d:\n%s", i, r.code, r.stderr)
		}
		if got, _ := os.ReadFile(state); !bytes.Equal(got, after) {
			t.Fatalf("kill %d: the next run did not bring the grant about:\n%s", i, got)
		}
		checkNoTemporaryFiles(t, dir)
	}
	t.Logf("after the kill the file was: %v (a whole apply takes %s)", outcomes, whole)
}

func liveArgs(url, backups string, n int) []string {
	return []string{"apply", "--owner-profile", "owner", "--grantee-profile", "partner", "--endpoint-url", url,
		"--bucket", testBucket, "--grantee", roleARN(n), "--prefix", testPrefix, "--auto-approve", "--backup-dir", backups,
		"--verify-delay", "500ms"}
}

// Ten applies at once against the fake AWS, which holds each request a
// random time before and after serving it so that the runs' reads and
// writes of the shared bucket and key policies interleave: every run that
// exits 0 has its statements in the documents the fake holds at the end.
func TestConcurrentAppliesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 20 processes")
	}
	const roles = 10
	for round := range 2 {
		dir := t.TempDir()
		env, err := writeProfiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := livetest.New(t, seedWithRoles(t, roles))
		srv.SetJitter(20*time.Millisecond, uint64(round))
		var lines [][]string
		for n := 1; n <= roles; n++ {
			lines = append(lines, liveArgs(srv.URL, filepath.Join(dir, "backups"), n))
		}
		results := runAll(t, dir, env, lines)
		final := srv.State()
		succeeded, again := 0, 0
		for n, r := range results {
			checkFailure(t, r)
			if r.code != 0 {
				t.Logf("round %d: apply for r%d: exit %d:\n%s", round, n+1, r.code, r.stderr)
				continue
			}
			succeeded++
			again += strings.Count(r.stdout, "written again")
			if !granted(t, final, n+1) {
				t.Errorf("round %d: apply for r%d exited 0, but its statements are not in the fake's documents:\n%s", round, n+1, r.stdout)
			}
		}
		t.Logf("round %d: %d of %d applies exited 0; %d writes were made again after another run's; %d policy writes in all",
			round, succeeded, roles, again, srv.CallCount("s3:PutBucketPolicy")+srv.CallCount("kms:PutKeyPolicy")+srv.CallCount("iam:PutRolePolicy"))
		// Runs that cannot make their writes stick fail, as they must;
		// most should get through by merging again.
		if succeeded < roles/2 {
			t.Errorf("round %d: only %d of %d applies succeeded", round, succeeded, roles)
		}
	}
}

// Revokes racing applies against the fake AWS, interleaved: every revoke
// that exits 0 left no kmsgrant statement naming its role, and every apply
// that exits 0 has its statements in place.
func TestConcurrentRevokesAndAppliesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10 processes")
	}
	dir := t.TempDir()
	env, err := writeProfiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := seedWithRoles(t, 10)
	for n := 1; n <= 5; n++ {
		data = applyInProcess(t, data, n)
	}
	srv := livetest.New(t, data)
	srv.SetJitter(20*time.Millisecond, 7)
	var lines [][]string
	for n := 1; n <= 5; n++ {
		revoke := liveArgs(srv.URL, filepath.Join(dir, "backups"), n)
		revoke[0] = "revoke"
		lines = append(lines, revoke, liveArgs(srv.URL, filepath.Join(dir, "backups"), n+5))
	}
	results := runAll(t, dir, env, lines)
	final := srv.State()
	for i, r := range results {
		checkFailure(t, r)
		if r.code != 0 {
			t.Logf("%s for r%d: exit %d:\n%s", r.args[0], i/2+1+(i%2)*5, r.code, r.stderr)
			continue
		}
		n := i/2 + 1
		if r.args[0] == "revoke" {
			if planOf(t, final, n, true).HasChanges() {
				t.Errorf("revoke for r%d exited 0, but kmsgrant statements still name it", n)
			}
			continue
		}
		if !granted(t, final, n+5) {
			t.Errorf("apply for r%d exited 0, but its statements are not in the fake's documents", n+5)
		}
	}
}
