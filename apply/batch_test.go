package apply_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/applytest"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// countingBackend counts the reads of each bucket, key and grantee.
type countingBackend struct {
	*applytest.Backend
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingBackend) count(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads[what]++
}

func (c *countingBackend) Bucket(ctx context.Context, name string) (*generate.Bucket, error) {
	c.count("bucket " + name)
	return c.Backend.Bucket(ctx, name)
}

func (c *countingBackend) Key(ctx context.Context, ref arns.KeyRef, account, region string) (*generate.Key, error) {
	c.count(fmt.Sprintf("key %+v", ref))
	return c.Backend.Key(ctx, ref, account, region)
}

func (c *countingBackend) Grantee(ctx context.Context, p arns.Principal) (*generate.Grantee, error) {
	c.count("grantee " + p.ARN())
	return c.Backend.Grantee(ctx, p)
}

// A batch reads every bucket, key and grantee once however many grants
// name it, and writes each document once.
func TestPlanBatchReadsAndWritesEachDocumentOnce(t *testing.T) {
	fake, g := fakeSeed(t)
	var grants []apply.Labelled
	for i := range 20 {
		arn := fmt.Sprintf("arn:aws:iam::444455556666:role/reader%d", i%5)
		p, err := arns.ParsePrincipal(arn, "aws")
		if err != nil {
			t.Fatal(err)
		}
		fake.Grantees[arn] = &generate.Grantee{Principal: p}
		gi := g
		gi.Grantee, gi.Prefix = p, fmt.Sprintf("team%d/", i/5)
		grants = append(grants, apply.Labelled{Grant: gi, Label: fmt.Sprintf("grant %d", i+1)})
	}
	b := &countingBackend{Backend: fake, reads: map[string]int{}}
	p, err := apply.PlanBatch(context.Background(), b, grants, generate.OpGrant)
	if err != nil {
		t.Fatal(err)
	}
	if p.Blocked() {
		t.Fatalf("blocked: %+v", p.View.Blockers)
	}
	for what, n := range b.reads {
		if n != 1 {
			t.Errorf("%s read %d times; want once", what, n)
		}
	}
	// 1 bucket, 1 key, 5 grantees.
	if len(b.reads) != 7 {
		t.Errorf("%d things read, want 7: %v", len(b.reads), b.reads)
	}
	// encryption, bucket policy, key policy, 5 inline policies.
	if got := p.View.Summary.Create + p.View.Summary.Update; got != 8 || len(p.View.Changes) != 8 {
		t.Errorf("%d writes in %d changes; want 8 documents, each changed once", got, len(p.View.Changes))
	}
	if len(p.View.Grants) != 20 || p.View.Grant != nil {
		t.Errorf("view lists %d grants (grant %v); want the 20, and no single grant", len(p.View.Grants), p.View.Grant)
	}

	if _, err := apply.Execute(context.Background(), fake, p); err != nil {
		t.Fatal(err)
	}
	if len(fake.Written) != 8 {
		t.Errorf("%d writes; want 8, one per document", len(fake.Written))
	}
}

// An error reading one grant names it.
func TestPlanBatchErrorNamesTheGrant(t *testing.T) {
	fake, g := fakeSeed(t)
	missing, err := arns.ParsePrincipal("arn:aws:iam::444455556666:role/missing", "aws")
	if err != nil {
		t.Fatal(err)
	}
	other := g
	other.Grantee = missing
	_, err = apply.PlanBatch(context.Background(), fake, []apply.Labelled{{Grant: g, Label: "g.yaml:2 (grant 1)"}, {Grant: other, Label: "g.yaml:5 (grant 2)"}}, generate.OpGrant)
	if err == nil || err.Error()[:len("g.yaml:5 (grant 2): ")] != "g.yaml:5 (grant 2): " {
		t.Errorf("err = %v; want it to start with the second grant's label", err)
	}
}
