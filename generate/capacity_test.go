package generate

import (
	"fmt"
	"strings"
	"testing"
)

// lakeItems are grants of one role on prefixes p0/ … p(n-1)/ of each of
// buckets buckets, all encrypted with the seed key.
func lakeItems(buckets, n int) []BatchItem {
	base := seedInputs()
	grantee := &Grantee{Principal: principal(readerARN)}
	var items []BatchItem
	for b := range buckets {
		bucket := *base.Bucket
		bucket.Name = fmt.Sprintf("lake-%02d", b)
		bucket.Policy, bucket.Objects = nil, nil
		bucket.Encryption = &Encryption{Algorithm: "aws:kms", KMSMasterKeyID: seedKeyARN, BucketKeyEnabled: true}
		in := base
		in.Bucket, in.Grantee = &bucket, grantee
		for p := range n {
			g := seedGrant()
			g.Bucket, g.Prefix, g.IAMPolicyName = bucket.Name, fmt.Sprintf("team-%03d/", p), IAMPolicyName
			items = append(items, BatchItem{Grant: g, Inputs: in})
		}
	}
	return items
}

// inlineCapacity is how many prefixes of each of 10 buckets one role can
// be granted before its inline policies would pass IAM's limit.
func inlineCapacity(tb testing.TB) (prefixes, chars int) {
	for n := 1; ; n++ {
		res, err := Batch(lakeItems(10, n), OpGrant)
		if err != nil {
			tb.Fatal(err)
		}
		if len(res.Blockers) > 0 {
			if res.Blockers[0].Code != CodePolicyTooLarge {
				tb.Fatalf("blocked by %+v", res.Blockers[0])
			}
			return n - 1, chars
		}
		for _, c := range res.Changes {
			if c.Kind == KindIAMPolicy {
				chars = c.Size.Used
			}
		}
	}
}

// BenchmarkInlineCapacity reports how many grants (10 buckets × N
// prefixes) one role holds before IAM's 10,240-character limit on its
// inline policies, and how full they are then.
func BenchmarkInlineCapacity(b *testing.B) {
	var prefixes, chars int
	for b.Loop() {
		prefixes, chars = inlineCapacity(b)
	}
	b.ReportMetric(float64(10*prefixes), "grants/role")
	b.ReportMetric(float64(chars), "inline-chars")
}

// One role holds at least three times the 20 grants it held when every
// grant added its own two statements: 60 grants fit within IAM's limit.
func TestInlineCapacity(t *testing.T) {
	res, err := Batch(lakeItems(10, 6), OpGrant)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Blockers) > 0 {
		t.Fatalf("60 grants of one role are blocked: %+v", res.Blockers[0])
	}
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy && c.Size.Over() {
			t.Errorf("%s: %+v over the limit", c.PolicyName, *c.Size)
		}
	}
}

// A bucket policy that would not fit blocks the plan, and the blocker
// spells out what would fit instead and what it broadens.
func TestTooLargeOffersAlternatives(t *testing.T) {
	var grants []Grant
	for i := range 360 {
		grants = append(grants, grantOn(fmt.Sprintf("arn:aws:iam::444455556666:role/data-lake-consumer-with-a-long-name-%04d", i), "reports/"))
	}
	res := batch(t, batchOf(grants...))
	var found *Finding
	for i, f := range res.Blockers {
		if f.Code == CodePolicyTooLarge && f.Target == "arn:aws:s3:::"+seedBucket {
			found = &res.Blockers[i]
		}
	}
	if found == nil {
		t.Fatalf("360 grantees of one prefix fit in a bucket policy? blockers: %+v", res.Blockers)
	}
	for _, want := range []string{"over S3's limit of 20480", "grant the grantee accounts (444455556666) as wholes", "instead of 360 principals", "trusts every principal those accounts' IAM allows", "aws:PrincipalOrgID"} {
		if !strings.Contains(found.Message+" "+found.Fix, want) {
			t.Errorf("blocker lacks %q: %s / %s", want, found.Message, found.Fix)
		}
	}
	if len(res.Changes) != 0 {
		t.Error("a blocked plan has changes")
	}
}

// prefixCapacity is how many prefixes of one bucket a grantee can be
// granted (to within step) before a resource policy would pass its limit,
// and the policy that fills first. The grantee is a whole account, whose
// IAM side kmsgrant does not write: a role's inline policies would fill up
// first (see BenchmarkInlineCapacity).
func prefixCapacity(tb testing.TB, step int) (int, string) {
	full := func(n int) string {
		var grants []Grant
		for p := range n {
			g := grantOn(readerARN, fmt.Sprintf("team-%04d/", p))
			g.Grantee = principal("444455556666")
			grants = append(grants, g)
		}
		res, err := Batch(batchOf(grants...), OpGrant)
		if err != nil {
			tb.Fatal(err)
		}
		if len(res.Blockers) == 0 {
			return ""
		}
		if res.Blockers[0].Code != CodePolicyTooLarge {
			tb.Fatalf("blocked by %+v", res.Blockers[0])
		}
		return res.Blockers[0].Target
	}
	lo, hi := 0, 64 // lo fits, hi does not
	for full(hi) == "" {
		lo, hi = hi, hi*2
	}
	for hi-lo > step {
		if mid := (lo + hi) / 2; full(mid) == "" {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, full(hi)
}

// BenchmarkPrefixCapacity reports how many prefixes of one bucket one
// grantee holds before the bucket or key policy is full (94, by the key
// policy, when each prefix took statements of its own).
func BenchmarkPrefixCapacity(b *testing.B) {
	var n int
	var full string
	for b.Loop() {
		n, full = prefixCapacity(b, 25)
	}
	b.ReportMetric(float64(n), "prefixes")
	b.Logf("the first policy full: %s", full)
}
