package generate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Generated existing policies (unrelated allows and denies, every shape,
// conditions, kmsgrant statements for another grantee) and generated
// grants: after apply every original statement is still there, unchanged
// and in order; a second plan is empty; and revoke gives each policy its
// original statements back.
func TestPropertyGrantAndRevoke(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	const cases = 600
	var planned, blocked int
	for n := range cases {
		in, g := randomAccount(t, r, 2)
		label := fmt.Sprintf("case %d (%s %v %q)", n, g.Grantee.ARN(), g.Access, g.Prefix)

		res, err := Changes(g, in)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if len(res.Blockers) > 0 {
			blocked++
			if res.Changes != nil {
				t.Fatalf("%s: blocked plan has changes", label)
			}
			continue
		}
		planned++
		after := applied(t, in, res)
		for _, pair := range documentsOf(in, after, g) {
			keptInOrder(t, label+": "+pair.name, pair.before, pair.after)
		}

		again, err := Changes(g, after)
		if err != nil {
			t.Fatal(err)
		}
		if again.HasChanges() {
			t.Fatalf("%s: second plan has changes: %v", label, actions(again))
		}

		rev, err := Revoke(g, after)
		if err != nil {
			t.Fatal(err)
		}
		final := applied(t, after, rev)
		for _, pair := range documentsOf(in, final, g) {
			if diff := strings.Join(statementTexts(pair.before), "\n"); diff != strings.Join(statementTexts(pair.after), "\n") {
				t.Fatalf("%s: %s after revoke:\n%s\nwant:\n%s", label, pair.name, strings.Join(statementTexts(pair.after), "\n"), diff)
			}
		}
	}
	t.Logf("%d generated cases: %d planned, applied, re-planned and revoked; %d blocked", cases, planned, blocked)
	if planned < cases/3 {
		t.Errorf("only %d of %d cases planned: the generator makes too many blockers to test much", planned, cases)
	}
}

// randomAccount generates the seed bucket and key with policies of every
// shape, a grant, and its grantee with an inline policy named "existing"
// (but in one case of withoutInline) and, one case in three, kmsgrant
// statements granted to another grantee first.
func randomAccount(t testing.TB, r *rand.Rand, withoutInline int) (Inputs, Grant) {
	in := seedInputs()
	in.Bucket.Policy = randomPolicy(r, true)
	in.Key.Policy = docOf(append([]string{defaultKeyStatement}, randomStatements(r, true)...)...)
	var existing []NamedPolicy
	if r.IntN(withoutInline) != 0 {
		existing = []NamedPolicy{{Name: "existing", Doc: randomPolicy(r, false)}}
	}
	if r.IntN(3) == 0 {
		// Someone else was granted first: kmsgrant statements exist.
		other := randomGrant(r)
		other.Grantee = principal(analystARN)
		if res, err := Changes(other, withGrantee(in, other, nil)); err == nil && len(res.Blockers) == 0 {
			in = applied(t, withGrantee(in, other, nil), res)
		}
	}
	g := randomGrant(r)
	return withGrantee(in, g, existing), g
}

// withGrantee gives the inputs the grant's grantee, with these inline
// policies (an account grantee's IAM side is not read).
func withGrantee(in Inputs, g Grant, inline []NamedPolicy) Inputs {
	if g.Grantee.Kind == "account" {
		in.Grantee = nil
		return in
	}
	in.Grantee = &Grantee{Principal: g.Grantee, Inline: slices.Clone(inline)}
	return in
}

var (
	grantees = []string{readerARN, aliceARN, "444455556666"}
	prefixes = []string{"", "reports/", "reports/2024/"}
	levels   = [][]string{{"read"}, {"list", "read"}, {"read", "write"}, {"list", "read", "write"}}
)

func randomGrant(r *rand.Rand) Grant {
	return Grant{Bucket: seedBucket, Prefix: prefixes[r.IntN(len(prefixes))], Grantee: principal(grantees[r.IntN(len(grantees))]),
		Access: levels[r.IntN(len(levels))], IAMPolicyName: seedPolicyName}
}

func randomPolicy(r *rand.Rand, resource bool) *policy.Document {
	sts := randomStatements(r, resource)
	if len(sts) == 0 {
		return nil
	}
	if len(sts) == 1 && r.IntN(2) == 0 {
		return doc(`{"Version":"2012-10-17","Statement":` + sts[0] + `}`)
	}
	return docOf(sts...)
}

func randomStatements(r *rand.Rand, resource bool) []string {
	principals := []string{`"*"`, `{"AWS":"444455556666"}`, `{"AWS":"arn:aws:iam::777788889999:root"}`, `{"AWS":["` + analystARN + `","111122223333"]}`, `{"Service":"logging.s3.amazonaws.com"}`}
	actions := []string{`"s3:GetObject"`, `"s3:Get*"`, `["s3:PutObject","s3:DeleteObject"]`, `"s3:ListBucket"`, `"kms:Decrypt"`, `"kms:*"`, `["s3:*","kms:GenerateDataKey"]`}
	resources := []string{`"arn:aws:s3:::doc-example-bucket/*"`, `["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/reports/*"]`, `"arn:aws:s3:::other-bucket/*"`, `"*"`}
	conditions := []string{``, `,"Condition":{"Bool":{"aws:SecureTransport":"false"}}`, `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`, `,"Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`}
	var out []string
	for i := range r.IntN(4) {
		effect := "Allow"
		if r.IntN(4) == 0 {
			effect = "Deny"
		}
		var b strings.Builder
		fmt.Fprintf(&b, `{"Sid":"Existing%d","Effect":"%s"`, i, effect)
		if resource {
			fmt.Fprintf(&b, `,"Principal":%s`, principals[r.IntN(len(principals))])
		}
		fmt.Fprintf(&b, `,"Action":%s,"Resource":%s%s}`, actions[r.IntN(len(actions))], resources[r.IntN(len(resources))], conditions[r.IntN(len(conditions))])
		out = append(out, b.String())
	}
	return out
}

type docPair struct {
	name          string
	before, after *policy.Document
}

func documentsOf(before, after Inputs, g Grant) []docPair {
	pairs := []docPair{
		{"bucket policy", before.Bucket.Policy, after.Bucket.Policy},
		{"key policy", before.Key.Policy, after.Key.Policy},
	}
	if before.Grantee != nil && after.Grantee != nil {
		find := func(gr *Grantee, name string) *policy.Document {
			for _, np := range gr.Inline {
				if np.Name == name {
					return np.Doc
				}
			}
			return nil
		}
		for _, name := range []string{"existing", g.IAMPolicyName} {
			pairs = append(pairs, docPair{"inline policy " + name, find(before.Grantee, name), find(after.Grantee, name)})
		}
	}
	return pairs
}

func statementTexts(d *policy.Document) []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, st := range d.Statements {
		out = append(out, shapeKey(st)+" principal="+fmt.Sprint(st.Principal.AWS()))
	}
	return out
}

// keptInOrder checks that every statement kmsgrant did not write is in
// after, unchanged, in its original order.
func keptInOrder(t *testing.T, label string, before, after *policy.Document) {
	t.Helper()
	if before == nil {
		return
	}
	var theirs []string
	for _, st := range before.Statements {
		if !st.HasSidPrefix(SidPrefix) {
			theirs = append(theirs, st.String())
		}
	}
	var kept []string
	if after != nil {
		for _, st := range after.Statements {
			if !st.HasSidPrefix(SidPrefix) {
				kept = append(kept, st.String())
			}
		}
	}
	if !slices.Equal(theirs, kept) {
		t.Fatalf("%s: statements kmsgrant did not write changed:\nbefore: %v\nafter:  %v", label, theirs, kept)
	}
}
