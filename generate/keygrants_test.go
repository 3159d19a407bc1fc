package generate

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func viaGrant(access ...string) Grant {
	g := seedGrant(access...)
	g.Via = ViaGrant
	return g
}

func TestViaGrantPlansAKMSGrantInsteadOfKeyPolicyStatements(t *testing.T) {
	in := seedInputs()
	res := plan(t, viaGrant("read", "write"), in)
	if len(res.Blockers) > 0 {
		t.Fatalf("blocked: %v", res.Blockers)
	}
	for _, c := range res.Changes {
		if c.Kind == KindKeyPolicy {
			t.Fatalf("a key_policy change beside the grant: %s %s", c.Action, c.Reason)
		}
	}
	c := change(t, res, KindKeyGrants)
	if c.Action != Create || c.Before != "" || c.Target != seedKeyARN || c.Account != ownerAccount {
		t.Fatalf("key_grants change = %s %s (account %s), before %q", c.Action, c.Target, c.Account, c.Before)
	}
	want := []KMSGrant{{Name: "kmsgrant-doc-example-bucket", GranteePrincipal: readerARN, Operations: []string{"Decrypt", "GenerateDataKey"}}}
	if diff := cmp.Diff(want, c.KeyGrants); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	if parsed, err := ParseGrantsJSON(c.After); err != nil || !slices.EqualFunc(parsed, want, func(a, b KMSGrant) bool { return GrantIdentity(a) == GrantIdentity(b) }) {
		t.Errorf("After does not read back as the grants: %v %v\n%s", parsed, err, c.After)
	}
	// The grant stands in for the grantee's IAM KMS permission too.
	iam := change(t, res, KindIAMPolicy)
	if strings.Contains(iam.After, "kms:") {
		t.Errorf("the IAM policy grants KMS beside the grant:\n%s", iam.After)
	}
	if !slices.ContainsFunc(res.Warnings, func(f Finding) bool { return f.Code == CodeGrantBroadens && f.Target == seedKeyARN }) {
		t.Errorf("no %s warning: %v", CodeGrantBroadens, codeTargets(res.Warnings))
	}
	if res.Grant.Via != ViaGrant {
		t.Errorf("resolved grant's via = %q", res.Grant.Via)
	}

	// Applied, the same grant plans nothing, with or without --via grant:
	// the grant allows what key policy statements would.
	after := applied(t, in, res)
	for _, g := range []Grant{viaGrant("read", "write"), seedGrant("read", "write")} {
		again := plan(t, g, after)
		if again.writesAccess() || len(again.Blockers) > 0 {
			t.Errorf("via %q: the grant's own plan again writes %v (blockers %v)", g.Via, actions(again), again.Blockers)
		}
		x, err := Explain(g, after, Target{}, Controls{})
		if err != nil || !x.Allowed {
			t.Errorf("via %q: explain after the grant: allowed=%v (%v)", g.Via, x != nil && x.Allowed, err)
		}
	}
}

func TestViaGrantAddsOperationsToItsGrant(t *testing.T) {
	in := seedInputs()
	in = applied(t, in, plan(t, viaGrant(), in))
	res := plan(t, viaGrant("read", "write"), in)
	c := change(t, res, KindKeyGrants)
	if c.Action != Update {
		t.Fatalf("action = %s, want update", c.Action)
	}
	if len(c.KeyGrants) != 1 || !slices.Equal(c.KeyGrants[0].Operations, []string{"Decrypt", "GenerateDataKey"}) {
		t.Errorf("grants = %+v, want one with Decrypt and GenerateDataKey", c.KeyGrants)
	}
}

func TestViaGrantKeepsOtherGrants(t *testing.T) {
	in := seedInputs()
	other := KMSGrant{ID: "g-1", Name: "ebs-volume", GranteePrincipal: "arn:aws:iam::111122223333:role/ops", Operations: []string{"Encrypt"}}
	in.Key.Grants = []KMSGrant{other}
	res := plan(t, viaGrant(), in)
	c := change(t, res, KindKeyGrants)
	if c.Before != "" || strings.Contains(c.After, "ebs-volume") {
		t.Errorf("another maker's grant is in kmsgrant's document:\nbefore %s\nafter %s", c.Before, c.After)
	}
	after := After(in, res)
	if !slices.ContainsFunc(after.Key.Grants, func(g KMSGrant) bool { return g.ID == "g-1" }) {
		t.Errorf("another maker's grant is gone once applied: %+v", after.Key.Grants)
	}
}

func TestViaGrantNeedsTheGrantsRead(t *testing.T) {
	in := seedInputs()
	in.Key.GrantsUnread = true
	res := plan(t, viaGrant(), in)
	if !slices.ContainsFunc(res.Blockers, func(f Finding) bool { return f.Code == CodeGrantsUnread }) {
		t.Fatalf("blockers = %v, want %s", codeTargets(res.Blockers), CodeGrantsUnread)
	}
	if len(res.Changes) != 0 {
		t.Errorf("a blocked plan has changes: %v", actions(res))
	}
}

