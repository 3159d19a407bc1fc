package generate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Generated batches of grants (grantees, prefixes and access levels drawn
// at random), planned as one: afterwards each granted grantee, prefix and
// level is granted by every layer, and nothing else is: statements shared
// by grantees and prefixes never give a grantee a prefix or a level it was
// not granted. Then grants are revoked one at a time, and the same holds
// of what is left.
func TestPropertyBatchGrantsExactlyWhatItWasAsked(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 29))
	grantees := []string{readerARN, analystARN, reader2ARN, "arn:aws:iam::444455556666:role/etl"}
	prefixes := []string{"a/", "b/", "c/", "d/"}
	levels := []string{"read", "list", "write", "versions"}
	cases := 60
	if testing.Short() || raceDetector {
		cases = 6
	}
	for n := range cases {
		var grants []Grant
		granted := map[string]bool{}
		for range 2 + r.IntN(10) {
			g := grantOn(grantees[r.IntN(len(grantees))], prefixes[r.IntN(len(prefixes))])
			level := levels[r.IntN(len(levels))]
			g.Access = []string{level}
			grants = append(grants, g)
			granted[triple(g.Grantee.ARN(), g.Prefix, level)] = true
		}
		items := batchOf(grants...)
		res := batch(t, items)
		if len(res.Blockers) > 0 {
			t.Fatalf("case %d: blocked: %+v", n, res.Blockers)
		}
		state := map[string]Inputs{}
		for _, it := range items {
			state[it.Grant.Grantee.ARN()] = applied(t, it.Inputs, &Result{Changes: relevant(res, it.Inputs)})
		}
		check := func(when string) {
			t.Helper()
			for _, grantee := range grantees {
				for _, prefix := range prefixes {
					for _, level := range levels {
						in, ok := state[grantee]
						if !ok {
							in = state[grants[0].Grantee.ARN()]
							in.Grantee = &Grantee{Principal: principal(grantee)}
						}
						g := grantOn(grantee, prefix)
						g.Access = []string{level}
						want := granted[triple(grantee, prefix, level)]
						res := plan(t, g, in)
						for _, c := range res.Changes {
							if c.Kind != KindBucketPolicy && c.Kind != KindIAMPolicy {
								continue
							}
							if got := c.Action == NoOp; got != want {
								t.Fatalf("case %d, %s: %s %s on %s: %s grants it = %v, want %v\n%s", n, when, grantee, level, prefix, c.Kind, got, want, c.After)
							}
						}
					}
				}
			}
		}
		check("after the batch")

		// Revoke grantee-prefix pairs one at a time: revoke takes every
		// level of the pair.
		order := r.Perm(len(grants))
		for _, i := range order[:len(order)/2] {
			g := grants[i]
			in := state[g.Grantee.ARN()]
			rev, err := Revoke(g, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(rev.Blockers) > 0 {
				t.Fatalf("case %d: revoke blocked: %+v", n, rev.Blockers)
			}
			after := applied(t, in, rev)
			for arn, s := range state {
				s.Bucket, s.Key = after.Bucket, after.Key
				if arn == g.Grantee.ARN() {
					s.Grantee = after.Grantee
				}
				state[arn] = s
			}
			for _, level := range levels {
				delete(granted, triple(g.Grantee.ARN(), g.Prefix, level))
			}
			check(fmt.Sprintf("after revoking %s on %s", g.Grantee.ARN(), g.Prefix))
		}
	}
}

func triple(grantee, prefix, level string) string { return grantee + " " + prefix + " " + level }

// A data lake's documents: grants of the same grantees share statements,
// so a bucket policy grows by a principal per grantee, not by a statement
// per grant.
func TestBatchStatementsShareAcrossGranteesAndPrefixes(t *testing.T) {
	var grants []Grant
	for i := range 20 {
		for _, prefix := range []string{"a/", "b/", "c/"} {
			grants = append(grants, grantOn(fmt.Sprintf("arn:aws:iam::444455556666:role/r%02d", i), prefix))
		}
	}
	res := batch(t, batchOf(grants...))
	bp, kp := change(t, res, KindBucketPolicy), change(t, res, KindKeyPolicy)
	if n := len(kmsgrantStatements(bp.Policy)); n != 1 {
		t.Errorf("bucket policy has %d kmsgrant statements; want 1 for 20 grantees on 3 prefixes", n)
	}
	if n := len(kmsgrantStatements(kp.Policy)); n != 1 {
		t.Errorf("key policy has %d kmsgrant statements; want 1", n)
	}
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy && len(c.Policy.Statements) != 2 {
			t.Errorf("%s has %d statements; want 2 (objects, key)", c.Target, len(c.Policy.Statements))
		}
	}
	if !slices.ContainsFunc(res.Changes, func(c Change) bool { return c.Size != nil && c.Kind == KindBucketPolicy }) {
		t.Error("the bucket policy change has no size")
	}
}

// A revoke of a grantee that holds nothing in a document leaves it as it
// is, even where its statements (written one per grant, as kmsgrant once
// did) could be put together.
func TestRevokeOfAbsentGranteeChangesNothing(t *testing.T) {
	in := seedInputs()
	for _, prefix := range []string{"a/", "b/"} {
		g := grantOn(readerARN, prefix)
		p := &planner{g: g, in: in, r: &Result{}}
		p.resolve()
		sts, err := statements(KindBucketPolicy, s3Needs(g, p.sc), readerARN, p.sc)
		if err != nil {
			t.Fatal(err)
		}
		in.Bucket.Policy = in.Bucket.Policy.Clone()
		in.Bucket.Policy.Append(sts...)
	}
	before := in.Bucket.Policy.Pretty()
	in.Grantee = &Grantee{Principal: principal(reader2ARN)}
	res, err := Revoke(grantOn(reader2ARN, "c/"), in)
	if err != nil {
		t.Fatal(err)
	}
	c := change(t, res, KindBucketPolicy)
	if c.Action != NoOp || c.After != before {
		t.Errorf("bucket policy: %s (%s)\n%s", c.Action, c.Reason, c.After)
	}
}

// A document kmsgrant wrote is left as it is by a grant that does not
// touch its statements, whatever order they list their prefixes in.
func TestUnrelatedGrantKeepsStatementsAsWritten(t *testing.T) {
	in := seedInputs()
	in.Bucket.Policy = nil
	for _, step := range []struct{ grantee, prefix string }{{analystARN, "a/"}, {readerARN, "c/"}, {analystARN, "c/"}} {
		g := grantOn(step.grantee, step.prefix)
		in.Grantee = &Grantee{Principal: g.Grantee}
		in = applied(t, in, plan(t, g, in))
	}
	before := in.Bucket.Policy
	g := grantOn(reader2ARN, "d/")
	in.Grantee = &Grantee{Principal: g.Grantee}
	after := change(t, plan(t, g, in), KindBucketPolicy).Policy
	for _, st := range before.Statements {
		if !slices.ContainsFunc(after.Statements, func(s policy.Statement) bool { return s.String() == st.String() }) {
			t.Errorf("statement %s was written again:\nbefore %s\nafter  %s", st.Sid, before.Pretty(), after.Pretty())
		}
	}
}
