package generate

import (
	"slices"
	"strings"
	"testing"
)

// legacyGranted is the seed after earlier versions granted the reader
// reports/ of the seed bucket and of another bucket, each into its bucket's
// inline policy (kmsgrant-BUCKET), beside a statement of the role's owner
// in the second. It returns the inputs of the seed grant, and the other
// bucket as granted.
func legacyGranted(t *testing.T) (Inputs, *Bucket) {
	t.Helper()
	in := seedInputs()
	old := seedGrant()
	old.IAMPolicyName = LegacyIAMPolicyName(seedBucket)
	in = applied(t, in, plan(t, old, in))
	other := seedInputs()
	other.Bucket.Name = "other-bucket"
	other.Grantee, other.Key = in.Grantee, in.Key
	second := seedGrant()
	second.Bucket, second.IAMPolicyName = "other-bucket", LegacyIAMPolicyName("other-bucket")
	res := plan(t, second, other)
	for i, c := range res.Changes {
		if c.Kind == KindIAMPolicy {
			c.Policy.Append(docOf(`{"Sid": "OwnersOwn", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}`).Statements[0])
			res.Changes[i].After = c.Policy.Pretty()
		}
	}
	after := applied(t, other, res)
	in.Grantee, in.Key = after.Grantee, after.Key
	if len(in.Grantee.Inline) != 2 {
		t.Fatalf("setup: inline policies %v", in.Grantee.Inline)
	}
	return in, after.Bucket
}

func TestPlanFoldsLegacyInlinePolicies(t *testing.T) {
	in, otherBucket := legacyGranted(t)
	g := seedGrant()
	g.Prefix = "exports/"
	res := plan(t, g, in)
	byName := map[string]Change{}
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy {
			byName[c.PolicyName] = c
		}
	}
	shared, seed, other := byName[IAMPolicyName], byName["kmsgrant-doc-example-bucket"], byName["kmsgrant-other-bucket"]
	if shared.Action != Create || seed.Action != Delete || other.Action != Update {
		t.Fatalf("IAM changes: %s %s, %s %s, %s %s", IAMPolicyName, shared.Action, seed.PolicyName, seed.Action, other.PolicyName, other.Action)
	}
	// The shared policy holds the moved statements with the new grant's;
	// the owner's statement stays where it was.
	for _, want := range []string{"arn:aws:s3:::doc-example-bucket/reports/*", "arn:aws:s3:::doc-example-bucket/exports/*", "arn:aws:s3:::other-bucket/reports/*"} {
		if !strings.Contains(shared.After, want) {
			t.Errorf("the shared policy lacks %s:\n%s", want, shared.After)
		}
	}
	if strings.Contains(shared.After, "OwnersOwn") || !strings.Contains(other.After, "OwnersOwn") || strings.Contains(other.After, "Kmsgrant") {
		t.Errorf("the owner's statement moved, or a kmsgrant one stayed:\nshared %s\nother %s", shared.After, other.After)
	}
	// Every inline policy counts in the size, as it will be.
	if shared.Size == nil || shared.Size.Used != nonSpace(shared.Policy.Compact())+nonSpace(other.Policy.Compact()) {
		t.Errorf("size %+v", shared.Size)
	}

	after := applied(t, in, res)
	for _, prefix := range []string{"reports/", "exports/"} {
		read := seedGrant()
		read.Prefix = prefix
		if x, err := Explain(read, after, Target{}, Controls{}); err != nil || !x.Allowed {
			t.Errorf("%s is not readable once folded (%v)", prefix, err)
		}
		if again := plan(t, read, after); again.HasChanges() {
			t.Errorf("%s: planned again: %v", prefix, actions(again))
		}
	}
	otherIn := after
	otherIn.Bucket = otherBucket
	if x, err := Explain(Grant{Bucket: "other-bucket", Prefix: "reports/", Grantee: principal(readerARN), Access: []string{"read"}, IAMPolicyName: IAMPolicyName}, otherIn, Target{}, Controls{}); err != nil || !x.Allowed {
		t.Errorf("other-bucket is not readable once folded (%v)", err)
	}
}

// A grant that needs nothing of IAM folds nothing: a plan with nothing to
// add changes nothing. Nor does a grant into a policy named by flag.
func TestNoFoldWithoutAWrite(t *testing.T) {
	in, _ := legacyGranted(t)
	if res := plan(t, seedGrant(), in); res.HasChanges() {
		t.Errorf("granted already, yet: %v", actions(res))
	}
	g := seedGrant()
	g.Prefix, g.IAMPolicyName = "exports/", "team-policy"
	res := plan(t, g, in)
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy && c.PolicyName != "team-policy" {
			t.Errorf("a grant into a named policy changed %s: %s", c.PolicyName, c.Action)
		}
	}
}

// Revoke takes a grant out of the shared policy and out of its bucket's
// policy from before, wherever it is.
func TestRevokeLooksInLegacyInlinePolicies(t *testing.T) {
	in, _ := legacyGranted(t)
	res, err := Revoke(seedGrant(), in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Changes {
		if c.Kind == KindIAMPolicy {
			names = append(names, c.PolicyName+" "+string(c.Action))
		}
	}
	if !slices.Equal(names, []string{"kmsgrant no-op", "kmsgrant-doc-example-bucket delete"}) {
		t.Errorf("IAM changes: %v", names)
	}
}

// A policy named like kmsgrant's of a bucket (kmsgrant-team) that holds
// grants of another bucket is not one kmsgrant wrote for a bucket: its
// statements stay.
func TestFoldLeavesPoliciesOfOtherBuckets(t *testing.T) {
	in := seedInputs()
	named := seedGrant()
	named.IAMPolicyName = "kmsgrant-team"
	in = applied(t, in, plan(t, named, in))
	g := seedGrant()
	g.Prefix = "exports/"
	for _, c := range plan(t, g, in).Changes {
		if c.Kind == KindIAMPolicy && c.PolicyName == "kmsgrant-team" {
			t.Errorf("kmsgrant-team is changed: %s %s", c.Action, c.Reason)
		}
	}
}

// The shared policy is written before the old ones are cut, so the role
// never lacks a statement; where both holding the moved statements would
// put its inline policies over IAM's limit, the old ones are cut first,
// and the plan says the role lacks them for a moment.
func TestFoldOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		bulk int // characters of another inline policy of the role
		gap  bool
	}{
		{"room for both", 1000, false},
		{"near the limit", 9300, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := legacyGranted(t)
			resource := `"arn:aws:s3:::archive/` + strings.Repeat("x", tc.bulk-120) + `"`
			in.Grantee.Inline = append(in.Grantee.Inline, NamedPolicy{Name: "bulk",
				Doc: docOf(`{"Sid": "Bulk", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ` + resource + `}`)})
			g := seedGrant()
			g.Prefix = "exports/"
			res := plan(t, g, in)
			if len(res.Blockers) > 0 {
				t.Fatalf("blocked: %v", res.Blockers)
			}
			var order []string
			for _, c := range res.Changes {
				if c.Kind == KindIAMPolicy {
					order = append(order, c.PolicyName)
				}
			}
			sharedFirst := len(order) > 0 && order[0] == IAMPolicyName
			warned := slices.ContainsFunc(res.Warnings, func(f Finding) bool { return f.Code == CodeFoldGap })
			if sharedFirst == tc.gap || warned != tc.gap {
				t.Errorf("IAM writes in order %v, fold_gap warned %v; want the old policies first and a warning: %v", order, warned, tc.gap)
			}
		})
	}
}
