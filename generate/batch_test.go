package generate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is a result as text: what a plan shows.
func summary(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "grant %+v\ngrants %+v\n", r.Grant, r.Grants)
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "%s %s %s %s %q %+v\n%s\n%s\n", c.Action, c.Kind, c.Target, c.PolicyName, c.Reason, c.Size, c.Before, c.After)
	}
	for _, fs := range [][]Finding{r.Blockers, r.Warnings, r.NotChecked} {
		fmt.Fprintf(&b, "%+v\n", fs)
	}
	return b.String()
}

const reader2ARN = "arn:aws:iam::444455556666:role/reader2"

// batchOf returns the seed scenario for grants: every grant reads the same
// bucket, key and (per grantee) IAM side, as a backend reading each once
// would give them.
func batchOf(grants ...Grant) []BatchItem {
	in := seedInputs()
	grantees := map[string]*Grantee{}
	var items []BatchItem
	for i, g := range grants {
		gr, ok := grantees[g.Grantee.ARN()]
		if !ok {
			gr = &Grantee{Principal: g.Grantee}
			grantees[g.Grantee.ARN()] = gr
		}
		it := in
		it.Grantee = gr
		items = append(items, BatchItem{Grant: g, Inputs: it, Label: fmt.Sprintf("grants.yaml:%d (grant %d)", 2+3*i, i+1)})
	}
	return items
}

func grantOn(grantee, prefix string) Grant {
	g := seedGrant()
	g.Grantee, g.Prefix = principal(grantee), prefix
	return g
}

func batch(t *testing.T, items []BatchItem) *Result {
	t.Helper()
	res, err := Batch(items, OpGrant)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	return res
}

// A batch of one grant is that grant's plan, exactly.
func TestBatchOfOneIsTheGrantsPlan(t *testing.T) {
	items := batchOf(seedGrant())
	got := batch(t, items)
	want := plan(t, items[0].Grant, items[0].Inputs)
	if diff := cmp.Diff(summary(want), summary(got)); diff != "" {
		t.Errorf("batch of one (-plan +batch):\n%s", diff)
	}
}

// The batch writes what the same grants planned and applied one after the
// other would leave, in one change per document from the document as read.
func TestBatchEqualsGrantsAppliedOneByOne(t *testing.T) {
	grants := []Grant{
		grantOn(readerARN, "reports/"),
		grantOn(reader2ARN, "reports/"),
		grantOn(readerARN, "logs/"),
		grantOn(reader2ARN, "logs/"),
		grantOn(readerARN, "reports/"), // given twice: nothing more
	}
	items := batchOf(grants...)
	res := batch(t, items)
	if len(res.Blockers) > 0 {
		t.Fatalf("blocked: %+v", res.Blockers)
	}
	if len(res.Grants) != len(grants) {
		t.Errorf("%d grants resolved, want %d", len(res.Grants), len(grants))
	}

	// One by one, each run reading what the runs before it wrote.
	final := map[string]string{}
	firstBefore := map[string]string{}
	state := map[string]Inputs{}
	for _, it := range items {
		in := it.Inputs
		if s, ok := state[it.Grant.Grantee.ARN()]; ok {
			in = s
		}
		// The owner's side is shared by every grantee.
		for _, s := range state {
			in.Bucket, in.Key = s.Bucket, s.Key
		}
		r := plan(t, it.Grant, in)
		for _, c := range r.Changes {
			key := targetKey(c)
			if _, ok := firstBefore[key]; !ok {
				firstBefore[key] = c.Before
			}
			final[key] = c.After
		}
		next := applied(t, in, r)
		state[it.Grant.Grantee.ARN()] = next
		for arn, s := range state {
			s.Bucket, s.Key = next.Bucket, next.Key
			state[arn] = s
		}
	}

	seen := map[string]bool{}
	for _, c := range res.Changes {
		key := targetKey(c)
		if seen[key] {
			t.Errorf("%s has two changes; want one per document", key)
		}
		seen[key] = true
		if c.Before != firstBefore[key] {
			t.Errorf("%s: Before is not the document as first read", key)
		}
		if c.After != final[key] {
			t.Errorf("%s: batch After differs from one-by-one:\n%s", key, cmp.Diff(final[key], c.After))
		}
	}
	if len(seen) != len(final) {
		t.Errorf("batch changes %d documents, one by one %d", len(seen), len(final))
	}

	// Two grantees with the same access to the same prefixes share one
	// statement, which lists both prefixes.
	bp := change(t, res, KindBucketPolicy)
	var objects int
	for _, st := range kmsgrantStatements(bp.Policy) {
		if strings.Contains(st.String(), "s3:GetObject") {
			objects++
			if got := st.Principal.AWS(); len(got) != 2 {
				t.Errorf("statement %s names %v; want both grantees", st.Sid, got)
			}
			if got := st.Resource.List; len(got) != 2 {
				t.Errorf("statement %s is on %v; want both prefixes", st.Sid, got)
			}
		}
	}
	if objects != 1 {
		t.Errorf("%d GetObject statements; want one for both grantees and prefixes", objects)
	}
}

