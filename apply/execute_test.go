package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/applytest"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

const (
	keyARN  = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	roleARN = "arn:aws:iam::444455556666:role/reader"
)

func mustDoc(t testing.TB, s string) *policy.Document {
	t.Helper()
	d, err := policy.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fakeSeed is the seed scenario in the in-memory backend.
func fakeSeed(t testing.TB) (*applytest.Backend, generate.Grant) {
	p, err := arns.ParsePrincipal(roleARN, "aws")
	if err != nil {
		t.Fatal(err)
	}
	b := &applytest.Backend{
		Buckets: map[string]*generate.Bucket{"doc-example-bucket": {
			Name: "doc-example-bucket", Account: "111122223333", Region: "us-west-2",
			Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: "alias/app-data"},
			Ownership:  "BucketOwnerEnforced",
		}},
		Keys: []*generate.Key{{
			ARN: keyARN, Account: "111122223333", Region: "us-west-2", Manager: "CUSTOMER", State: "Enabled",
			Aliases: []string{"alias/app-data"},
			Policy:  mustDoc(t, `{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`),
		}},
		Grantees: map[string]*generate.Grantee{roleARN: {Principal: p}},
	}
	return b, generate.Grant{Bucket: "doc-example-bucket", Grantee: p, Access: []string{"read"}, IAMPolicyName: "kmsgrant-doc-example-bucket"}
}

// mustPlan plans g against b.
func mustPlan(t testing.TB, b apply.Backend, g generate.Grant) *apply.Plan {
	t.Helper()
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kinds(cs []generate.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Kind)
	}
	return out
}

func TestExecuteWritesInPlanOrder(t *testing.T) {
	b, g := fakeSeed(t)
	p := mustPlan(t, b, g)
	outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bucket_encryption", "bucket_policy", "key_policy", "iam_policy"}
	if diff := cmp.Diff(want, kinds(b.Written)); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if b.Flushed != 1 {
		t.Errorf("Flush called %d times, want 1", b.Flushed)
	}
	for _, o := range outcomes {
		if !o.Done || o.Err != nil {
			t.Errorf("%s: done=%v err=%v", o.Change.Kind, o.Done, o.Err)
		}
	}
}

func TestExecuteStopsAtFailedWrite(t *testing.T) {
	b, g := fakeSeed(t)
	b.FailWrite = 3
	b.WriteErr = errors.New("AccessDenied")
	p := mustPlan(t, b, g)
	outcomes, err := apply.Execute(context.Background(), b, p, apply.NoRollback(), apply.Parallelism(1))
	var we *apply.WriteError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a *WriteError", err)
	}
	if !errors.Is(err, b.WriteErr) {
		t.Errorf("err = %v does not wrap the write error", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"writing key_policy of " + keyARN + ": AccessDenied",
		"written: bucket_encryption arn:aws:s3:::doc-example-bucket, bucket_policy arn:aws:s3:::doc-example-bucket",
		"not written: key_policy " + keyARN + ", iam_policy " + roleARN,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if got := len(b.Written); got != 2 {
		t.Errorf("%d writes made, want 2", got)
	}
	if b.Flushed != 0 {
		t.Error("Flush called after a failed write")
	}
	if outcomes[2].Err == nil || outcomes[3].Done {
		t.Errorf("outcomes = %+v", outcomes)
	}
}

// With a backend that writes only at Flush, a failed write means nothing
// was written, and the error says so.
func TestExecuteTransactionalFailure(t *testing.T) {
	b, g := fakeSeed(t)
	b.AtFlush = true
	b.FailWrite = 2
	p := mustPlan(t, b, g)
	outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if err == nil || !strings.HasSuffix(err.Error(), "; nothing was written") {
		t.Fatalf("err = %v, want it to end in \"nothing was written\"", err)
	}
	for _, o := range outcomes {
		if o.Done {
			t.Errorf("%s reported done", o.Change.Kind)
		}
	}
}

func TestExecuteReportsFlushFailure(t *testing.T) {
	b, g := fakeSeed(t)
	b.AtFlush = true
	b.FlushErr = errors.New("disk full")
	p := mustPlan(t, b, g)
	outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the flush error", err)
	}
	for _, o := range outcomes {
		if o.Done {
			t.Errorf("%s reported done though nothing was made durable", o.Change.Kind)
		}
	}
}

func TestExecuteRefusesBlockedPlan(t *testing.T) {
	b, g := fakeSeed(t)
	b.Keys[0].State = "Disabled"
	p := mustPlan(t, b, g)
	if !p.Blocked() {
		t.Fatal("plan with a disabled key is not blocked")
	}
	if _, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1)); err == nil {
		t.Fatal("Execute of a blocked plan succeeded")
	}
	if len(b.Written) != 0 {
		t.Errorf("blocked plan wrote %v", kinds(b.Written))
	}
}

