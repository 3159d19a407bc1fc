package live_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
)

// OnCall is told of every AWS call, as it starts and as it ends, with
// what it is about, its status and its time: what --debug and the
// progress line show.
func TestOnCallReportsEveryCall(t *testing.T) {
	srv := livetest.New(t, example(t, "seed"))
	var mu sync.Mutex
	var started, done []live.Call
	b := mustBackend(t, srv, func(o *live.Options) {
		o.OnCall = func(c live.Call) {
			mu.Lock()
			defer mu.Unlock()
			if c.Done {
				done = append(done, c)
			} else {
				started = append(started, c)
			}
		}
	})
	// A read AWS refuses once: the SDK does not retry a 403.
	srv.Fail("s3:GetBucketPolicy", 1, 403, "AccessDenied", "injected")
	g := grant(t, "doc-example-bucket", "reports/", reader)
	if _, err := apply.NewPlan(context.Background(), b, g); err == nil {
		t.Fatal("plan with an unreadable bucket policy succeeded")
	}
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Execute(context.Background(), b, p); err != nil {
		t.Fatal(err)
	}

	var seen []string
	for _, c := range done {
		seen = append(seen, strings.ToLower(c.Service)+":"+c.Operation)
	}
	served := srv.Calls()
	slices.Sort(seen)
	slices.Sort(served)
	// GetCallerIdentity, which New makes, included.
	if diff := cmp.Diff(served, seen); diff != "" {
		t.Errorf("calls reported (-served +reported):\n%s", diff)
	}
	if len(started) != len(done) {
		t.Errorf("%d calls started, %d ended", len(started), len(done))
	}
	var policyReads []string
	for _, c := range done {
		if c.Operation == "GetBucketPolicy" {
			policyReads = append(policyReads, c.String())
		}
	}
	if len(policyReads) < 2 {
		t.Fatalf("GetBucketPolicy reported %d times", len(policyReads))
	}
	for i, want := range []string{
		"S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket status=403 time=",
		"S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket status=200 time=",
	} {
		if !strings.HasPrefix(policyReads[i], want) {
			t.Errorf("call %d: %q, want it to start %q", i, policyReads[i], want)
		}
	}
	if !strings.HasSuffix(policyReads[0], " error=AccessDenied") {
		t.Errorf("the refused call does not say why: %q", policyReads[0])
	}
}
