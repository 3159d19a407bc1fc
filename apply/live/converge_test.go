package live_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
	"github.com/kmsgrant/kmsgrant/generate"
)

// A writer that keeps replacing the bucket policy with its own: apply
// writes, reads back, merges its statement into the new document and
// writes again, and after its attempts fails naming the target and the
// statement it lacks, rolling back the rest. It never reports success.
func TestApplyAgainstAWriterThatKeepsReplacingTheDocument(t *testing.T) {
	data, srv, b, g, p := seedLivePlan(t)
	// The other writer puts its document back after every write of
	// kmsgrant's, before kmsgrant reads it back.
	original := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	client := s3.NewFromConfig(srv.Config(owner, "us-west-2"), func(o *s3.Options) { o.UsePathStyle = true })
	puts := 0
	replacing := &afterWrite{Backend: b, after: func(c generate.Change) {
		if c.Kind != generate.KindBucketPolicy {
			return
		}
		if _, err := client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("doc-example-bucket"), Policy: aws.String(original)}); err != nil {
			t.Error(err)
		}
		puts++
	}}
	replan := func(ctx context.Context) (*apply.Plan, error) { return apply.NewPlan(ctx, b, g) }
	outcomes, err := apply.Execute(context.Background(), replacing, p, apply.WithReplan(replan), apply.Attempts(4, time.Millisecond))
	if !errors.Is(err, apply.ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	for _, want := range []string{
		"another writer kept changing it: after 4 attempts, bucket_policy arn:aws:s3:::doc-example-bucket lacks statement(s) KmsgrantGetObject",
		" as kmsgrant wrote them",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, o := range outcomes {
		if o.Status() == "applied" {
			t.Errorf("%s %s reported applied", o.Change.Kind, o.Change.Target)
		}
	}
	if mine := srv.RequestCount("s3:PutBucketPolicy") - puts; mine != 4 {
		t.Errorf("kmsgrant wrote the bucket policy %d times; want once per attempt, 4", mine)
	}
	// The key policy and the IAM policy were rolled back; the bucket
	// policy is the other writer's; the encryption fix is kept.
	if diff := cmp.Diff(seedWithKeyARN(t, data), meaning(t, srv.State())); diff != "" {
		t.Errorf("after the failed apply (-want +got):\n%s", diff)
	}
}

// Another writer that changes a document once, between kmsgrant's write
// and its read-back, is merged with: apply writes again with both, and
// succeeds.
func TestApplyMergesWithAWriterThatGotInBetween(t *testing.T) {
	_, srv, b, g, p := seedLivePlan(t)
	// The other writer read the document before kmsgrant wrote, and
	// puts it back with a statement of its own after kmsgrant's write.
	theirs := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Sid":"Theirs","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::doc-example-bucket"}]}`
	client := s3.NewFromConfig(srv.Config(owner, "us-west-2"), func(o *s3.Options) { o.UsePathStyle = true })
	once := sync.Once{}
	b2 := &afterWrite{Backend: b, after: func(c generate.Change) {
		if c.Kind == generate.KindKeyPolicy {
			once.Do(func() {
				if _, err := client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("doc-example-bucket"), Policy: aws.String(theirs)}); err != nil {
					t.Error(err)
				}
			})
		}
	}}
	replan := func(ctx context.Context) (*apply.Plan, error) { return apply.NewPlan(ctx, b, g) }
	// One document at a time: the other writer puts its document back
	// after kmsgrant wrote the bucket policy, as the key policy is written.
	outcomes, err := apply.Execute(context.Background(), b2, p, apply.WithReplan(replan), apply.Attempts(4, time.Millisecond), apply.Parallelism(1))
	if err != nil {
		t.Fatal(err)
	}
	state := string(srv.State())
	if !strings.Contains(state, `"Theirs"`) {
		t.Error("the other writer's statement is gone")
	}
	fresh, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.HasChanges() {
		t.Errorf("the grant is not complete after apply succeeded:\n%s", viewJSON(t, fresh))
	}
	for _, o := range outcomes {
		if o.Change.Kind == generate.KindBucketPolicy && o.Rewrites != 1 {
			t.Errorf("bucket policy written again %d times, want 1", o.Rewrites)
		}
	}
}

// afterWrite is a live backend that calls after once each write of it
// succeeded: another writer's turn, at a set point.
type afterWrite struct {
	*live.Backend
	after func(generate.Change)
}

func (a *afterWrite) Write(ctx context.Context, c generate.Change) error {
	err := a.Backend.Write(ctx, c)
	if err == nil {
		a.after(c)
	}
	return err
}

// A write AWS refuses for an invalid principal is retried; when another
// writer changed the document in the meantime, the retry does not put the
// old merge over it: apply merges the grant again into what it holds now.
func TestApplyMergesAgainWhenAStaleRetryFindsAChange(t *testing.T) {
	_, srv, b, g, p := seedLivePlan(t)
	srv.Fail("s3:PutBucketPolicy", 1, 400, "MalformedPolicy", "Invalid principal in policy")
	theirs := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Sid":"Theirs","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::doc-example-bucket"}]}`
	client := s3.NewFromConfig(srv.Config(owner, "us-west-2"), func(o *s3.Options) { o.UsePathStyle = true })
	// The other writer puts its document once kmsgrant's first Put was
	// refused, before the retry.
	done := make(chan error, 1)
	go func() {
		for srv.CallCount("s3:PutBucketPolicy") == 0 {
			time.Sleep(time.Millisecond)
		}
		_, err := client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("doc-example-bucket"), Policy: aws.String(theirs)})
		done <- err
	}()
	replan := func(ctx context.Context) (*apply.Plan, error) { return apply.NewPlan(ctx, b, g) }
	if _, err := apply.Execute(context.Background(), b, p, apply.WithReplan(replan), apply.Attempts(4, time.Millisecond)); err != nil {
		t.Fatalf("apply failed: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(srv.State()), `"Theirs"`) {
		t.Error("the other writer's statement is gone")
	}
	fresh, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.HasChanges() {
		t.Errorf("the grant is not complete after apply succeeded:\n%s", viewJSON(t, fresh))
	}
}

// seedLivePlan serves the seed example from a fake AWS and plans the
// reader's grant of reports/ through the live backend.
func seedLivePlan(t *testing.T) ([]byte, *livetest.Server, *live.Backend, generate.Grant, *apply.Plan) {
	t.Helper()
	data := example(t, "seed")
	srv := livetest.New(t, data)
	b := mustBackend(t, srv)
	g := grant(t, "doc-example-bucket", "reports/", reader)
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	return data, srv, b, g, p
}