// Planned again on what the batch wrote, the same batch has nothing to do.
func TestBatchAppliedThenPlannedAgainIsEmpty(t *testing.T) {
	items := batchOf(grantOn(readerARN, "reports/"), grantOn(reader2ARN, "reports/"), grantOn(readerARN, "logs/"))
	res := batch(t, items)
	// What a backend reads after the writes: every document as written.
	for i := range items {
		items[i].Inputs = applied(t, items[i].Inputs, &Result{Changes: relevant(res, items[i].Inputs)})
	}
	again := batch(t, items)
	if again.HasChanges() {
		for _, c := range again.Changes {
			t.Errorf("planned again: %s %s %s", c.Action, c.Kind, c.Target)
		}
	}
}

// relevant are the changes of res to the documents in the inputs.
func relevant(res *Result, in Inputs) []Change {
	var out []Change
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy && c.Target != in.Grantee.Principal.ARN() {
			continue
		}
		out = append(out, c)
	}
	return out
}

// One grant that is blocked blocks the batch, and the blocker says which.
func TestBatchBlockedGrantBlocksAllAndIsNamed(t *testing.T) {
	owner := grantOn("arn:aws:iam::111122223333:role/local", "reports/")
	items := batchOf(grantOn(readerARN, "reports/"), owner)
	res := batch(t, items)
	if len(res.Blockers) != 1 || res.Blockers[0].Code != CodeNotCrossAccount {
		t.Fatalf("blockers = %+v; want one not_cross_account", res.Blockers)
	}
	if got := res.Blockers[0].Grant; got != items[1].Label {
		t.Errorf("blocker names grant %q, want %q", got, items[1].Label)
	}
	if len(res.Changes) != 0 {
		t.Errorf("a blocked batch has %d changes; want none", len(res.Changes))
	}
}

// Warnings several grants share are listed once.
func TestBatchListsSharedWarningsOnce(t *testing.T) {
	items := batchOf(grantOn(readerARN, "reports/"), grantOn(reader2ARN, "reports/"))
	res := batch(t, items)
	single := plan(t, items[0].Grant, items[0].Inputs)
	if len(res.NotChecked) != len(single.NotChecked) {
		t.Errorf("%d not-checked findings; want %d, each once", len(res.NotChecked), len(single.NotChecked))
	}
}

// A role's inline policies are sized together: after grants on two
// buckets into two inline policies (--iam-policy-name), both count in each
// change's size.
func TestBatchSizesInlinePoliciesTogether(t *testing.T) {
	first := grantOn(readerARN, "reports/")
	second := first
	first.IAMPolicyName = "team-a"
	second.Bucket, second.IAMPolicyName = "second-bucket", "team-b"
	items := batchOf(first, second)
	b := *items[1].Inputs.Bucket
	b.Name = "second-bucket"
	items[1].Inputs.Bucket = &b
	res := batch(t, items)
	var sizes []int
	total := 0
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy {
			sizes = append(sizes, c.Size.Used)
			total += nonSpace(c.Policy.Compact())
		}
	}
	if len(sizes) != 2 {
		t.Fatalf("%d IAM changes; want one per bucket's inline policy", len(sizes))
	}
	for _, s := range sizes {
		if s != total {
			t.Errorf("inline size %d; want both policies together, %d", s, total)
		}
	}
}
