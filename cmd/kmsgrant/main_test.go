package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kmsgrant/kmsgrant/apply/live/livetest"

	"github.com/kmsgrant/kmsgrant/cmd/internal/cli"
	"github.com/kmsgrant/kmsgrant/cmd/internal/testenv"
)

// runMainEnv makes the test binary behave as kmsgrant itself, for tests that
// need a real process (the pseudo-terminal test).
const runMainEnv = "KMSGRANT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(cli.Main())
	}
	// No test may write outside its temporary folder: the harness points
	// HOME and the configuration folder elsewhere and fails a run that
	// wrote there anyway.
	testscript.Main(testenv.Isolated(m), map[string]func(){
		"kmsgrant": func() { detach(); os.Exit(cli.Main()) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script. Set
// KMSGRANT_UPDATE=1 to rewrite their expected outputs.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	// The scripts read the examples and never write them: a run that
	// writes (or locks) an example's state file would change the tree.
	before := filesUnder(t, examples)
	t.Cleanup(func() {
		if after := filesUnder(t, examples); !slices.Equal(before, after) {
			t.Errorf("the scripts changed the files under examples/:\nbefore: %v\nafter:  %v", before, after)
		}
	})
	servers := &fakeServers{t: t, byScript: map[*testscript.TestScript]*livetest.Server{}}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       os.Getenv("KMSGRANT_UPDATE") == "1",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			env.Setenv("NO_COLOR", "1")
			// Backups go under the script's own folder.
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/config")
			env.Setenv("HOME", env.WorkDir+"/home")
			// No script may reach AWS, or the instance metadata
			// service: no credentials, no metadata lookups.
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("AWS_CONFIG_FILE", env.WorkDir+"/no-aws-config")
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.WorkDir+"/no-aws-credentials")
			for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
				env.Setenv(k, "")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonset":    jsonset,
			"jsonget":    jsonget,
			"cmpjson":    cmpjson,
			"fakeaws":    servers.start,
			"backupof":   backupOf,
			"awsstate":   servers.state,
			"awscalls":   servers.calls,
			"awsfinding": servers.finding,
			"awspublic":  servers.public,
			"awsfail":    servers.fail,
		},
	})
}

// filesUnder lists the files under dir with their sizes and times.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d %s", path, info.Size(), info.ModTime()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeServers runs a local fake of S3, KMS, IAM and STS for each script
// that asks for one, serving a state file: the live backend end to end
// without AWS.
type fakeServers struct {
	t        *testing.T
	mu       sync.Mutex
	byScript map[*testscript.TestScript]*livetest.Server
}

// fakeaws STATEFILE starts the script's fake AWS serving STATEFILE, sets
// $FAKEAWS to its URL, and writes AWS profiles "owner" (account
// 111122223333) and "partner" (444455556666) that reach it.
func (f *fakeServers) start(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fakeaws STATEFILE")
	}
	srv := livetest.New(f.t, []byte(ts.ReadFile(args[0])))
	f.mu.Lock()
	f.byScript[ts] = srv
	f.mu.Unlock()
	ts.Setenv("FAKEAWS", srv.URL)
	env, err := writeProfiles(ts.MkAbs("."))
	ts.Check(err)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
}

// cmpjson A B compares two JSON files by meaning: the order of an object's
// members does not count (concurrent writes add a role's inline policies in
// no set order).
func cmpjson(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpjson A B")
	}
	var a, b any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &a))
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &b))
	if diff := cmp.Diff(a, b); diff != "" {
		ts.Fatalf("%s and %s differ (-%s +%s):\n%s", args[0], args[1], args[0], args[1], diff)
	}
}

// writeProfiles writes into dir an AWS config and credentials file with
// profiles "owner" (account 111122223333) and "partner" (444455556666),
// and the data-lake example's, that livetest servers take, and returns the environment that points
// the SDK at them.
func writeProfiles(dir string) ([]string, error) {
	var config, credentials strings.Builder
	// The data-lake example's grants file names its own three.
	for _, p := range []struct{ name, account string }{{"owner", "111122223333"}, {"partner", "444455556666"},
		{"lake-owner", "111122223333"}, {"analytics", "444455556666"}, {"etl", "777788889999"}} {
		fmt.Fprintf(&config, "[profile %s]\nregion = us-west-2\n", p.name)
		fmt.Fprintf(&credentials, "[%s]\naws_access_key_id = AKIAFAKE%s\naws_secret_access_key = not-a-secret\n", p.name, p.account)
	}
	configFile, credentialsFile := filepath.Join(dir, "aws-config"), filepath.Join(dir, "aws-credentials")
	if err := os.WriteFile(configFile, []byte(config.String()), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(credentialsFile, []byte(credentials.String()), 0o600); err != nil {
		return nil, err
	}
	return []string{"AWS_CONFIG_FILE=" + configFile, "AWS_SHARED_CREDENTIALS_FILE=" + credentialsFile}, nil
}

// awsstate FILE writes the state the script's fake AWS now serves.
func (f *fakeServers) state(ts *testscript.TestScript, neg bool, args []string) {
	f.mu.Lock()
	srv := f.byScript[ts]
	f.mu.Unlock()
	if neg || len(args) != 1 || srv == nil {
		ts.Fatalf("usage: awsstate FILE (after fakeaws)")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), srv.State(), 0o644))
}