func TestRevokeTakesTheGrantWithTheBucketsLastPrefix(t *testing.T) {
	in := seedInputs()
	in = applied(t, in, plan(t, viaGrant(), in))
	other := viaGrant()
	other.Prefix = "exports/"
	in = applied(t, in, plan(t, other, in))

	// Another prefix of the bucket still needs the grant.
	res, err := Revoke(seedGrant(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Changes {
		if c.Kind == KindKeyGrants {
			t.Fatalf("the grant is revoked while exports/ needs it: %s", c.Reason)
		}
	}
	in = applied(t, in, res)

	// The last prefix takes it with it.
	res, err = Revoke(other, in)
	if err != nil {
		t.Fatal(err)
	}
	c := change(t, res, KindKeyGrants)
	if c.Action != Delete || c.After != "" || len(c.KeyGrants) != 0 {
		t.Fatalf("key_grants = %s, after %q", c.Action, c.After)
	}
	if !slices.ContainsFunc(res.Warnings, func(f Finding) bool { return f.Code == CodeGrantShared }) {
		t.Errorf("no %s warning: %v", CodeGrantShared, codeTargets(res.Warnings))
	}
	in = applied(t, in, res)
	if x, err := Explain(seedGrant(), in, Target{}, Controls{}); err != nil || x.Allowed {
		t.Errorf("the reader can still read after both revokes (%v)", err)
	}
	if len(OwnGrants(in.Key.Grants)) != 0 {
		t.Errorf("grants left: %+v", in.Key.Grants)
	}
}

func TestBatchViaGrantMakesOneChangePerKey(t *testing.T) {
	in := seedInputs()
	analyst := viaGrant()
	analyst.Grantee = principal(analystARN)
	analystIn := seedInputs()
	analystIn.Grantee = &Grantee{Principal: principal(analystARN)}
	res, err := Batch([]BatchItem{{Grant: viaGrant(), Inputs: in}, {Grant: analyst, Inputs: analystIn}}, OpGrant)
	if err != nil {
		t.Fatal(err)
	}
	c := change(t, res, KindKeyGrants)
	var grantees []string
	for _, g := range c.KeyGrants {
		grantees = append(grantees, g.GranteePrincipal)
	}
	if !slices.Equal(grantees, []string{analystARN, readerARN}) || c.Action != Create || c.Before != "" {
		t.Errorf("key_grants %s, grantees %v, before %q", c.Action, grantees, c.Before)
	}
}

func TestReversedKeyGrants(t *testing.T) {
	in := seedInputs()
	in = applied(t, in, plan(t, viaGrant(), in))
	c := change(t, plan(t, viaGrant("read", "write"), in), KindKeyGrants)
	back, err := c.Reversed()
	if err != nil {
		t.Fatal(err)
	}
	if back.Action != Update || GrantsJSON(back.KeyGrants) != c.Before || back.Before != c.After {
		t.Errorf("reversed: %s, grants %s, before %q", back.Action, GrantsJSON(back.KeyGrants), back.Before)
	}
	created := change(t, plan(t, viaGrant(), seedInputs()), KindKeyGrants)
	if back, _ := created.Reversed(); back.Action != Delete || len(back.KeyGrants) != 0 {
		t.Errorf("reversing a create: %s with %d grants", back.Action, len(back.KeyGrants))
	}
}

func TestKMSGrantName(t *testing.T) {
	if got := KMSGrantName("logs.example.com"); got != "kmsgrant-logs:example:com" {
		t.Errorf("KMSGrantName = %q", got)
	}
	// A legacy name may have underscores where another has dots.
	if KMSGrantName("My.Data") == KMSGrantName("My_Data") {
		t.Errorf("My.Data and My_Data share grant name %s", KMSGrantName("My.Data"))
	}
	long := strings.Repeat("a", 200) + "." + strings.Repeat("b", 54)
	a, b := KMSGrantName(long), KMSGrantName(long[:254]+"c")
	if len(a) != maxGrantName || a == b || !strings.HasPrefix(a, "kmsgrant-") {
		t.Errorf("long names: %q (%d), %q", a, len(a), b)
	}
	if _, err := ParseVia("grants"); err == nil {
		t.Error("ParseVia took an unknown value")
	}
	if v, err := ParseVia("key-policy"); err != nil || v != "" {
		t.Errorf("ParseVia(key-policy) = %q, %v", v, err)
	}
}

// A grant whose key another bucket's KMS grant allows adds nothing, and
// says that it rests on it; a revoke that cannot read the grants says it
// does not look for them.
func TestSharedAndUnreadGrantsAreSaid(t *testing.T) {
	in := seedInputs()
	in = applied(t, in, plan(t, viaGrant(), in))
	other := seedInputs()
	other.Bucket.Name = "other-bucket"
	other.Key, other.Grantee = in.Key, in.Grantee
	g := viaGrant()
	g.Bucket = "other-bucket"
	res := plan(t, g, other)
	for _, c := range res.Changes {
		if c.Kind == KindKeyGrants || c.Kind == KindKeyPolicy && c.Writes() {
			t.Errorf("the key is granted already, yet %s %s", c.Kind, c.Action)
		}
	}
	if !slices.ContainsFunc(res.Warnings, func(f Finding) bool {
		return f.Code == CodeGrantShared && strings.Contains(f.Message, "kmsgrant-doc-example-bucket")
	}) {
		t.Errorf("no %s warning naming the seed bucket's grant: %v", CodeGrantShared, codeTargets(res.Warnings))
	}

	in.Key.GrantsUnread = true
	rev, err := Revoke(seedGrant(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rev.Warnings, func(f Finding) bool { return f.Code == CodeGrantsUnread }) {
		t.Errorf("revoke with the grants unread: warnings %v", codeTargets(rev.Warnings))
	}
}
