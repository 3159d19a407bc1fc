package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
)

// run runs kmsgrant in-process and returns its exit code and output.
func run(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	f := &Factory{
		IO:        io,
		Prompter:  &fakePrompter{},
		OpenState: func(path string) (apply.Backend, error) { return statefile.Open(path) },
		OpenLive: func(context.Context, live.Options) (apply.Backend, error) {
			return nil, live.ErrNoCredentials
		},
		Build: Build{Version: "test"},
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "$DIR", dir)
	}
	code = execute(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// The bad-input catalogue: every malformed flag, state file, policy inside
// one, plan file and backup folder gives one line saying what is wrong and
// where (plus at most a hint), exit 1, and nothing written.
func TestBadInputCatalogue(t *testing.T) {
	seed, err := os.ReadFile("../../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::444455556666:role/reader"
	grant := []string{"--bucket", "doc-example-bucket", "--grantee", role}
	withState := func(extra ...string) []string {
		return append(append([]string{"plan", "--state", "$DIR/state.json"}, grant...), extra...)
	}
	state := func(old, new string) string {
		if !strings.Contains(string(seed), old) {
			t.Fatalf("fixture: %q not in the seed", old)
		}
		return strings.Replace(string(seed), old, new, 1)
	}
	// A key of a third account, present in the state file.
	const thirdKey = "arn:aws:kms:us-west-2:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	withThirdKey := state(`"444455556666": {`, `"999988887777": {"kms_keys": {"`+thirdKey+`": {"key_manager": "CUSTOMER", "key_state": "Enabled",
      "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "kms:*", "Resource": "*"}]}}}},
    "444455556666": {`)
	tests := []struct {
		name  string
		args  []string
		state string // the state file's content; the seed when ""
		file  map[string]string
		want  string // a fragment of the error line; $DIR is the test's folder
	}{
		// Flags.
		{name: "no bucket", args: []string{"plan", "--state", "$DIR/state.json", "--grantee", role}, want: "--bucket is required"},
		{name: "no grantee", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket"}, want: "--grantee is required"},
		{name: "bucket name starting with an underscore", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "_Bucket", "--grantee", role}, want: "--bucket: \"_Bucket\" is not a valid S3 bucket name"},
		{name: "bucket name with a slash", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "a/b", "--grantee", role}, want: "--bucket:"},
		{name: "bucket name too long even for us-east-1's old rules", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", strings.Repeat("B", 256), "--grantee", role}, want: "--bucket:"},
		{name: "legacy bucket name that is not in the state", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "Doc_Bucket", "--grantee", role}, want: "plan blocked (bucket_not_found)"},
		{name: "group as grantee", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:group/g"}, want: "--grantee:"},
		{name: "short account ID", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "4444"}, want: "--grantee:"},
		{name: "assumed-role session", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws:sts::444455556666:assumed-role/r/s"}, want: "--grantee:"},
		{name: "unknown partition", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws-xx:iam::444455556666:role/r"}, want: "unsupported partition"},
		{name: "unknown access level", args: withState("--access", "read,delete"), want: "--access: unknown access level \"delete\""},
		{name: "empty access level", args: withState("--access", "read,,list"), want: "--access: unknown access level \"\""},
		{name: "key that is no key", args: withState("--key", "alias"), want: "--key:"},
		{name: "key ARN of S3", args: withState("--key", "arn:aws:s3:::b"), want: "--key:"},
		{name: "alias with a space", args: withState("--key", "alias/a b"), want: "--key:"},
		{name: "prefix with a slash first", args: withState("--prefix", "/reports"), want: "--prefix:"},
		{name: "prefix with a wildcard", args: withState("--prefix", "reports/*"), want: "--prefix:"},
		{name: "prefix with a variable", args: withState("--prefix", "${aws:username}/"), want: "--prefix:"},
		{name: "prefix that is an S3 URL", args: withState("--prefix", "s3://doc-example-bucket/reports/"), want: `--prefix: prefix "s3://doc-example-bucket/reports/" is an S3 URL, not a key prefix; give the key prefix alone: reports/`},
		{name: "prefix that is an S3 URL of another bucket", args: withState("--prefix", "s3://other-bucket/reports/"), want: "is an S3 URL of bucket other-bucket, but the grant is on bucket doc-example-bucket; give the key prefix alone: reports/"},
		{name: "prefix that is an S3 ARN", args: withState("--prefix", "arn:aws:s3:::doc-example-bucket/reports/"), want: `--prefix: prefix "arn:aws:s3:::doc-example-bucket/reports/" is an S3 ARN, not a key prefix; give the key prefix alone: reports/`},
		{name: "bad inline policy name", args: withState("--iam-policy-name", "a b"), want: "--iam-policy-name:"},
		{name: "unknown output", args: withState("--output", "yaml"), want: "--output: unknown format"},
		{name: "unknown flag", args: withState("--colour"), want: "unknown flag: --colour"},
		{name: "positional argument", args: append(withState(), "extra"), want: "unknown command \"extra\""},
		{name: "negative objects", args: []string{"plan", "--bucket", "doc-example-bucket", "--grantee", role, "--check-objects", "-1"}, want: "--check-objects:"},
		{name: "state with live flags", args: withState("--owner-profile", "p"), want: "--state plans against a file"},
		{name: "no state and no credentials", args: append([]string{"plan"}, grant...), want: "no AWS credentials found"},
		{name: "grantee that does not exist", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:role/ghost"}, want: "--grantee: arn:aws:iam::444455556666:role/ghost does not exist"},
		{name: "grantee with another path", args: []string{"plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "arn:aws:iam::444455556666:user/alice"}, want: "with path /team/, not /"},
		// Keys the bucket owner's account does not hold: refused as live
		// AWS refuses them, whatever the state file holds.
		{name: "key of a third account", state: withThirdKey, args: withState("--key", thirdKey),
			want: "Error: key " + thirdKey + " is in account 999988887777, not the bucket owner's 111122223333: its key policy can only be read and written with credentials of account 999988887777"},
		{name: "key of a third account by alias ARN", state: withThirdKey, args: withState("--key", "arn:aws:kms:us-west-2:999988887777:alias/shared"),
			want: "Error: key arn:aws:kms:us-west-2:999988887777:alias/shared is in account 999988887777, not the bucket owner's 111122223333"},
		{name: "key of the grantee's account", args: withState("--key", "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
			want: "is in account 444455556666, not the bucket owner's 111122223333"},
		{name: "key of a third account the state file lacks", args: withState("--key", thirdKey),
			want: "is in account 999988887777, not the bucket owner's 111122223333"},
		{name: "default encryption naming a key of a third account", state: strings.Replace(withThirdKey, `"kms_master_key_id": "alias/app-data"`, `"kms_master_key_id": "`+thirdKey+`"`, 1), args: withState(),
			want: "Error: key " + thirdKey + " is in account 999988887777, not the bucket owner's 111122223333"},
		// State files.
		{name: "state file missing", args: []string{"plan", "--state", "$DIR/none.json", "--bucket", "doc-example-bucket", "--grantee", role}, want: "--state: reading state file"},
		{name: "state file is a folder", file: map[string]string{"folder/x": ""}, args: []string{"plan", "--state", "$DIR/folder", "--bucket", "doc-example-bucket", "--grantee", role}, want: "--state: reading state file: $DIR/folder: not a regular file (a directory)"},
		{name: "state not JSON", state: "{\n  \"format_version\": \"1\",\n  x\n}", args: withState(), want: "state.json:3:3: invalid JSON"},
		{name: "state truncated", state: "{\"format_version\": \"1\", \"accounts\": {", args: withState(), want: "the file ends in the middle of a value"},
		{name: "state empty", state: " ", args: withState(), want: "empty file"},
		{name: "state trailing data", state: "{\"format_version\": \"1\"} {}", args: withState(), want: "unexpected data after the top-level object"},
		{name: "state is a list", state: "[]", args: withState(), want: "want an object"},
		{name: "no format_version", state: "{\"accounts\": {}}", args: withState(), want: "missing format_version"},
		{name: "format_version 2", state: state(`"format_version": "1"`, `"format_version": "2"`), args: withState(), want: "unsupported format_version \"2\""},
		{name: "account ID of 11 digits", state: state(`"444455556666": {`, `"44445555666": {`), args: withState(), want: "account IDs are 12 digits"},
		{name: "region of the wrong type", state: state(`"region": "us-west-2"`, `"region": 5`), args: withState(), want: "accounts.111122223333.buckets.doc-example-bucket.region: want a string"},
		{name: "bad sse_algorithm", state: state(`"sse_algorithm": "aws:kms", "kms_master_key_id": "alias/app-data"`, `"sse_algorithm": "kms", "kms_master_key_id": "alias/app-data"`), args: withState(), want: "default_encryption.sse_algorithm: want AES256, aws:kms or aws:kms:dsse"},
		{name: "bad object ownership", state: state(`"object_ownership": "BucketOwnerEnforced"`, `"object_ownership": "Enforced"`), args: withState(), want: "object_ownership: want BucketOwnerEnforced"},
		{name: "bad key state", state: state(`"key_state": "Enabled"`, `"key_state": "On"`), args: withState(), want: "key_state: want one of"},
		{name: "bad key manager", state: state(`"key_manager": "CUSTOMER"`, `"key_manager": "ME"`), args: withState(), want: "key_manager: want AWS or CUSTOMER"},
		{name: "bad alias", state: state(`"aliases": ["alias/app-data"]`, `"aliases": ["app-data"]`), args: withState(), want: "is not an alias name"},
		{name: "key in the case of another field", state: state(`"region": "us-west-2"`, `"Region": "us-west-2", "region": "us-west-2"`), args: withState(), want: "keys are case-sensitive: did you mean \"region\"?"},
		// Policies inside state files.
		{name: "policy Effect Permit", state: state(`"Effect": "Deny"`, `"Effect": "Permit"`), args: withState(), want: "not a valid policy: Statement[0].Effect: must be \"Allow\" or \"Deny\""},
		{name: "policy unknown element", state: state(`"Sid": "DenyInsecureTransport",`, `"Sid": "DenyInsecureTransport", "Actions": "s3:*",`), args: withState(), want: "Statement[0].Actions: unknown statement element"},
		{name: "policy without Principal", state: state(`"Principal": "*",`, ``), args: withState(), want: "a resource policy statement needs Principal or NotPrincipal"},
		{name: "policy principal string", state: state(`"Principal": "*",`, `"Principal": "everyone",`), args: withState(), want: "Statement[0].Principal: must be \"*\""},
		{name: "policy condition value object", state: state(`{ "aws:SecureTransport": "false" }`, `{ "aws:SecureTransport": {"x": 1} }`), args: withState(), want: "Condition.Bool.aws:SecureTransport"},
		{name: "key policy missing", state: state("\"aliases\": [\"alias/app-data\"],\n          \"policy\": {", "\"aliases\": [\"alias/app-data\"],\n          \"policy_was\": {"), args: withState(), want: "missing policy: every KMS key has a key policy"},
		// Plan files.
		{name: "plan file missing", args: []string{"apply", "$DIR/none.plan", "--state", "$DIR/state.json"}, want: "reading plan file"},
		{name: "plan file not JSON", file: map[string]string{"p.plan": "plan"}, args: []string{"apply", "$DIR/p.plan", "--state", "$DIR/state.json"}, want: "not a complete kmsgrant plan file"},
		{name: "plan file with unknown field", file: map[string]string{"p.plan": `{"format_version":"1","extra":1}`}, args: []string{"apply", "$DIR/p.plan", "--state", "$DIR/state.json"}, want: "unknown field \"extra\""},
		{name: "plan file version 2", file: map[string]string{"p.plan": `{"format_version":"2"}`}, args: []string{"apply", "$DIR/p.plan", "--state", "$DIR/state.json"}, want: "plan file format_version \"2\""},
		{name: "plan file without checksum", file: map[string]string{"p.plan": `{"format_version":"1"}`}, args: []string{"apply", "$DIR/p.plan", "--state", "$DIR/state.json"}, want: "checksum mismatch"},
		{name: "plan file is a folder", file: map[string]string{"p.plan/x": ""}, args: []string{"apply", "$DIR/p.plan", "--state", "$DIR/state.json"}, want: "reading plan file: $DIR/p.plan: not a regular file (a directory)"},
		{name: "plan file and grant flags", file: map[string]string{"p.plan": `{}`}, args: []string{"apply", "$DIR/p.plan", "--bucket", "b1"}, want: "a saved plan carries its grant"},
		// Backup folders.
		{name: "backup folder missing", args: []string{"restore", "$DIR/nowhere", "--state", "$DIR/state.json"}, want: "reading backup"},
		{name: "backup manifest not JSON", file: map[string]string{"b/manifest.json": "x"}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "not a kmsgrant backup"},
		{name: "backup manifest of another version", file: map[string]string{"b/manifest.json": `{"format_version":"9","grant":{}}`}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "not a kmsgrant backup"},
		{name: "backup file missing", file: map[string]string{"b/manifest.json": `{"format_version":"1","grant":{"bucket":"doc-example-bucket","grantee":"` + role + `"},"targets":[{"kind":"bucket_policy","account":"111122223333","target":"arn:aws:s3:::doc-example-bucket","file":"01-bucket_policy.json"}]}`}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "01-bucket_policy.json: no such file"},
		{name: "backup document not a policy", file: map[string]string{
			"b/manifest.json":         `{"format_version":"1","grant":{"bucket":"doc-example-bucket","grantee":"` + role + `"},"targets":[{"kind":"bucket_policy","account":"111122223333","target":"arn:aws:s3:::doc-example-bucket","file":"01-bucket_policy.json"}]}`,
			"b/01-bucket_policy.json": `{"Statement": "no"}`}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "the backed-up document was changed after the backup was made"},
		{name: "backup file outside the folder", file: map[string]string{"b/manifest.json": `{"format_version":"1","grant":{"bucket":"doc-example-bucket","grantee":"` + role + `"},"targets":[{"kind":"bucket_policy","account":"111122223333","target":"arn:aws:s3:::doc-example-bucket","file":"../state.json"}]}`}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "is not in the backup folder"},
		{name: "backup manifest is a folder", file: map[string]string{"b/manifest.json/x": ""}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "reading backup: $DIR/b/manifest.json: not a regular file (a directory)"},
		{name: "backup document is a folder", file: map[string]string{
			"b/manifest.json":           `{"format_version":"1","grant":{"bucket":"doc-example-bucket","grantee":"` + role + `"},"targets":[{"kind":"bucket_policy","account":"111122223333","target":"arn:aws:s3:::doc-example-bucket","file":"01-bucket_policy.json"}]}`,
			"b/01-bucket_policy.json/x": ""}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "$DIR/b/01-bucket_policy.json: not a regular file (a directory)"},
		// Policy files of explain.
		{name: "explain policy file is a folder", file: map[string]string{"scp/x": ""}, args: []string{"explain", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", role, "--scp", "$DIR/scp"}, want: "--scp: $DIR/scp: not a regular file (a directory)"},
		{name: "explain policy file missing", args: []string{"explain", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", role, "--rcp", "$DIR/none.json"}, want: "--rcp: open "},
		// What explain is told of a denied call.
		{name: "explain CloudTrail file is a folder", file: map[string]string{"ct/x": ""}, args: []string{"explain", "--state", "$DIR/state.json", "--cloudtrail-event", "$DIR/ct"}, want: "--cloudtrail-event: $DIR/ct: not a regular file (a directory)"},
		{name: "explain CloudTrail file missing", args: []string{"explain", "--state", "$DIR/state.json", "--cloudtrail-event", "$DIR/none.json"}, want: "--cloudtrail-event: open "},
		{name: "explain CloudTrail file of another kind", file: map[string]string{"ct.json": `{"Version": "2012-10-17", "Statement": []}`}, args: []string{"explain", "--state", "$DIR/state.json", "--cloudtrail-event", "$DIR/ct.json"}, want: "--cloudtrail-event: $DIR/ct.json: not a CloudTrail record"},
		{name: "explain CloudTrail file without a denied read", file: map[string]string{"ct.json": `{"Records": [{"eventSource": "s3.amazonaws.com", "eventName": "GetObject"}]}`}, args: []string{"explain", "--state", "$DIR/state.json", "--cloudtrail-event", "$DIR/ct.json"}, want: "--cloudtrail-event: $DIR/ct.json: no AccessDenied record in 1 record"},
		{name: "explain message of another error", args: []string{"explain", "--state", "$DIR/state.json", "--message", "An error occurred (NoSuchBucket) when calling the GetObject operation: The specified bucket does not exist"}, want: "--message: the message is a NoSuchBucket error, not an access denial"},
		{name: "explain message and record both", file: map[string]string{"ct.json": "{}"}, args: []string{"explain", "--state", "$DIR/state.json", "--message", "Access Denied", "--cloudtrail-event", "$DIR/ct.json"}, want: "--message and --cloudtrail-event both describe the denied call: give one"},
		{name: "explain message naming another grantee", args: []string{"explain", "--state", "$DIR/state.json", "--grantee", role, "--message", `User: arn:aws:iam::444455556666:user/team/alice is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::doc-example-bucket/reports/q1.csv"`}, want: "--grantee " + role + " is not the caller the message names (arn:aws:iam::444455556666:user/team/alice)"},
		{name: "backup manifest with unknown fields", file: map[string]string{"b/manifest.json": `{"format_version":"1","grant":{"bucket":"doc-example-bucket","grantee":"` + role + `"},"targets":[],"run":"rm -rf"}`}, args: []string{"restore", "$DIR/b", "--state", "$DIR/state.json"}, want: "not a kmsgrant backup"},
	}
	if len(tests) < 40 {
		t.Fatalf("the catalogue has %d cases; it must cover at least 40", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", dir+"/config")
			t.Setenv("HOME", dir+"/home")
			content := tt.state
			if content == "" {
				content = string(seed)
			}
			if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			for name, data := range tt.file {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := run(t, dir, append([]string(nil), tt.args...)...)
			if code != 1 {
				t.Errorf("exit code %d, want 1; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if !strings.HasPrefix(lines[0], "Error: ") || len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "hint: ")) {
				t.Errorf("stderr is not one error line (and a hint):\n%s", stderr)
			}
			if want := strings.ReplaceAll(tt.want, "$DIR", dir); !strings.Contains(lines[0], want) {
				t.Errorf("error %q lacks %q", lines[0], want)
			}
			after, err := os.ReadFile(filepath.Join(dir, "state.json"))
			if err != nil || !bytes.Equal(after, []byte(content)) {
				t.Errorf("the state file changed (%v)", err)
			}
		})
	}
}

// A plan file forged with a valid checksum still writes nothing it would
// not plan: the saved documents are compared with a fresh plan of the
// saved grant.
func TestForgedPlanIsRefused(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir+"/config")
	seed, err := os.ReadFile("../../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, dir, "plan", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket",
		"--grantee", "arn:aws:iam::444455556666:role/reader", "--out", "$DIR/p.plan"); code != 0 {
		t.Fatalf("plan: %s", stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "p.plan"))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := apply.ReadSaved(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range sp.Changes {
		if c.Kind == "bucket_policy" {
			forged := strings.Replace(string(c.After), `"s3:GetObject"`, `"s3:*"`, 1)
			sp.Changes[i].After = json.RawMessage(forged)
		}
	}
	resaved, err := (&apply.Plan{View: sp.View}).Save(sp.KmsgrantVersion, sp.Backend)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "forged.plan"), resaved, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, dir, "apply", "$DIR/forged.plan", "--state", "$DIR/state.json", "--auto-approve")
	if code != 1 || !strings.Contains(stderr, "does not match what kmsgrant plans for its grant now (bucket_policy arn:aws:s3:::doc-example-bucket)") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if !bytes.Equal(after, seed) {
		t.Error("the forged plan wrote to the state file")
	}
	// The genuine plan applies.
	if code, _, stderr := run(t, dir, "apply", "$DIR/p.plan", "--state", "$DIR/state.json", "--auto-approve"); code != 0 {
		t.Errorf("genuine plan: exit %d: %s", code, stderr)
	}
}
