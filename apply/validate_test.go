package apply_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/generate"
)

// checkedBackend is the seed state file with policy checks that answer
// what a test says, by change kind.
type checkedBackend struct {
	apply.Backend
	findings map[string][]apply.PolicyFinding
	errs     map[string]error
	sent     []string
}

func (b *checkedBackend) Validate(_ context.Context, c generate.Change) ([]apply.PolicyFinding, error) {
	b.sent = append(b.sent, c.Kind+" "+string(c.Action))
	return b.findings[c.Kind], b.errs[c.Kind]
}

func seedChecked(t *testing.T, findings map[string][]apply.PolicyFinding, errs map[string]error) *checkedBackend {
	t.Helper()
	f, err := statefile.Open("../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	return &checkedBackend{Backend: f, findings: findings, errs: errs}
}

func findingCodes(fs []generate.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func checkStatuses(p *apply.Plan) map[string]string {
	out := map[string]string{}
	for _, d := range p.View.Validation {
		out[d.Kind] = d.Status
	}
	return out
}

// An error or public access in a statement kmsgrant writes (or in none in
// particular) blocks; in a statement the document holds already it is a
// warning, as is every other finding.
func TestValidateAttributesFindings(t *testing.T) {
	b := seedChecked(t, map[string][]apply.PolicyFinding{
		// Statement 0 is DenyInsecureTransport, which the bucket
		// policy holds already; statement 1 is kmsgrant's.
		generate.KindBucketPolicy: {
			{Check: apply.CheckValidatePolicy, Type: apply.FindingError, Code: "OLD_ERROR", Detail: "Pre-existing.", Statement: 0},
			{Check: apply.CheckValidatePolicy, Type: apply.FindingSecurityWarning, Code: "PASS_ROLE", Detail: "Broad.", Statement: 1},
		},
		generate.KindKeyPolicy: {
			{Check: apply.CheckNoPublicAccess, Type: apply.FindingPublic, Detail: "Open to all.", Statement: 1},
		},
		generate.KindIAMPolicy: {
			{Check: apply.CheckValidatePolicy, Type: apply.FindingError, Code: "WHOLE", Detail: "Broken", LearnMore: "https://docs.example/whole", Statement: -1},
			{Check: apply.CheckValidatePolicy, Type: apply.FindingSuggestion, Code: "STYLE", Statement: 0},
		},
	}, nil)
	p := seedPlan(t, "arn:aws:iam::444455556666:role/reader")
	v, err := apply.Validate(context.Background(), b, p)
	if err != nil {
		t.Fatal(err)
	}
	wantSent := []string{"bucket_policy update", "key_policy update", "iam_policy create"}
	if diff := cmp.Diff(wantSent, b.sent); diff != "" {
		t.Errorf("documents sent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{apply.CodeValidationFailed, apply.CodeValidationFailed}, findingCodes(v.View.Blockers)); diff != "" {
		t.Fatalf("blockers (-want +got):\n%s", diff)
	}
	key, iam := v.View.Blockers[0], v.View.Blockers[1]
	if !strings.Contains(key.Message, `CheckNoPublicAccess reports public access in statement "KmsgrantDecrypt570DB5F9" of the key policy of arn:aws:kms:`) ||
		!strings.HasSuffix(key.Message, ": Open to all") {
		t.Errorf("key blocker message: %s", key.Message)
	}
	if iam.Message != "IAM Access Analyzer's ValidatePolicy reports ERROR WHOLE in the document of the inline policy kmsgrant-doc-example-bucket of arn:aws:iam::444455556666:role/reader: Broken" ||
		iam.Fix != "kmsgrant writes no document with an error AWS finds; see https://docs.example/whole" || iam.Target != "arn:aws:iam::444455556666:role/reader" {
		t.Errorf("iam blocker: %+v", iam)
	}
	var warnings []string
	for _, w := range v.View.Warnings {
		if w.Code == apply.CodeValidationFinding {
			warnings = append(warnings, w.Message)
		}
	}
	wantWarnings := []string{
		`IAM Access Analyzer's ValidatePolicy reports ERROR OLD_ERROR in statement "DenyInsecureTransport" of the bucket policy of doc-example-bucket: Pre-existing (a statement kmsgrant leaves as it is: the document holds it already)`,
		`IAM Access Analyzer's ValidatePolicy reports SECURITY_WARNING PASS_ROLE in statement "KmsgrantGetObject7CFD1E2A" of the bucket policy of doc-example-bucket: Broad`,
		`IAM Access Analyzer's ValidatePolicy reports SUGGESTION STYLE in statement "KmsgrantGetObjectEFF1DE02" of the inline policy kmsgrant-doc-example-bucket of arn:aws:iam::444455556666:role/reader`,
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	want := map[string]string{generate.KindBucketPolicy: "findings", generate.KindKeyPolicy: "failed", generate.KindIAMPolicy: "failed"}
	if diff := cmp.Diff(want, checkStatuses(v)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// A blocked plan writes nothing and shows nothing to write.
	if !v.Blocked() || v.HasChanges() || len(v.View.Changes) != 0 || v.View.Summary != (apply.Summary{}) {
		t.Errorf("blocked plan: blocked %v, %d changes, summary %+v", v.Blocked(), len(v.View.Changes), v.View.Summary)
	}
	// The plan validated is left as it was.
	if p.Blocked() || len(p.View.Validation) != 0 {
		t.Error("Validate changed the plan it was given")
	}
}

// A check that could not be made is listed under not_checked, and its
// document is not reported as passed; the plan goes on.
func TestValidateNotCheckedIsNotPassed(t *testing.T) {
	b := seedChecked(t, nil, map[string]error{generate.KindKeyPolicy: errors.New("ValidatePolicy was denied to profile \"owner\"")})
	p := seedPlan(t, "arn:aws:iam::444455556666:role/reader")
	v, err := apply.Validate(context.Background(), b, p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{generate.KindBucketPolicy: "passed", generate.KindKeyPolicy: "not_checked", generate.KindIAMPolicy: "passed"}
	if diff := cmp.Diff(want, checkStatuses(v)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	last := v.View.NotChecked[len(v.View.NotChecked)-1]
	wantLast := generate.Finding{Code: "not_checked", Target: "IAM Access Analyzer",
		Message: `did not check the key policy of ` + p.View.Changes[2].Target + `: ValidatePolicy was denied to profile "owner"`,
		Fix:     "give credentials of account 111122223333 that may call access-analyzer:ValidatePolicy (and CheckNoPublicAccess for a bucket or key policy)"}
	if diff := cmp.Diff(wantLast, last); diff != "" {
		t.Errorf("not_checked (-want +got):\n%s", diff)
	}
	if v.Blocked() || !v.HasChanges() {
		t.Errorf("blocked %v, changes %v: want the plan to go on", v.Blocked(), v.HasChanges())
	}
}

// Only documents kmsgrant would write, or shows for a person to attach,
// are sent: not the default encryption, not a document that needs nothing.
func TestValidateSendsPoliciesOnly(t *testing.T) {
	b := seedChecked(t, nil, nil)
	p := seedPlan(t, "444455556666", "read")
	if _, err := apply.Validate(context.Background(), b, p); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"bucket_policy update", "key_policy update", "iam_policy manual"}, b.sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}

	f, err := statefile.Open("../examples/already-granted/state.json")
	if err != nil {
		t.Fatal(err)
	}
	nothing := &checkedBackend{Backend: f}
	if _, err := apply.Validate(context.Background(), nothing, seedPlan(t, "arn:aws:iam::444455556666:role/reader")); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNeedsAWS(t *testing.T) {
	f, err := statefile.Open("../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Validate(context.Background(), f, seedPlan(t, "arn:aws:iam::444455556666:role/reader")); !errors.Is(err, apply.ErrNoValidator) {
		t.Errorf("err = %v, want ErrNoValidator", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := apply.Validate(ctx, seedChecked(t, nil, nil), seedPlan(t, "arn:aws:iam::444455556666:role/reader")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v, want context.Canceled", err)
	}
}

// The text plan says what the checks found for each document.
func TestValidatedPlanText(t *testing.T) {
	b := seedChecked(t, map[string][]apply.PolicyFinding{
		generate.KindIAMPolicy: {{Check: apply.CheckValidatePolicy, Type: apply.FindingSuggestion, Code: "EMPTY_ARRAY_CONDITION", Detail: "Remove the empty condition.",
			LearnMore: "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html", Statement: 1}},
	}, map[string]error{generate.KindKeyPolicy: errors.New(`CheckNoPublicAccess was denied to profile "owner" (it needs access-analyzer:CheckNoPublicAccess)`)})
	v, err := apply.Validate(context.Background(), b, seedPlan(t, "arn:aws:iam::444455556666:role/reader"))
	if err != nil {
		t.Fatal(err)
	}
	var text, tf bytes.Buffer
	if err := v.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteTerraform(&tf); err != nil {
		t.Fatal(err)
	}
	golden(t, "seed_role_read_validated.txt", text.Bytes())
	for _, want := range []string{
		"# IAM Access Analyzer: passed      bucket_policy arn:aws:s3:::doc-example-bucket\n",
		"# IAM Access Analyzer: not checked key_policy arn:aws:kms:",
		"# Warning: validation_finding: IAM Access Analyzer's ValidatePolicy reports SUGGESTION EMPTY_ARRAY_CONDITION",
	} {
		if !strings.Contains(tf.String(), want) {
			t.Errorf("the Terraform rendering lacks %q", want)
		}
	}
}
