package live_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
	"github.com/kmsgrant/kmsgrant/generate"
)

// validatedPlan plans a read of reports/ in the seed example for the reader
// role and has Access Analyzer check it.
func validatedPlan(t *testing.T, srv *livetest.Server, granteeAccount string) (*apply.Plan, *apply.Plan) {
	t.Helper()
	b, err := backend(t, srv, owner, granteeAccount)
	if err != nil {
		t.Fatal(err)
	}
	p, err := apply.NewPlan(context.Background(), b, grant(t, "doc-example-bucket", "reports/", reader))
	if err != nil {
		t.Fatal(err)
	}
	v, err := apply.Validate(context.Background(), b, p)
	if err != nil {
		t.Fatal(err)
	}
	return p, v
}

func statuses(p *apply.Plan) map[string]string {
	out := map[string]string{}
	for _, d := range p.View.Validation {
		out[d.Kind] = d.Status
	}
	return out
}

func codes(fs []generate.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// Each document goes to Access Analyzer with the credentials of the account
// that owns it, as the policy type and resource type it is, and as Write
// would send it.
func TestValidateSendsEachDocumentAsItsOwner(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	p, v := validatedPlan(t, srv, partner)
	want := map[string]string{generate.KindBucketPolicy: "passed", generate.KindKeyPolicy: "passed", generate.KindIAMPolicy: "passed"}
	if diff := cmp.Diff(want, statuses(v)); diff != "" {
		t.Errorf("validation (-want +got):\n%s", diff)
	}
	if v.Blocked() || len(v.View.Changes) != len(p.View.Changes) {
		t.Errorf("a plan that passed changed: blocked %v, %d changes, want %d", v.Blocked(), len(v.View.Changes), len(p.View.Changes))
	}
	docs := map[string]string{}
	for _, c := range p.Result.Changes {
		if c.Policy != nil {
			docs[c.Kind] = string(c.Policy.Compact())
		}
	}
	wantCalls := []livetest.AnalyzerCall{
		{Account: owner, Region: "us-west-2", Op: "ValidatePolicy", PolicyType: "RESOURCE_POLICY", ResourceType: "AWS::S3::Bucket", Document: docs[generate.KindBucketPolicy]},
		{Account: owner, Region: "us-west-2", Op: "CheckNoPublicAccess", ResourceType: "AWS::S3::Bucket", Document: docs[generate.KindBucketPolicy]},
		// ValidatePolicy has no resource type for KMS keys.
		{Account: owner, Region: "us-west-2", Op: "ValidatePolicy", PolicyType: "RESOURCE_POLICY", Document: docs[generate.KindKeyPolicy]},
		{Account: owner, Region: "us-west-2", Op: "CheckNoPublicAccess", ResourceType: "AWS::KMS::Key", Document: docs[generate.KindKeyPolicy]},
		{Account: partner, Region: "us-west-2", Op: "ValidatePolicy", PolicyType: "IDENTITY_POLICY", Document: docs[generate.KindIAMPolicy]},
	}
	if diff := cmp.Diff(wantCalls, srv.AnalyzerCalls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// An ERROR in a statement kmsgrant writes blocks the plan, naming the
// finding and the statement; the validator's paging is followed.
func TestValidateErrorBlocks(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	srv.AddFinding(livetest.PolicyFinding{PolicyType: "RESOURCE_POLICY", SidPrefix: "KmsgrantDecrypt", FindingType: "ERROR",
		IssueCode: "INVALID_CONDITION_KEY", Details: "The condition key is not valid."})
	for range 3 {
		srv.AddFinding(livetest.PolicyFinding{PolicyType: "IDENTITY_POLICY", FindingType: "SUGGESTION", IssueCode: "EMPTY_ARRAY_ACTION", Details: "Add an action."})
	}
	_, v := validatedPlan(t, srv, partner)
	if !v.Blocked() || len(v.View.Changes) != 0 || v.HasChanges() {
		t.Fatalf("blocked %v with %d changes, want blocked with none", v.Blocked(), len(v.View.Changes))
	}
	if diff := cmp.Diff([]string{apply.CodeValidationFailed}, codes(v.View.Blockers)); diff != "" {
		t.Fatalf("blockers (-want +got):\n%s", diff)
	}
	b := v.View.Blockers[0]
	wantMsg := `IAM Access Analyzer's ValidatePolicy reports ERROR INVALID_CONDITION_KEY in statement "KmsgrantDecrypt570DB5F9" of the key policy of ` + b.Target + `: The condition key is not valid`
	if b.Message != wantMsg || !strings.HasPrefix(b.Target, "arn:aws:kms:") {
		t.Errorf("blocker = %+v\nwant message %s", b, wantMsg)
	}
	want := map[string]string{generate.KindBucketPolicy: "passed", generate.KindKeyPolicy: "failed", generate.KindIAMPolicy: "findings"}
	if diff := cmp.Diff(want, statuses(v)); diff != "" {
		t.Errorf("validation (-want +got):\n%s", diff)
	}
	// Three suggestions on the IAM policy, over two pages.
	if n := strings.Count(strings.Join(codes(v.View.Warnings), " "), apply.CodeValidationFinding); n != 3 {
		t.Errorf("%d validation warnings, want 3: %v", n, v.View.Warnings)
	}
}

// A public result in a statement kmsgrant writes blocks; one in a statement
// the policy holds already is a warning: kmsgrant leaves that statement as
// it is.
func TestValidatePublic(t *testing.T) {
	t.Run("kmsgrant's statement", func(t *testing.T) {
		srv := livetest.New(t, example(t, "seed"))
		srv.SetPublic(livetest.PublicResult{ResourceType: "AWS::S3::Bucket", SidPrefix: "KmsgrantGetObject"})
		_, v := validatedPlan(t, srv, partner)
		if diff := cmp.Diff([]string{apply.CodeValidationFailed}, codes(v.View.Blockers)); diff != "" {
			t.Fatalf("blockers (-want +got):\n%s", diff)
		}
		if !strings.Contains(v.View.Blockers[0].Message, `CheckNoPublicAccess reports public access in statement "KmsgrantGetObject`) {
			t.Errorf("blocker message: %s", v.View.Blockers[0].Message)
		}
	})
	t.Run("a statement already there", func(t *testing.T) {
		state := withBucketStatement(t, example(t, "seed"), `{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/public/*"}`)
		srv := livetest.New(t, state)
		_, v := validatedPlan(t, srv, partner)
		if v.Blocked() {
			t.Fatalf("blocked by %v", v.View.Blockers)
		}
		var found bool
		for _, w := range v.View.Warnings {
			if w.Code == apply.CodeValidationFinding && strings.Contains(w.Message, `public access in statement "PublicRead"`) &&
				strings.Contains(w.Message, "kmsgrant leaves as it is") {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning of the public statement: %v", v.View.Warnings)
		}
	})
}

// withBucketStatement adds a statement to the seed bucket's policy.
func withBucketStatement(t *testing.T, state []byte, statement string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(state, &doc); err != nil {
		t.Fatal(err)
	}
	var st any
	if err := json.Unmarshal([]byte(statement), &st); err != nil {
		t.Fatal(err)
	}
	bucket := doc["accounts"].(map[string]any)[owner].(map[string]any)["buckets"].(map[string]any)["doc-example-bucket"].(map[string]any)
	pol := bucket["policy"].(map[string]any)
	pol["Statement"] = append(pol["Statement"].([]any), st)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Access Analyzer that is denied or unavailable leaves the documents not
// checked, never passed; the plan goes on.
func TestValidateNotChecked(t *testing.T) {
	for _, tc := range []struct {
		name, op    string
		status      int
		code        string
		wantMessage string
	}{
		{"denied", "access-analyzer:ValidatePolicy", 403, "AccessDeniedException",
			`ValidatePolicy was denied to default credentials (arn:aws:iam::111122223333:user/test) (it needs access-analyzer:ValidatePolicy)`},
		{"unavailable", "access-analyzer:CheckNoPublicAccess", 503, "ServiceUnavailableException",
			`CheckNoPublicAccess failed: ServiceUnavailableException: down`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := livetest.New(t, example(t, "seed"))
			srv.Fail(tc.op, 100, tc.status, tc.code, "down")
			_, v := validatedPlan(t, srv, partner)
			if v.Blocked() {
				t.Fatalf("blocked by %v", v.View.Blockers)
			}
			st := statuses(v)
			if st[generate.KindBucketPolicy] != "not_checked" || st[generate.KindKeyPolicy] != "not_checked" {
				t.Errorf("statuses %v, want the owner's documents not_checked", st)
			}
			var msgs []string
			for _, f := range v.View.NotChecked {
				if f.Target == "IAM Access Analyzer" {
					msgs = append(msgs, f.Message)
				}
			}
			if len(msgs) < 2 || !strings.Contains(msgs[0], tc.wantMessage) {
				t.Errorf("not_checked messages %q, want one with %q", msgs, tc.wantMessage)
			}
		})
	}
}

// Without grantee credentials the IAM policy (manual) is not checked: it
// would have to go with the grantee account's credentials.
func TestValidateWithoutGranteeCredentials(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	_, v := validatedPlan(t, srv, "")
	if got := statuses(v)[generate.KindIAMPolicy]; got != "not_checked" {
		t.Errorf("iam_policy status %q, want not_checked", got)
	}
	for _, c := range srv.AnalyzerCalls() {
		if c.Account != owner {
			t.Errorf("call as %s: %+v", c.Account, c)
		}
	}
}