// awscalls OP N checks that the script's fake AWS was asked for operation
// OP (sts:GetCallerIdentity) N times, the SDK's own retries not counted.
func (f *fakeServers) calls(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: awscalls OP N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if got := f.server(ts, "awscalls OP N").RequestCount(args[0]); got != want {
		ts.Fatalf("%s requested %d times, want %d", args[0], got, want)
	}
}

// server returns the script's fake AWS.
func (f *fakeServers) server(ts *testscript.TestScript, usage string) *livetest.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	srv := f.byScript[ts]
	if srv == nil {
		ts.Fatalf("usage: %s (after fakeaws)", usage)
	}
	return srv
}

// awsfinding TYPE CODE SIDPREFIX [POLICYTYPE] makes the fake IAM Access
// Analyzer's ValidatePolicy report a finding of TYPE (ERROR, WARNING,
// SUGGESTION, SECURITY_WARNING) and issue CODE in the first statement whose
// Sid starts with SIDPREFIX, for documents of POLICYTYPE (IDENTITY_POLICY,
// RESOURCE_POLICY; default any).
func (f *fakeServers) finding(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "awsfinding TYPE CODE SIDPREFIX [POLICYTYPE]"
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: %s", usage)
	}
	fd := livetest.PolicyFinding{FindingType: args[0], IssueCode: args[1], SidPrefix: args[2],
		Details: "The fake validator reports " + args[1] + "."}
	if len(args) == 4 {
		fd.PolicyType = args[3]
	}
	f.server(ts, usage).AddFinding(fd)
}

// awspublic RESOURCETYPE SIDPREFIX makes the fake CheckNoPublicAccess fail
// for documents of RESOURCETYPE with a statement whose Sid starts with
// SIDPREFIX.
func (f *fakeServers) public(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "awspublic RESOURCETYPE SIDPREFIX"
	if neg || len(args) != 2 {
		ts.Fatalf("usage: %s", usage)
	}
	f.server(ts, usage).SetPublic(livetest.PublicResult{ResourceType: args[0], SidPrefix: args[1]})
}

// awsfail SERVICE:OPERATION TIMES STATUS CODE makes the next TIMES calls of
// the operation fail with an AWS error.
func (f *fakeServers) fail(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "awsfail SERVICE:OPERATION TIMES STATUS CODE"
	if neg || len(args) != 4 {
		ts.Fatalf("usage: %s", usage)
	}
	var times, status int
	if _, err := fmt.Sscanf(args[1]+" "+args[2], "%d %d", &times, &status); err != nil {
		ts.Fatalf("usage: %s: %v", usage, err)
	}
	f.server(ts, usage).Fail(args[0], times, status, args[3], "injected by the script")
}

// backupof DIR VAR sets VAR to the one backup folder under DIR.
func backupOf(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: backupof DIR VAR")
	}
	entries, err := os.ReadDir(ts.MkAbs(args[0]))
	ts.Check(err)
	if len(entries) != 1 {
		ts.Fatalf("backupof: %d folders in %s, want 1", len(entries), args[0])
	}
	ts.Setenv(args[1], ts.MkAbs(args[0]+"/"+entries[0].Name()))
}

// jsonset FILE VALUE KEY... sets the value at a path of object keys in a
// JSON file, so scripts can derive a scenario from an example state. VALUE
// is JSON, @FILE to read it from a file, or DELETE to remove the key.
func jsonset(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: jsonset FILE VALUE KEY...")
	}
	file := ts.MkAbs(args[0])
	var doc any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc))
	var value any
	raw := args[1]
	if strings.HasPrefix(raw, "@") {
		raw = ts.ReadFile(raw[1:])
	}
	if err := json.Unmarshal([]byte(raw), &value); raw != "DELETE" && err != nil {
		ts.Fatalf("jsonset: value %s: %v", args[1], err)
	}
	keys := args[2:]
	cur := doc
	for i, k := range keys {
		obj, ok := cur.(map[string]any)
		if !ok {
			ts.Fatalf("jsonset: %s is not an object", strings.Join(keys[:i], "."))
		}
		if i == len(keys)-1 {
			if args[1] == "DELETE" {
				delete(obj, k)
			} else {
				obj[k] = value
			}
			break
		}
		next, ok := obj[k]
		if !ok {
			next = map[string]any{}
			obj[k] = next
		}
		cur = next
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	ts.Check(err)
	ts.Check(os.WriteFile(file, append(out, '\n'), 0o644))
}

// jsonget FILE KEY... prints the value at a path of object keys (array
// indexes allowed) as compact JSON. Negated, it checks that the path does
// not exist.
func jsonget(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: jsonget FILE KEY...")
	}
	var cur any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &cur))
	for _, k := range args[1:] {
		found := false
		switch c := cur.(type) {
		case map[string]any:
			cur, found = c[k]
		case []any:
			var i int
			if _, err := fmt.Sscanf(k, "%d", &i); err == nil && i >= 0 && i < len(c) {
				cur, found = c[i], true
			}
		}
		if !found {
			if neg {
				return
			}
			ts.Fatalf("jsonget: no %s in %s", strings.Join(args[1:], "."), args[0])
		}
	}
	if neg {
		ts.Fatalf("jsonget: %s exists in %s", strings.Join(args[1:], "."), args[0])
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	ts.Check(enc.Encode(cur))
	ts.Stdout().Write(b.Bytes())
}