func TestExecuteHonoursCancellation(t *testing.T) {
	b, g := fakeSeed(t)
	p := mustPlan(t, b, g)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := apply.Execute(ctx, b, p, apply.Parallelism(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(b.Written) != 0 {
		t.Errorf("cancelled apply wrote %v", kinds(b.Written))
	}
}

func TestReadErrors(t *testing.T) {
	b, g := fakeSeed(t)
	ghost, _ := arns.ParsePrincipal("arn:aws:iam::444455556666:role/ghost", "aws")
	g.Grantee = ghost
	_, err := apply.Read(context.Background(), b, g)
	if !errors.Is(err, apply.ErrGranteeNotFound) {
		t.Errorf("err = %v, want ErrGranteeNotFound", err)
	}

	b, g = fakeSeed(t)
	g.Key = "alias/nope"
	in, err := apply.Read(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(in.KeyErr, apply.ErrAliasNotFound) || in.KeyRef != "alias/nope" {
		t.Errorf("KeyRef, KeyErr = %q, %v; want alias/nope, ErrAliasNotFound", in.KeyRef, in.KeyErr)
	}

	// aws:kms without a key ID means the AWS managed key aws/s3.
	b, g = fakeSeed(t)
	b.Buckets["doc-example-bucket"].Encryption = &generate.Encryption{Algorithm: "aws:kms"}
	in, err = apply.Read(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if in.KeyRef != "alias/aws/s3" || !errors.Is(in.KeyErr, generate.ErrAWSManagedAlias) {
		t.Errorf("aws:kms without a key: KeyRef, KeyErr = %q, %v", in.KeyRef, in.KeyErr)
	}

	b, g = fakeSeed(t)
	b.Buckets["doc-example-bucket"].Encryption = &generate.Encryption{Algorithm: "AES256"}
	in, err = apply.Read(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if in.Key != nil || in.KeyRef != "" || in.KeyErr != nil {
		t.Errorf("SSE-S3 bucket: key %+v, ref %q, err %v; want none", in.Key, in.KeyRef, in.KeyErr)
	}
}

// A target someone changed after the plan is not overwritten: apply stops
// there, and says which writes were made.
func TestExecuteRefusesDriftedTarget(t *testing.T) {
	b, g := fakeSeed(t)
	p := mustPlan(t, b, g)
	b.Drifted = map[string]string{generate.KindKeyPolicy: `{"Version":"2012-10-17","Statement":[]}`}
	_, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if !errors.Is(err, apply.ErrStale) {
		t.Fatalf("err = %v, want ErrStale", err)
	}
	if !strings.Contains(err.Error(), "writing key_policy of "+keyARN+": changed since it was read: it changed after the plan was made; plan again") {
		t.Errorf("err = %v", err)
	}
	if diff := cmp.Diff([]string{"bucket_encryption", "bucket_policy"}, kinds(b.Written)); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
}

// A network error on the third write: the two writes before it are rolled
// back, last first, and every target is reported.
func TestExecuteRollsBackAfterNetworkError(t *testing.T) {
	for _, tc := range []struct {
		name        string
		failRestore error
		opts        []apply.Option
		want        []string
	}{
		{"rolled back", nil, nil, []string{"kept", "rolled back", "failed", "untouched"}},
		{"rollback fails", errors.New("connection reset"), nil, []string{"kept", "failed to roll back", "failed", "untouched"}},
		{"no rollback", nil, []apply.Option{apply.NoRollback()}, []string{"applied", "applied", "failed", "untouched"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, g := fakeSeed(t)
			b.FailWrite = 3
			b.WriteErr = &net.OpError{Op: "write", Net: "tcp", Err: errors.New("connection reset by peer")}
			b.FailRestore = tc.failRestore
			p := mustPlan(t, b, g)
			outcomes, err := apply.Execute(context.Background(), b, p, append(tc.opts, apply.Parallelism(1))...)
			if err == nil {
				t.Fatal("apply succeeded")
			}
			got := statuses(outcomes)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if tc.name == "rolled back" {
				if diff := cmp.Diff([]string{"bucket_policy"}, kinds(b.Restored)); diff != "" {
					t.Errorf("restored, last first (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// Rollback never overwrites a target someone changed after kmsgrant wrote
// it: a target that still holds kmsgrant's statements beside another
// writer's is reported, one that no longer holds them is left as it is, and
// the others are rolled back.
func TestRollbackLeavesTargetsChangedSince(t *testing.T) {
	for _, tc := range []struct {
		name   string
		now    func(after string) string
		status string
	}{
		{"another statement added", func(after string) string {
			return strings.Replace(after, `"Statement": [`, `"Statement": [{"Sid":"Other","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},`, 1)
		}, "failed to roll back"},
		{"replaced", func(string) string { return `{"Version":"2012-10-17","Statement":[]}` }, "overwritten by another writer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, g := fakeSeed(t)
			b.FailWrite = 3
			p := mustPlan(t, b, g)
			b.ChangedAfterWrite = map[string]string{generate.KindBucketPolicy: tc.now(changeOf(t, p, generate.KindBucketPolicy).After)}
			outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
			if err == nil {
				t.Fatal("apply succeeded")
			}
			got := statuses(outcomes)
			if diff := cmp.Diff([]string{"kept", tc.status, "failed", "untouched"}, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if tc.status == "failed to roll back" && !errors.Is(outcomes[1].RollbackErr, apply.ErrStale) {
				t.Errorf("bucket policy rollback error = %v, want ErrStale", outcomes[1].RollbackErr)
			}
			if len(b.Restored) != 0 {
				t.Errorf("restored %v, want nothing", kinds(b.Restored))
			}
		})
	}
}

// statuses are the outcomes' statuses, in order.
func statuses(outcomes []apply.Outcome) []string {
	var out []string
	for _, o := range outcomes {
		out = append(out, o.Status())
	}
	return out
}

// changeOf returns the plan's change of kind.
func changeOf(t testing.TB, p *apply.Plan, kind string) generate.Change {
	t.Helper()
	for _, c := range p.Result.Changes {
		if c.Kind == kind {
			return c
		}
	}
	t.Fatalf("the plan has no %s change", kind)
	return generate.Change{}
}

// Ctrl-C between writes: the writes made are rolled back even though the
// context is cancelled.
func TestInterruptedApplyRollsBack(t *testing.T) {
	b, g := fakeSeed(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.OnWrite = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	p, err := apply.NewPlan(ctx, b, g)
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := apply.Execute(ctx, b, p, apply.Parallelism(1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	got := statuses(outcomes)
	if diff := cmp.Diff([]string{"kept", "rolled back", "untouched", "untouched"}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// A write that answered an error but reached AWS anyway (a timeout) is
// found by reading it back, and rolled back with the others.
func TestWriteThatLandedDespiteAnErrorIsRolledBack(t *testing.T) {
	b, g := fakeSeed(t)
	b.FailWrite = 2
	b.Landed = true
	b.WriteErr = context.DeadlineExceeded
	p := mustPlan(t, b, g)
	outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if err == nil {
		t.Fatal("apply succeeded")
	}
	got := statuses(outcomes)
	if diff := cmp.Diff([]string{"kept", "rolled back", "untouched", "untouched"}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bucket_policy"}, kinds(b.Restored)); diff != "" {
		t.Errorf("restored (-want +got):\n%s", diff)
	}
}

// A rollback keeps a default-encryption change only when it names the key
// by its full ARN instead of an alias: a restore that put an alias back is
// rolled back like any other write.
func TestRollbackKeepsOnlyTheKeyARNFix(t *testing.T) {
	const alias = `{"sse_algorithm":"aws:kms","kms_master_key_id":"alias/app-data","bucket_key_enabled":true}`
	const byARN = `{"sse_algorithm":"aws:kms","kms_master_key_id":"` + keyARN + `","bucket_key_enabled":true}`
	for _, tc := range []struct {
		name          string
		before, after string
		want          string
	}{
		{"alias to ARN", alias, byARN, "kept"},
		{"ARN back to alias", byARN, alias, "rolled back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := fakeSeed(t)
			b.FailWrite = 2
			var e generate.Encryption
			if err := json.Unmarshal([]byte(tc.after), &e); err != nil {
				t.Fatal(err)
			}
			enc := generate.Change{Kind: generate.KindBucketEncryption, Account: "111122223333", Target: "arn:aws:s3:::doc-example-bucket",
				Action: generate.Update, Before: tc.before, After: tc.after, Encryption: &e}
			pol := generate.Change{Kind: generate.KindBucketPolicy, Account: "111122223333", Target: "arn:aws:s3:::doc-example-bucket",
				Action: generate.Create, After: `{"Version":"2012-10-17","Statement":[]}`, Policy: mustDoc(t, `{"Version":"2012-10-17","Statement":[]}`)}
			p := apply.FromResult(&generate.Result{Changes: []generate.Change{enc, pol}})
			outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
			if err == nil {
				t.Fatal("apply succeeded")
			}
			if got := outcomes[0].Status(); got != tc.want {
				t.Errorf("bucket_encryption %s, want %s", got, tc.want)
			}
		})
	}
}

// A kmsgrant statement another run joined a grantee to since kmsgrant wrote
// it still grants kmsgrant's: the rollback leaves it and says so, rather
// than calling it overwritten.
func TestRollbackSeesAJoinedStatement(t *testing.T) {
	b, g := fakeSeed(t)
	b.FailWrite = 3
	p := mustPlan(t, b, g)
	after := changeOf(t, p, generate.KindBucketPolicy).After
	joined := strings.Replace(after, `"AWS": "`+roleARN+`"`, `"AWS": ["`+roleARN+`", "arn:aws:iam::444455556666:role/analyst"]`, 1)
	if joined == after {
		t.Fatalf("the plan's bucket policy does not name the grantee as expected:\n%s", after)
	}
	b.ChangedAfterWrite = map[string]string{generate.KindBucketPolicy: joined}
	outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
	if err == nil {
		t.Fatal("apply succeeded")
	}
	if got := outcomes[1].Status(); got != "failed to roll back" {
		t.Errorf("bucket_policy %s, want failed to roll back (the grantee is still in it)", got)
	}
}

// barrierBackend holds every write until n writes are in flight at once,
// or a second has passed: a write made alone would wait the whole second.
type barrierBackend struct {
	*applytest.Backend
	n       int
	mu      sync.Mutex
	waiting int
	release chan struct{}
	peak    int
}

func (b *barrierBackend) Write(ctx context.Context, c generate.Change) error {
	b.mu.Lock()
	b.waiting++
	b.peak = max(b.peak, b.waiting)
	if b.waiting == b.n {
		close(b.release)
	}
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-time.After(time.Second):
	}
	return b.Backend.Write(ctx, c)
}

// Independent documents are written at once: the seed plan's four writes
// are all in flight together.
func TestExecuteWritesDocumentsAtOnce(t *testing.T) {
	fake, g := fakeSeed(t)
	b := &barrierBackend{Backend: fake, n: 4, release: make(chan struct{})}
	p := mustPlan(t, fake, g)
	outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(4))
	if err != nil {
		t.Fatal(err)
	}
	if b.peak != 4 {
		t.Errorf("at most %d writes in flight at once, want 4", b.peak)
	}
	for _, o := range outcomes {
		if !o.Done {
			t.Errorf("%s not done", o.Change.Kind)
		}
	}
}

// A KMS grant kmsgrant made is rolled back like a document: revoked when
// the key's grants are as kmsgrant left them, left alone (and said so)
// when another writer made or revoked grants since.
func TestRollbackOfKeyGrants(t *testing.T) {
	other := `[
  {
    "Name": "kmsgrant-other-bucket",
    "GranteePrincipal": "arn:aws:iam::444455556666:role/analyst",
    "Operations": [
      "Decrypt"
    ]
  }
]
`
	for _, tc := range []struct {
		name   string
		now    func(after string) string
		status string
	}{
		{"as written", nil, "rolled back"},
		{"another grant made since", func(after string) string {
			grants, _ := generate.ParseGrantsJSON(after)
			more, _ := generate.ParseGrantsJSON(other)
			return generate.GrantsJSON(append(grants, more...))
		}, "failed to roll back"},
		{"revoked by another writer", func(string) string { return other }, "overwritten by another writer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, g := fakeSeed(t)
			g.Via = generate.ViaGrant
			b.FailWrite = 4
			p := mustPlan(t, b, g)
			if diff := cmp.Diff([]string{"bucket_encryption", "bucket_policy", "key_grants", "iam_policy"}, kinds(p.Result.Changes)); diff != "" {
				t.Fatalf("plan (-want +got):\n%s", diff)
			}
			if tc.now != nil {
				b.ChangedAfterWrite = map[string]string{generate.KindKeyGrants: tc.now(changeOf(t, p, generate.KindKeyGrants).After)}
			}
			outcomes, err := apply.Execute(context.Background(), b, p, apply.Parallelism(1))
			if err == nil {
				t.Fatal("apply succeeded")
			}
			got := statuses(outcomes)
			if diff := cmp.Diff([]string{"kept", "rolled back", tc.status, "failed"}, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			restored := kinds(b.Restored)
			if want := tc.status == "rolled back"; slices.Contains(restored, generate.KindKeyGrants) != want {
				t.Errorf("restored %v; key_grants among them: want %v", restored, want)
			}
		})
	}
}
