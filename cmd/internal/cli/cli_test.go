package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/applytest"
	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
	"github.com/kmsgrant/kmsgrant/cmd/internal/prompt"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

func TestPlanFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    string
		want    PlanOptions
		wantErr string
	}{
		{
			name: "defaults",
			args: "--state s.json --bucket b1 --grantee 444455556666",
			want: PlanOptions{Grant: GrantFlags{State: "s.json", Bucket: "b1", Grantee: "444455556666", Access: "read"}, Output: "text"},
		},
		{
			name: "everything",
			args: "--state s.json --bucket b1 --grantee arn:aws:iam::444455556666:role/r --prefix p/ --key alias/k --access read,list -o json --detailed-exitcode --iam-policy-name custom",
			want: PlanOptions{Grant: GrantFlags{State: "s.json", Bucket: "b1", Grantee: "arn:aws:iam::444455556666:role/r", Prefix: "p/", Key: "alias/k", Access: "read,list", IAMPolicyName: "custom"}, Output: "json", DetailedExitcode: true},
		},
		{
			name: "terraform",
			args: "--state s.json --bucket b1 --grantee 444455556666 -o terraform --out p.json",
			want: PlanOptions{Grant: GrantFlags{State: "s.json", Bucket: "b1", Grantee: "444455556666", Access: "read"}, Output: "terraform", Out: "p.json"},
		},
		{
			name: "cloudformation, validated",
			args: "--owner-profile o --bucket b1 --grantee 444455556666 --output cloudformation --validate",
			want: PlanOptions{Grant: GrantFlags{OwnerProfile: "o", Bucket: "b1", Grantee: "444455556666", Access: "read"}, Output: "cloudformation", Validate: true},
		},
		{
			name: "one profile for both accounts",
			args: "--profile data-owner --bucket b1 --grantee 444455556666",
			want: PlanOptions{Grant: GrantFlags{Profile: "data-owner", Bucket: "b1", Grantee: "444455556666", Access: "read"}, Output: "text"},
		},
		{name: "bad output", args: "--state s --bucket b1 --grantee 444455556666 --output yaml", wantErr: `--output: unknown format "yaml" (want text, json, terraform or cloudformation)`},
		{name: "validate with a state file", args: "--state s --bucket b1 --grantee 444455556666 --validate", wantErr: `--validate sends the documents to IAM Access Analyzer, so it needs AWS; it does not work with --state`},
		{name: "positional argument", args: "--state s extra", wantErr: `unknown command "extra" for "plan"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, _, _, _ := iostreams.Test()
			f := &Factory{IO: io}
			var got *PlanOptions
			cmd := NewCmdPlan(f, func(_ context.Context, o *PlanOptions) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tc.args))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Factory = nil
			if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(GrantFlags{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGrantFromFlags(t *testing.T) {
	base := GrantFlags{State: "s.json", Bucket: "doc-example-bucket", Grantee: "arn:aws:iam::444455556666:user/team/alice", Access: "write"}
	g, blocker, err := base.grant()
	if err != nil || blocker != nil {
		t.Fatalf("grant() = %v, %v", blocker, err)
	}
	want := generate.Grant{
		Bucket:        "doc-example-bucket",
		Grantee:       arns.Principal{Kind: arns.User, Partition: "aws", Account: "444455556666", Path: "/team/", Name: "alice"},
		Access:        []string{"read", "write"},
		IAMPolicyName: "kmsgrant",
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("grant (-want +got):\n%s", diff)
	}

	wild := base
	wild.Grantee = "*"
	if _, blocker, err := wild.grant(); err != nil || blocker == nil || blocker.Code != generate.CodeWildcardGrantee {
		t.Errorf("wildcard grantee: blocker %+v, err %v", blocker, err)
	}

	// A legacy bucket name is taken: only reading the bucket tells its
	// Region, and so whether the name can exist; its grants go into the
	// inline policy all grants share.
	legacy := base
	legacy.Bucket = "Legacy_" + strings.Repeat("b", 200)
	if g, _, err := legacy.grant(); err != nil || g.IAMPolicyName != generate.IAMPolicyName {
		t.Errorf("legacy bucket name: IAM policy name %q, err %v", g.IAMPolicyName, err)
	}

	badName := base
	badName.IAMPolicyName = "has space"
	if _, _, err := badName.grant(); err == nil || !strings.HasPrefix(err.Error(), "--iam-policy-name:") {
		t.Errorf("bad policy name: err = %v", err)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		wantCode   int
		wantStderr string
	}{
		{"success", nil, 0, ""},
		{"plain error", errors.New("boom"), 1, "Error: boom\n"},
		{"error with hint", &hintError{err: errors.New("boom"), hint: "try this"}, 1, "Error: boom\nhint: try this\n"},
		{"changes present", &exitError{code: ExitChanges, silent: true}, 2, ""},
		{"wrapped hint", errors.Join(&hintError{err: errors.New("inner"), hint: "h"}), 1, "Error: inner\nhint: h\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tc.err, &stderr); got != tc.wantCode {
				t.Errorf("exit code %d, want %d", got, tc.wantCode)
			}
			if diff := cmp.Diff(tc.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

type fakePrompter struct {
	answer  string
	err     error
	asked   int
	message string
}

func (p *fakePrompter) Input(_ context.Context, message string) (string, error) {
	p.asked++
	p.message = message
	return p.answer, p.err
}

func seedBackend(t *testing.T) *applytest.Backend {
	t.Helper()
	doc, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	role := "arn:aws:iam::444455556666:role/reader"
	p, _ := arns.ParsePrincipal(role, "aws")
	return &applytest.Backend{
		Buckets: map[string]*generate.Bucket{"doc-example-bucket": {
			Name: "doc-example-bucket", Account: "111122223333", Region: "us-west-2", Ownership: "BucketOwnerEnforced",
			Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		}},
		Keys: []*generate.Key{{ARN: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			Account: "111122223333", Region: "us-west-2", Manager: "CUSTOMER", State: "Enabled", Policy: doc}},
		Grantees: map[string]*generate.Grantee{role: {Principal: p}},
	}
}

func TestApplyConfirmation(t *testing.T) {
	for _, tc := range []struct {
		name        string
		tty         bool
		autoApprove bool
		prompter    *fakePrompter
		wantErr     string
		wantWrites  int
		wantAsked   int
	}{
		{name: "no terminal refuses", prompter: &fakePrompter{answer: "yes"}, wantErr: "refusing to apply without a terminal to confirm on; nothing was changed"},
		{name: "no terminal with auto-approve applies", autoApprove: true, prompter: &fakePrompter{}, wantWrites: 3},
		{name: "terminal and yes applies", tty: true, prompter: &fakePrompter{answer: "yes"}, wantWrites: 3, wantAsked: 1},
		{name: "terminal and y cancels, saying why", tty: true, prompter: &fakePrompter{answer: "y"}, wantErr: `apply cancelled: the answer was "y", and only 'yes' approves; nothing was changed`, wantAsked: 1},
		{name: "terminal and YES cancels", tty: true, prompter: &fakePrompter{answer: "YES"}, wantErr: `apply cancelled: the answer was "YES", and only 'yes' approves; nothing was changed`, wantAsked: 1},
		{name: "terminal and Enter cancels", tty: true, prompter: &fakePrompter{answer: ""}, wantErr: "apply cancelled: no answer was typed, and only 'yes' approves; nothing was changed", wantAsked: 1},
		{name: "terminal and Ctrl-C cancels", tty: true, prompter: &fakePrompter{err: prompt.ErrInterrupted}, wantErr: "apply cancelled (interrupted at the prompt); nothing was changed", wantAsked: 1},
		{name: "terminal and Ctrl-D cancels", tty: true, prompter: &fakePrompter{err: prompt.ErrNoAnswer}, wantErr: "apply cancelled: the input ended before an answer; nothing was changed", wantAsked: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Backups go to the test's own folder.
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Setenv("HOME", t.TempDir())
			io, _, out, _ := iostreams.Test()
			io.SetTTY(tc.tty, tc.tty, tc.tty)
			backend := seedBackend(t)
			f := &Factory{IO: io, Prompter: tc.prompter, OpenState: func(string) (apply.Backend, error) { return backend, nil }}
			opts := &ApplyOptions{Factory: f, AutoApprove: tc.autoApprove, Grant: GrantFlags{
				State: "s.json", Bucket: "doc-example-bucket", Grantee: "arn:aws:iam::444455556666:role/reader", Access: "read"}}
			err := applyRun(context.Background(), opts)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if len(backend.Written) != tc.wantWrites {
				t.Errorf("%d writes, want %d", len(backend.Written), tc.wantWrites)
			}
			if tc.prompter.asked != tc.wantAsked {
				t.Errorf("asked %d times, want %d", tc.prompter.asked, tc.wantAsked)
			}
			if tc.wantAsked > 0 && !strings.Contains(tc.prompter.message, "Only 'yes' will be accepted to approve.") {
				t.Errorf("the question does not say up front what approves:\n%s", tc.prompter.message)
			}
			if tc.wantWrites > 0 && !strings.Contains(out.String(), "Apply complete: 2 created, 1 updated.") {
				t.Errorf("stdout lacks the summary:\n%s", out.String())
			}
		})
	}
}

// revoke and restore ask and refuse in their own words.
func TestConfirmationSpeaksOfTheCommand(t *testing.T) {
	for _, tc := range []struct {
		operation, question string
	}{
		{"apply", "Apply these changes?"},
		{"revoke", "Revoke this access?"},
		{"restore", "Restore these documents?"},
	} {
		t.Run(tc.operation, func(t *testing.T) {
			io, _, _, _ := iostreams.Test()
			p := &fakePrompter{answer: "no"}
			f := &Factory{IO: io, Prompter: p}
			err := confirm(context.Background(), f, tc.operation)
			if want := "refusing to " + tc.operation + " without a terminal to confirm on; nothing was changed"; err == nil || err.Error() != want {
				t.Errorf("without a terminal: err = %v, want %q", err, want)
			}
			io.SetTTY(true, false, true)
			err = confirm(context.Background(), f, tc.operation)
			if want := tc.operation + ` cancelled: the answer was "no", and only 'yes' approves; nothing was changed`; err == nil || err.Error() != want {
				t.Errorf("answered no: err = %v, want %q", err, want)
			}
			if !strings.Contains(p.message, tc.question) {
				t.Errorf("question %q lacks %q", p.message, tc.question)
			}
		})
	}
}

// checkingBackend has policy checks that find an error in every statement
// kmsgrant writes once broken is set.
type checkingBackend struct {
	*applytest.Backend
	broken bool
}

func (b *checkingBackend) Validate(context.Context, generate.Change) ([]apply.PolicyFinding, error) {
	if !b.broken {
		return nil, nil
	}
	return []apply.PolicyFinding{{Check: apply.CheckValidatePolicy, Type: apply.FindingError, Code: "BROKEN", Statement: -1}}, nil
}

// With --validate, a plan made again during apply (another writer changed
// a target) goes through the checks too.
func TestValidatedChecksPlansMadeAgain(t *testing.T) {
	ctx := context.Background()
	b := &checkingBackend{Backend: seedBackend(t)}
	g, _, err := (&GrantFlags{State: "s.json", Bucket: "doc-example-bucket", Grantee: "arn:aws:iam::444455556666:role/reader", Access: "read"}).grant()
	if err != nil {
		t.Fatal(err)
	}
	p, err := apply.NewPlan(ctx, b, g)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := validated(ctx, &planned{backend: b, plan: p, replan: replanner(b, []apply.Labelled{{Grant: g}}, generate.OpGrant)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.plan.View.Validation) != 3 || pl.plan.Blocked() {
		t.Fatalf("validated plan: %d checks, blocked %v", len(pl.plan.View.Validation), pl.plan.Blocked())
	}
	b.broken = true
	again, err := pl.replan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Blocked() || again.View.Blockers[0].Code != apply.CodeValidationFailed {
		t.Errorf("plan made again: blockers %v, want validation_failed", again.View.Blockers)
	}

	// A plan blocked before anything was read has nothing to check.
	blocked := &planned{plan: apply.FromResult(generate.Blocked(generate.Finding{Code: generate.CodeWildcardGrantee}))}
	if got, err := validated(ctx, blocked); err != nil || got != blocked {
		t.Errorf("validated(blocked) = %v, %v", got, err)
	}
}

// A plan made again during apply (another writer changed a target) may
// write only the targets the person approved; it is backed up and said
// before it is written.
func TestApprovedReplan(t *testing.T) {
	backend := seedBackend(t)
	g := generate.Grant{Bucket: "doc-example-bucket", Grantee: mustPrincipal(t, "arn:aws:iam::444455556666:role/reader"), Access: []string{"read"}, IAMPolicyName: "kmsgrant-doc-example-bucket"}
	full, err := apply.NewPlan(context.Background(), backend, g)
	if err != nil {
		t.Fatal(err)
	}
	// Approved: the plan without its IAM change.
	var changes []generate.Change
	for _, c := range full.Result.Changes {
		if c.Kind != generate.KindIAMPolicy {
			changes = append(changes, c)
		}
	}
	res := *full.Result
	res.Changes = changes
	approved := apply.FromResult(&res)

	io, _, _, stderr := iostreams.Test()
	f := &Factory{IO: io}
	dir := t.TempDir()
	same := approvedReplan(f, func(context.Context) (*apply.Plan, error) { return approved, nil }, approved, dir)
	if _, err := same(context.Background()); err != nil {
		t.Fatalf("the approved targets again: %v", err)
	}
	if !strings.Contains(stderr.String(), "Another writer changed bucket_policy arn:aws:s3:::doc-example-bucket") || !strings.Contains(stderr.String(), "backed up to "+dir) {
		t.Errorf("stderr = %q", stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d backups, want 1", len(entries))
	}
	more := approvedReplan(f, func(context.Context) (*apply.Plan, error) { return full, nil }, approved, dir)
	if _, err := more(context.Background()); err == nil || !strings.Contains(err.Error(), "would also write iam_policy arn:aws:iam::444455556666:role/reader, which was not in the plan approved: plan again") {
		t.Errorf("a target not approved: err = %v", err)
	}
}

func mustPrincipal(t *testing.T, s string) arns.Principal {
	t.Helper()
	p, err := arns.ParsePrincipal(s, "aws")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// --verify-delay defaults to live.DefaultVerifyDelay; 0 means reading back
// at once; with a state file it is refused, as other live flags are.
func TestVerifyDelayFlag(t *testing.T) {
	for _, tc := range []struct {
		args    string
		want    time.Duration
		wantErr string
	}{
		{args: "--bucket bucket-1 --grantee 444455556666", want: 2 * time.Second},
		{args: "--bucket bucket-1 --grantee 444455556666 --verify-delay 0", want: -1},
		{args: "--bucket bucket-1 --grantee 444455556666 --verify-delay 500ms", want: 500 * time.Millisecond},
		{args: "--state s.json --bucket bucket-1 --grantee 444455556666 --verify-delay 1s", wantErr: "--state plans against a file: --profile, --owner-profile, --grantee-profile, --region, --endpoint-url, --check-objects and --verify-delay are for live AWS"},
		{args: "--bucket bucket-1 --grantee 444455556666 --verify-delay -1s", wantErr: "--verify-delay: want a duration of 0 or more, not -1s"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			io, _, _, _ := iostreams.Test()
			var got *ApplyOptions
			cmd := NewCmdApply(&Factory{IO: io}, func(_ context.Context, o *ApplyOptions) error { got = o; return nil })
			cmd.SetArgs(strings.Fields(tc.args))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			_, _, err := got.Grant.grant()
			if err == nil {
				err = got.Grant.checkAccounts()
			}
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := verifyDelay(got.Grant.VerifyDelay); d != tc.want {
				t.Errorf("live verify delay %s, want %s", d, tc.want)
			}
		})
	}
}

func TestBuildFrom(t *testing.T) {
	vcs := func(revision, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: modified}}
	}
	const commit = "32c5818abcdef0123456789abcdef0123456789a"
	for _, tc := range []struct {
		name    string
		ldflags string
		info    *debug.BuildInfo
		want    Build
	}{
		{name: "no build information", want: Build{Version: "dev"}},
		{name: "-ldflags wins", ldflags: "v1.2.3", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.0.0"}},
			want: Build{Version: "v1.2.3", GoVersion: "go1.26.0"}},
		{name: "go install of a release", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}},
			want: Build{Version: "v1.4.0", GoVersion: "go1.26.0"}},
		{name: "a checkout's pseudo-version", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20260101000000-32c5818abcde+dirty"}, Settings: vcs(commit, "true")},
			want: Build{Version: "v0.0.0-20260101000000-32c5818abcde+dirty", Commit: commit, Modified: true, GoVersion: "go1.26.0"}},
		{name: "devel with a commit", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs(commit, "false")},
			want: Build{Version: "dev+32c5818abcde", Commit: commit, GoVersion: "go1.26.0"}},
		{name: "devel with changes", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs(commit, "true")},
			want: Build{Version: "dev+32c5818abcde.dirty", Commit: commit, Modified: true, GoVersion: "go1.26.0"}},
		{name: "devel without VCS", info: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			want: Build{Version: "dev", GoVersion: "go1.26.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := buildFrom(tc.ldflags, tc.info)
			if tc.info == nil {
				got.GoVersion = ""
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("build (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVersionText(t *testing.T) {
	f := &Factory{Build: Build{Version: "v1.4.0", Commit: "32c5818", Modified: true, GoVersion: "go1.26.0"}}
	want := "kmsgrant v1.4.0\ncommit 32c5818 (with uncommitted changes)\nbuilt with go1.26.0 for " + runtime.GOOS + "/" + runtime.GOARCH
	if got := versionText(f); got != want {
		t.Errorf("versionText = %q, want %q", got, want)
	}
}

func TestCheckDashes(t *testing.T) {
	for _, tc := range []struct {
		args, wantErr, wantHint string
	}{
		{args: "plan --bucket b -out=x.plan", wantErr: "-out=x.plan: kmsgrant's long flags take two dashes", wantHint: "did you mean --out=x.plan?"},
		{args: "plan -detailed-exitcode -output json", wantErr: "-detailed-exitcode -output: kmsgrant's long flags take two dashes", wantHint: "did you mean --detailed-exitcode --output?"},
		{args: "plan -o json -ojson"},
		{args: "plan --prefix -out --grantee -bucket"},
		{args: "plan --detailed-exitcode -h"},
		{args: "plan -- -out"},
		{args: "nonsense -out"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			io, _, _, _ := iostreams.Test()
			err := checkDashes(NewCmdRoot(&Factory{IO: io}), strings.Fields(tc.args))
			var he *hintError
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (!errors.As(err, &he) || he.Error() != tc.wantErr || he.hint != tc.wantHint):
				t.Errorf("err = %#v, want %q with hint %q", err, tc.wantErr, tc.wantHint)
			}
		})
	}
}

// explain's fix is the plan command for the same accounts, --profile
// included.
func TestFixCommandKeepsTheProfile(t *testing.T) {
	flags := GrantFlags{Profile: "data-owner", GranteeProfile: "analytics", Bucket: "bucket1", Grantee: "444455556666", Access: "read"}
	g, _, err := flags.grant()
	if err != nil {
		t.Fatal(err)
	}
	want := "kmsgrant plan --profile data-owner --grantee-profile analytics --bucket bucket1 --grantee 444455556666"
	if got := fixCommand(flags, g); got != want {
		t.Errorf("fixCommand = %q, want %q", got, want)
	}
}
