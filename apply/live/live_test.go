package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

const (
	owner   = "111122223333"
	partner = "444455556666"
	reader  = "arn:aws:iam::444455556666:role/reader"
)

func TestMain(m *testing.M) {
	// The tests talk to local servers only; never let the SDK look for
	// instance credentials.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

func example(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../../examples", name, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func grant(t testing.TB, bucket, prefix, grantee string, access ...string) generate.Grant {
	t.Helper()
	p, err := arns.ParsePrincipal(grantee, "aws")
	if err != nil {
		t.Fatal(err)
	}
	if len(access) == 0 {
		access = []string{"read"}
	}
	return generate.Grant{Bucket: bucket, Prefix: prefix, Grantee: p, Access: access, IAMPolicyName: generate.IAMPolicyName}
}

// backend connects to the server with owner and grantee credentials.
func backend(t testing.TB, srv *livetest.Server, ownerAccount, granteeAccount string, mods ...func(*live.Options)) (*live.Backend, error) {
	oc := srv.Config(ownerAccount, "us-west-2")
	opts := live.Options{OwnerConfig: &oc, EndpointURL: srv.URL, GranteeAccount: partner, InvalidPrincipalRetry: 500 * time.Millisecond, VerifyDelay: time.Millisecond}
	for _, m := range mods {
		m(&opts)
	}
	if granteeAccount != "" {
		gc := srv.Config(granteeAccount, "us-west-2")
		opts.GranteeConfig = &gc
	}
	return live.New(context.Background(), opts)
}

func mustBackend(t testing.TB, srv *livetest.Server, mods ...func(*live.Options)) *live.Backend {
	t.Helper()
	b, err := backend(t, srv, owner, partner, mods...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// filePlan plans g against the state file data: what the live backend's
// plan of the same accounts must equal.
func filePlan(t testing.TB, data []byte, g generate.Grant) (*statefile.File, *apply.Plan) {
	t.Helper()
	file, err := statefile.Parse("state.json", data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := apply.NewPlan(context.Background(), file, g)
	if err != nil {
		t.Fatal(err)
	}
	return file, p
}

func viewJSON(t testing.TB, p *apply.Plan) string {
	t.Helper()
	b, err := json.MarshalIndent(p.View, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The same accounts give the same plan whether they are read from a state
// file or through the SDK from servers that serve that state.
func TestLivePlanMatchesStateFile(t *testing.T) {
	for _, tc := range []struct {
		example string
		g       func(testing.TB) generate.Grant
	}{
		{"seed", func(t testing.TB) generate.Grant { return grant(t, "doc-example-bucket", "reports/", reader) }},
		{"seed", func(t testing.TB) generate.Grant {
			return grant(t, "doc-example-bucket", "", "arn:aws:iam::444455556666:user/team/alice", "list", "read", "write")
		}},
		{"perimeter", func(t testing.TB) generate.Grant {
			return grant(t, "ml-training-data", "datasets/", "arn:aws:iam::444455556666:role/trainer")
		}},
		{"already-granted", func(t testing.TB) generate.Grant {
			return grant(t, "analytics-exports", "", "arn:aws:iam::444455556666:role/service-role/etl", "list", "read")
		}},
		{"sse-s3", func(t testing.TB) generate.Grant {
			return grant(t, "public-datasets-staging", "", "arn:aws:iam::444455556666:user/ci")
		}},
	} {
		t.Run(tc.example, func(t *testing.T) {
			data := example(t, tc.example)
			g := tc.g(t)
			_, want := filePlan(t, data, g)
			srv := livetest.New(t, data)
			// Objects are looked at only on request (--check-objects).
			checkObjects := func(o *live.Options) { o.Prefix, o.CheckObjects = g.Prefix, 10 }
			got, err := apply.NewPlan(context.Background(), mustBackend(t, srv, checkObjects), g)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viewJSON(t, want), viewJSON(t, got)); diff != "" {
				t.Errorf("live plan differs from the state file's (-file +live):\n%s", diff)
			}
		})
	}
}

// Applying live writes what applying to the state file writes, and the
// second plan is empty.
func TestLiveApplyThenNothingToDo(t *testing.T) {
	data := example(t, "seed")
	g := grant(t, "doc-example-bucket", "reports/", reader)
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Execute(context.Background(), b, p); err != nil {
		t.Fatal(err)
	}
	var writes []string
	for _, c := range srv.Calls() {
		if strings.Contains(c, ":Put") {
			writes = append(writes, c)
		}
	}
	// Each document once; they are written at once, in no set order.
	slices.Sort(writes)
	want := []string{"iam:PutRolePolicy", "kms:PutKeyPolicy", "s3:PutBucketEncryption", "s3:PutBucketPolicy"}
	if diff := cmp.Diff(want, writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}

	// The same grant applied to the state file gives the same file.
	file, fp := filePlan(t, data, g)
	for _, c := range fp.Result.Changes {
		if c.Writes() {
			if err := file.Write(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if diff := cmp.Diff(string(file.Bytes()), string(srv.State())); diff != "" {
		t.Errorf("live apply and state-file apply disagree (-file +live):\n%s", diff)
	}

	again, err := apply.NewPlan(context.Background(), mustBackend(t, srv), g)
	if err != nil {
		t.Fatal(err)
	}
	if again.HasChanges() {
		t.Errorf("second plan has changes:\n%s", viewJSON(t, again))
	}
}

func TestLiveAccounts(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	if _, err := backend(t, srv, partner, partner); err == nil || !strings.Contains(err.Error(), "the owner credentials, default credentials (arn:aws:iam::444455556666:user/test), are for account 444455556666, the grantee's account") {
		t.Errorf("owner credentials in the grantee's account: err = %v", err)
	}
	if _, err := backend(t, srv, owner, "777788889999"); err == nil || !strings.Contains(err.Error(), "are for account 777788889999, but the grantee is in account 444455556666") {
		t.Errorf("grantee credentials of another account: err = %v", err)
	}
}

// Grantee credentials that cannot read IAM: the IAM side becomes manual,
// the owner side is still planned, and kmsgrant says why.
func TestLiveGranteeIAMUnreadable(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	srv.Fail("iam:GetRole", 1, 403, "AccessDenied", "not authorized to perform iam:GetRole")
	b := mustBackend(t, srv)
	p, err := apply.NewPlan(context.Background(), b, grant(t, "doc-example-bucket", "reports/", reader))
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range p.View.Changes {
		actions = append(actions, c.Kind+" "+string(c.Action))
	}
	want := []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy manual"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if notes := b.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "cannot read IAM in account 444455556666") {
		t.Errorf("notes = %q", notes)
	}
}

func TestLiveErrors(t *testing.T) {
	g := grant(t, "doc-example-bucket", "reports/", reader)
	for _, tc := range []struct {
		name, op   string
		status     int
		code       string
		wantSubstr string
	}{
		{"key policy denied", "kms:GetKeyPolicy", 400, "AccessDeniedException",
			"reading the key policy of arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab needs kms:GetKeyPolicy for default credentials"},
		{"bucket policy denied", "s3:GetBucketPolicy", 403, "AccessDenied",
			"reading the bucket policy of arn:aws:s3:::doc-example-bucket needs s3:GetBucketPolicy for default credentials"},
		{"describe key denied", "kms:DescribeKey", 400, "AccessDeniedException",
			"describing key alias/app-data (in account 111122223333, us-west-2) needs kms:DescribeKey for default credentials (arn:aws:iam::111122223333:user/test)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := livetest.New(t, example(t, "seed"))
			srv.Fail(tc.op, 10, tc.status, tc.code, "denied")
			_, err := apply.NewPlan(context.Background(), mustBackend(t, srv), g)
			if err == nil || !strings.Contains(err.Error(), tc.wantSubstr) {
				t.Errorf("err = %v\nwant it to contain %q", err, tc.wantSubstr)
			}
		})
	}
}

func TestLiveThrottlingIsRetried(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	srv.Fail("kms:DescribeKey", 2, 400, "ThrottlingException", "Rate exceeded")
	if _, err := apply.NewPlan(context.Background(), mustBackend(t, srv), grant(t, "doc-example-bucket", "reports/", reader)); err != nil {
		t.Fatalf("plan after throttling: %v", err)
	}
	describes := srv.CallCount("kms:DescribeKey")
	if describes != 3 {
		t.Errorf("DescribeKey called %d times, want 3 (two throttled)", describes)
	}
}

// A role created moments ago may not be visible to S3 yet: "Invalid
// principal in policy" is retried until it is.
func TestLiveInvalidPrincipalIsRetried(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	b := mustBackend(t, srv)
	p, err := apply.NewPlan(context.Background(), b, grant(t, "doc-example-bucket", "reports/", reader))
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail("s3:PutBucketPolicy", 2, 400, "MalformedPolicy", "Invalid principal in policy")
	if _, err := apply.Execute(context.Background(), b, p); err != nil {
		t.Fatalf("apply: %v", err)
	}
	puts := srv.RequestCount("s3:PutBucketPolicy")
	if puts != 3 {
		t.Errorf("PutBucketPolicy called %d times, want 3", puts)
	}
}

// A write that fails in the middle of apply: the writes made are rolled
// back (or, with NoRollback, kept), and the error says which targets are in
// which state; the accounts show exactly that. Documents are written at
// once, and none is started once one failed, so the others may have been
// written or not.
func TestLiveFailedWriteMidApply(t *testing.T) {
	const (
		enc  = "bucket_encryption arn:aws:s3:::doc-example-bucket"
		pol  = "bucket_policy arn:aws:s3:::doc-example-bucket"
		key  = "key_policy arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		role = "iam_policy " + reader
	)
	for _, tc := range []struct {
		name     string
		opts     []apply.Option
		want     map[string][]string // target: the statuses it may have
		wantKept bool
	}{
		{"rolled back", nil, map[string][]string{enc: {"kept", "not written"}, pol: {"rolled back", "not written"}, key: {"not written"}, role: {"rolled back", "not written"}}, false},
		{"no rollback", []apply.Option{apply.NoRollback()}, map[string][]string{enc: {"written", "not written"}, pol: {"written", "not written"}, key: {"not written"}, role: {"written", "not written"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := example(t, "seed")
			srv := livetest.New(t, data)
			b := mustBackend(t, srv)
			p, err := apply.NewPlan(context.Background(), b, grant(t, "doc-example-bucket", "reports/", reader))
			if err != nil {
				t.Fatal(err)
			}
			srv.Fail("kms:PutKeyPolicy", 5, 400, "AccessDeniedException", "not authorized to perform kms:PutKeyPolicy")
			_, err = apply.Execute(context.Background(), b, p, tc.opts...)
			if err == nil {
				t.Fatal("apply succeeded")
			}
			var we *apply.WriteError
			if !errors.As(err, &we) {
				t.Fatalf("err = %v, want a WriteError", err)
			}
			if !strings.Contains(err.Error(), "writing the key policy of arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab needs kms:PutKeyPolicy") {
				t.Errorf("error lacks the failed write: %v", err)
			}
			status := map[string]string{}
			for _, part := range strings.Split(we.Written(), "; ") {
				st, targets, _ := strings.Cut(part, ": ")
				for _, target := range strings.Split(targets, ", ") {
					status[target] = st
				}
			}
			for target, allowed := range tc.want {
				if !slices.Contains(allowed, status[target]) {
					t.Errorf("%s is %q, want one of %q (%s)", target, status[target], allowed, we.Written())
				}
			}
			state := string(srv.State())
			var accounts struct {
				Accounts map[string]struct {
					Buckets map[string]struct {
						Policy json.RawMessage `json:"policy"`
					} `json:"buckets"`
				} `json:"accounts"`
			}
			if err := json.Unmarshal(srv.State(), &accounts); err != nil {
				t.Fatal(err)
			}
			bucketPolicy := string(accounts.Accounts[owner].Buckets["doc-example-bucket"].Policy)
			if kept, want := strings.Contains(bucketPolicy, "KmsgrantGetObject"), status[pol] == "written"; kept != want {
				t.Errorf("bucket policy statement present = %v, want %v (%s)", kept, want, we.Written())
			}
			if !tc.wantKept {
				before := meaning(t, data)
				if status[enc] == "kept" {
					before = seedWithKeyARN(t, data)
				}
				if diff := cmp.Diff(before, meaning(t, []byte(state))); diff != "" {
					t.Errorf("after rollback the accounts differ from before but for the encryption key (-before +after):\n%s", diff)
				}
			}
		})
	}
}

// Rollback deletes what did not exist before: a bucket policy and an
// inline policy created by the apply.
func TestLiveRollbackDeletesCreatedPolicies(t *testing.T) {
	data := example(t, "sse-s3")
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	g := grant(t, "public-datasets-staging", "", "arn:aws:iam::444455556666:user/ci")
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Result.Changes[0]
	if c.Kind != generate.KindBucketPolicy || c.Action != generate.Create {
		t.Fatalf("first change = %s %s", c.Kind, c.Action)
	}
	if err := b.Write(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(meaning(t, data), meaning(t, srv.State())); diff != "" {
		t.Errorf("after restore (-before +now):\n%s", diff)
	}
}

// meaning decodes a state file, so that two files that say the same in
// another layout compare equal.
func meaning(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// seedWithKeyARN is the meaning of the seed state with the bucket's default
// encryption naming its key by full ARN: what a rolled-back apply leaves,
// since a rollback keeps that change (it grants nothing, and other runs may
// rely on it).
func seedWithKeyARN(t *testing.T, data []byte) any {
	t.Helper()
	v := meaning(t, data)
	enc := v.(map[string]any)["accounts"].(map[string]any)[owner].(map[string]any)["buckets"].(map[string]any)["doc-example-bucket"].(map[string]any)["default_encryption"].(map[string]any)
	enc["kms_master_key_id"] = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	return v
}

// BenchmarkLivePlanRoundTrips plans one grant against servers that take
// 50 ms per request, and reports the plan's time in round trips, from
// loading credentials to the finished plan: reads that do not depend on
// each other run at once, so the figure stays near the length of the
// dependent chain. With the key from the bucket's default encryption that
// is STS, bucket, DescribeKey, key policy; a key named by alias is looked
// up beside the bucket, in the owner credentials' account and Region, and
// one named by ARN is read whole beside it.
func BenchmarkLivePlanRoundTrips(b *testing.B) {
	const delay = 50 * time.Millisecond
	for _, bc := range []struct {
		name, key string
	}{
		{"key=bucket-default", ""},
		{"key=alias", "alias/app-data"},
		{"key=arn", "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := grant(b, "doc-example-bucket", "reports/", reader)
			g.Key = bc.key
			srv := livetest.New(b, example(b, "seed"))
			srv.SetDelay(delay)
			var elapsed time.Duration
			for b.Loop() {
				start := time.Now()
				be, err := backend(b, srv, owner, partner)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := apply.NewPlan(context.Background(), be, g); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(elapsed)/float64(b.N)/float64(delay), "round-trips/plan")
		})
	}
}

// Someone edits the bucket policy between plan and apply: kmsgrant does not
// overwrite it.
func TestLiveApplyRefusesChangedPolicy(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	b := mustBackend(t, srv)
	p, err := apply.NewPlan(context.Background(), b, grant(t, "doc-example-bucket", "reports/", reader))
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config(owner, "us-west-2")
	other := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	edited := `{"Version":"2012-10-17","Statement":[{"Sid":"SomeoneElse","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::doc-example-bucket"}]}`
	if _, err := other.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("doc-example-bucket"), Policy: aws.String(edited)}); err != nil {
		t.Fatal(err)
	}
	_, err = apply.Execute(context.Background(), b, p)
	if !errors.Is(err, apply.ErrStale) {
		t.Fatalf("err = %v, want ErrStale", err)
	}
	if !strings.Contains(string(srv.State()), "SomeoneElse") {
		t.Error("the other edit was overwritten")
	}
}

// The bucket's configuration is read from the credentials' Region while its
// Region is asked for; a bucket elsewhere is read again where it lives.
func TestLiveBucketInAnotherRegion(t *testing.T) {
	for _, tc := range []struct {
		example, bucket, grantee string
		wantPolicyReads          int
	}{
		{"seed", "doc-example-bucket", reader, 1},
		{"already-granted", "analytics-exports", "arn:aws:iam::444455556666:role/service-role/etl", 2},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			srv := livetest.New(t, example(t, tc.example))
			if _, err := apply.NewPlan(context.Background(), mustBackend(t, srv), grant(t, tc.bucket, "", tc.grantee)); err != nil {
				t.Fatal(err)
			}
			reads := srv.RequestCount("s3:GetBucketPolicy")
			if reads != tc.wantPolicyReads {
				t.Errorf("GetBucketPolicy called %d times, want %d", reads, tc.wantPolicyReads)
			}
		})
	}
}

// A user's groups, their inline and attached policies, and a write of the
// user's inline policy, live as in the state file.
func TestLiveUserWithGroups(t *testing.T) {
	var state map[string]any
	if err := json.Unmarshal(example(t, "seed"), &state); err != nil {
		t.Fatal(err)
	}
	partnerAcct := state["accounts"].(map[string]any)[partner].(map[string]any)
	partnerAcct["iam_groups"] = map[string]any{
		"readers": map[string]any{
			"inline_policies":   map[string]any{"list": json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"ListReports","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)},
			"attached_policies": []string{"arn:aws:iam::444455556666:policy/read-objects"},
		},
	}
	partnerAcct["iam_users"].(map[string]any)["alice"].(map[string]any)["groups"] = []string{"readers"}
	state["managed_policies"] = map[string]any{"arn:aws:iam::444455556666:policy/read-objects": json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}
	data, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	g := grant(t, "doc-example-bucket", "reports/", "arn:aws:iam::444455556666:user/team/alice", "list", "read")
	_, want := filePlan(t, data, g)
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	got, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(viewJSON(t, want), viewJSON(t, got)); diff != "" {
		t.Errorf("live plan differs from the state file's (-file +live):\n%s", diff)
	}
	// The group grants GetObject and ListBucket; only kms:Decrypt is left.
	if !strings.Contains(viewJSON(t, got), `grants kms:Decrypt (KmsgrantDecrypt`) {
		t.Errorf("the IAM change should add kms:Decrypt only:\n%s", viewJSON(t, got))
	}
	if _, err := apply.Execute(context.Background(), b, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(srv.Calls(), "iam:PutUserPolicy") {
		t.Errorf("no PutUserPolicy in %v", srv.Calls())
	}
}

// KMS reads and writes a key policy only in the key's own account: a key
// of a third account is refused with what to do, live and from a state
// file that holds the key alike.
func TestLiveKeyInAnotherAccount(t *testing.T) {
	const third = "arn:aws:kms:us-west-2:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	var state map[string]any
	if err := json.Unmarshal(example(t, "seed"), &state); err != nil {
		t.Fatal(err)
	}
	state["accounts"].(map[string]any)["999988887777"] = map[string]any{"kms_keys": map[string]any{third: map[string]any{
		"key_manager": "CUSTOMER", "key_state": "Enabled",
		"policy": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::999988887777:root"}, "Action": "kms:*", "Resource": "*"}}},
	}}}
	data, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	srv := livetest.New(t, data)
	g := grant(t, "doc-example-bucket", "reports/", reader)
	g.Key = third
	want := "key " + third + " is in account 999988887777, not the bucket owner's 111122223333: its key policy can only be read and written with credentials of account 999988887777"
	_, err = apply.NewPlan(context.Background(), mustBackend(t, srv), g)
	if err == nil || err.Error() != want {
		t.Errorf("live: err = %v\nwant %s", err, want)
	}
	file, err := statefile.Parse("state.json", data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply.NewPlan(context.Background(), file, g)
	if err == nil || err.Error() != want {
		t.Errorf("state file: err = %v\nwant %s", err, want)
	}
}

// Throttling past the SDK's retries fails the write like any other error:
// the writes before it are rolled back.
func TestLiveThrottledPastRetries(t *testing.T) {
	data := example(t, "seed")
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	p, err := apply.NewPlan(context.Background(), b, grant(t, "doc-example-bucket", "reports/", reader))
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail("iam:PutRolePolicy", 10, 400, "Throttling", "Rate exceeded")
	_, err = apply.Execute(context.Background(), b, p)
	if err == nil || !strings.Contains(err.Error(), "Throttling") || !strings.Contains(err.Error(), "rolled back: bucket_policy") {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff(seedWithKeyARN(t, data), meaning(t, srv.State())); diff != "" {
		t.Errorf("after rollback (-before +after):\n%s", diff)
	}
}

// Writes the live backend cannot make fail before calling AWS, with an error
// naming the target, and leave the accounts as they were.
func TestLiveWriteRefusals(t *testing.T) {
	var state map[string]any
	if err := json.Unmarshal(example(t, "seed"), &state); err != nil {
		t.Fatal(err)
	}
	delete(state["accounts"].(map[string]any)[owner].(map[string]any)["buckets"].(map[string]any)["doc-example-bucket"].(map[string]any), "default_encryption")
	data, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	keyARN := "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		name    string
		do      func(*live.Backend) error
		wantErr string
	}{
		{"encryption of a bucket with none", func(b *live.Backend) error {
			return b.Write(context.Background(), generate.Change{Kind: generate.KindBucketEncryption, Account: owner, Target: "arn:aws:s3:::doc-example-bucket",
				Action: generate.Update, Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: keyARN}})
		}, "writing the default encryption of arn:aws:s3:::doc-example-bucket: the bucket has none to change"},
		{"restoring a key policy that had none", func(b *live.Backend) error {
			return b.Restore(context.Background(), generate.Change{Kind: generate.KindKeyPolicy, Account: owner, Target: keyARN, Action: generate.Create, After: "{}"})
		}, "restoring key_policy of " + keyARN + ": it had no document before, and kmsgrant cannot remove one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := livetest.New(t, data)
			if err := tc.do(mustBackend(t, srv)); err == nil || err.Error() != tc.wantErr {
				t.Errorf("err = %v\nwant %s", err, tc.wantErr)
			}
			if diff := cmp.Diff(meaning(t, data), meaning(t, srv.State())); diff != "" {
				t.Errorf("accounts changed (-before +now):\n%s", diff)
			}
		})
	}
}

// A key named by alias is looked up beside the bucket in the credentials'
// Region; for a bucket in another Region, the guess is dropped and the
// alias resolved where the bucket is, as the state file resolves it.
func TestLiveAliasOfABucketInAnotherRegion(t *testing.T) {
	data := example(t, "already-granted")
	srv := livetest.New(t, data)
	g := grant(t, "analytics-exports", "", "arn:aws:iam::444455556666:role/service-role/etl")
	g.Key = "alias/exports"
	p, err := apply.NewPlan(context.Background(), mustBackend(t, srv), g)
	if err != nil {
		t.Fatal(err)
	}
	_, fp := filePlan(t, data, g)
	if diff := cmp.Diff(viewJSON(t, fp), viewJSON(t, p)); diff != "" {
		t.Errorf("live plan differs from the state file's (-file +live):\n%s", diff)
	}
	if p.View.Grant == nil || p.View.Grant.KeyARN != "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab" {
		t.Errorf("key resolved to %+v", p.View.Grant)
	}
}

// Nothing is said of a guess that is dropped: a key of the same alias in
// the credentials' Region, whose grants cannot be listed, is no note.
func TestLiveDroppedGuessSaysNothing(t *testing.T) {
	var state map[string]any
	if err := json.Unmarshal(example(t, "already-granted"), &state); err != nil {
		t.Fatal(err)
	}
	keys := state["accounts"].(map[string]any)[owner].(map[string]any)["kms_keys"].(map[string]any)
	keys["arn:aws:kms:us-west-2:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab"] = map[string]any{
		"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": []string{"alias/exports"}, "grants_unreadable": true,
		"policy": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Sid": "Root", "Effect": "Allow",
			"Principal": map[string]any{"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}}},
	}
	data, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	g := grant(t, "analytics-exports", "", "arn:aws:iam::444455556666:role/service-role/etl")
	g.Key = "alias/exports"
	if _, err := apply.NewPlan(context.Background(), b, g); err != nil {
		t.Fatal(err)
	}
	for _, note := range b.Notes() {
		if strings.Contains(note, "0000abcd") {
			t.Errorf("a note of the dropped guess: %s", note)
		}
	}
}

// Two runs grant by KMS grant on one key at once: each planned before the
// other wrote. The second's write makes its grant and leaves the first's,
// which its plan never saw, on the live backend and the state file alike.
func TestRacingKeyGrantWritesKeepBoth(t *testing.T) {
	data := example(t, "seed")
	viaGrant := func(grantee string) generate.Grant {
		g := grant(t, "doc-example-bucket", "reports/", grantee)
		g.Via = generate.ViaGrant
		return g
	}
	keyGrants := func(p *apply.Plan) generate.Change {
		for _, c := range p.Result.Changes {
			if c.Kind == generate.KindKeyGrants {
				return c
			}
		}
		t.Fatal("no key_grants change")
		return generate.Change{}
	}
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	file, err := statefile.Parse("state.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, be := range []apply.Backend{b, file} {
		first, err := apply.NewPlan(context.Background(), be, viaGrant(reader))
		if err != nil {
			t.Fatal(err)
		}
		second, err := apply.NewPlan(context.Background(), be, viaGrant("arn:aws:iam::444455556666:role/analyst"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []generate.Change{keyGrants(first), keyGrants(second)} {
			if err := be.Write(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}
		now, err := be.Current(context.Background(), keyGrants(first))
		if err != nil {
			t.Fatal(err)
		}
		grants, _ := generate.ParseGrantsJSON(now)
		if len(grants) != 2 {
			t.Errorf("%T: grants after both writes:\n%s", be, now)
		}
	}
}

// A grant the owner may not make fails the apply with the call and the
// permission named, and the writes before it are rolled back; a write that
// only makes grants lists none (CreateGrant of a named grant that is there
// already answers it), one that revokes lists them for their IDs.
func TestLiveKeyGrantWrites(t *testing.T) {
	data := example(t, "seed")
	g := grant(t, "doc-example-bucket", "reports/", reader)
	g.Via = generate.ViaGrant

	denied := livetest.New(t, data)
	denied.Fail("kms:CreateGrant", 1, 400, "AccessDeniedException", "User: arn:aws:iam::111122223333:user/test is not authorized to perform: kms:CreateGrant")
	b := mustBackend(t, denied)
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if err == nil || !strings.Contains(err.Error(), "kms:CreateGrant") {
		t.Fatalf("Execute = %v, want an error naming kms:CreateGrant", err)
	}
	// Rolled back: the bucket policy means what it did, the role has no
	// inline policy, the key no grant (the default encryption keeps the
	// key's full ARN, which a rollback leaves on purpose).
	var before, after struct {
		Accounts map[string]struct {
			Buckets  map[string]struct{ Policy any }
			KMSKeys  map[string]struct{ Grants []any } `json:"kms_keys"`
			IAMRoles map[string]struct {
				InlinePolicies map[string]any `json:"inline_policies"`
			} `json:"iam_roles"`
		}
	}
	if json.Unmarshal(data, &before) != nil || json.Unmarshal(denied.State(), &after) != nil {
		t.Fatal("state does not decode")
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the failed apply left changes (-before +after):\n%s", diff)
	}

	srv := livetest.New(t, data)
	b = mustBackend(t, srv)
	p, err = apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	listed := srv.RequestCount("kms:ListGrants")
	if _, err := apply.Execute(context.Background(), b, p); err != nil {
		t.Fatal(err)
	}
	// Read before the write and after it; not by the write.
	if n := srv.RequestCount("kms:ListGrants") - listed; n != 2 {
		t.Errorf("ListGrants %d times to apply a new grant; want 2 (the check before it and the read back)", n)
	}
	rev, err := apply.PlanBatch(context.Background(), b, []apply.Labelled{{Grant: g}}, generate.OpRevoke)
	if err != nil {
		t.Fatal(err)
	}
	listed = srv.RequestCount("kms:ListGrants")
	if _, err := apply.Execute(context.Background(), b, rev); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("kms:ListGrants") - listed; n != 3 || srv.RequestCount("kms:RevokeGrant") != 1 {
		t.Errorf("revoke: ListGrants %d times, RevokeGrant %d; want 3 (the write's for the ID) and 1", n, srv.RequestCount("kms:RevokeGrant"))
	}
}
