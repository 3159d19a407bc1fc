package generate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// The seed scenario: a bucket in account A (111122223333, us-west-2) whose
// default encryption names its customer managed key by alias, and a role in
// account B (444455556666) without any policy.
const (
	ownerAccount   = "111122223333"
	granteeAccount = "444455556666"
	otherAccount   = "777788889999"
	seedRegion     = "us-west-2"
	seedBucket     = "doc-example-bucket"
	seedBucketARN  = "arn:aws:s3:::doc-example-bucket"
	seedPrefix     = "reports/"
	seedObjects    = "arn:aws:s3:::doc-example-bucket/reports/*"
	seedKeyARN     = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	otherKeyARN    = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	seedAlias      = "alias/app-data"
	readerARN      = "arn:aws:iam::444455556666:role/reader"
	analystARN     = "arn:aws:iam::444455556666:role/analyst"
	aliceARN       = "arn:aws:iam::444455556666:user/team/alice"
	rootB          = "arn:aws:iam::444455556666:root"
	seedPolicyName = IAMPolicyName
	seedViaService = "s3.us-west-2.amazonaws.com"
)

// sidRE is what every Sid kmsgrant writes must look like: IAM identity
// policies accept only alphanumeric Sids.
var sidRE = regexp.MustCompile(`^Kmsgrant[A-Za-z0-9]+$`)

// doc parses a policy document literal; a literal that does not parse is a
// broken test.
func doc(s string) *policy.Document {
	d, err := policy.Parse([]byte(s))
	if err != nil {
		panic(fmt.Sprintf("policy.Parse(%s): %v", s, err))
	}
	return d
}

// docOf wraps statement literals in a 2012-10-17 document.
func docOf(statements ...string) *policy.Document {
	return doc(`{"Version": "2012-10-17", "Statement": [` + strings.Join(statements, ",") + `]}`)
}

func principal(s string) arns.Principal {
	p, err := arns.ParsePrincipal(s, "aws")
	if err != nil {
		panic(fmt.Sprintf("arns.ParsePrincipal(%q): %v", s, err))
	}
	return p
}

const defaultKeyStatement = `{
  "Sid": "Enable IAM User Permissions",
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
  "Action": "kms:*",
  "Resource": "*"
}`

const denyInsecureTransport = `{
  "Sid": "DenyInsecureTransport",
  "Effect": "Deny",
  "Principal": "*",
  "Action": "s3:*",
  "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"],
  "Condition": {"Bool": {"aws:SecureTransport": "false"}}
}`

// seedInputs returns fresh inputs of the seed scenario; tests change them.
func seedInputs() Inputs {
	return Inputs{
		Bucket: &Bucket{
			Name:    seedBucket,
			Account: ownerAccount,
			Region:  seedRegion,
			Policy:  docOf(denyInsecureTransport),
			Encryption: &Encryption{
				Algorithm: "aws:kms", KMSMasterKeyID: seedAlias, BucketKeyEnabled: true,
			},
			Ownership: "BucketOwnerEnforced",
			Objects: map[string]Object{
				"reports/q1.csv": {Algorithm: "aws:kms", KMSKeyID: seedKeyARN, Owner: ownerAccount},
			},
		},
		Key: &Key{
			ARN:     seedKeyARN,
			Account: ownerAccount,
			Region:  seedRegion,
			Manager: KeyManagerCustomer,
			State:   KeyStateEnabled,
			Policy:  docOf(defaultKeyStatement),
			Aliases: []string{seedAlias},
		},
		Grantee: &Grantee{Principal: principal(readerARN)},
	}
}

// seedGrant returns the seed grant: the reader role, reports/, read.
func seedGrant(access ...string) Grant {
	if len(access) == 0 {
		access = []string{"read"}
	}
	return Grant{
		Bucket:        seedBucket,
		Prefix:        seedPrefix,
		Grantee:       principal(readerARN),
		Access:        access,
		IAMPolicyName: seedPolicyName,
	}
}

func plan(t *testing.T, g Grant, in Inputs) *Result {
	t.Helper()
	r, err := Changes(g, in)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	return r
}

// change returns the plan's change of one kind, failing when there is not
// exactly one.
func change(t *testing.T, r *Result, kind string) Change {
	t.Helper()
	var found []Change
	for _, c := range r.Changes {
		if c.Kind == kind {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("plan has %d %s changes, want 1; changes: %v", len(found), kind, actions(r))
	}
	return found[0]
}

// actions lists "kind action" for each change, in order.
func actions(r *Result) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.Kind+" "+string(c.Action))
	}
	return out
}

// codeTarget is a finding without its prose.
type codeTarget struct{ Code, Target string }

func codeTargets(fs []Finding) []codeTarget {
	var out []codeTarget
	for _, f := range fs {
		out = append(out, codeTarget{f.Code, f.Target})
	}
	return out
}

// kmsgrantStatements returns the statements of d whose Sid starts with
// "Kmsgrant".
func kmsgrantStatements(d *policy.Document) []policy.Statement {
	if d == nil {
		return nil
	}
	var out []policy.Statement
	for _, st := range d.Statements {
		if st.HasSidPrefix(SidPrefix) {
			out = append(out, st)
		}
	}
	return out
}

// shape returns a statement's JSON without its Sid and with every value as
// a list, so statements compare by meaning, not by the string-or-list
// shape of their values.
func shape(st policy.Statement) string {
	c := st.Clone()
	c.Sid = ""
	listify := func(v *policy.Values) { v.Single = false }
	listify(&c.Action)
	listify(&c.NotAction)
	listify(&c.Resource)
	listify(&c.NotResource)
	for _, p := range []*policy.Principal{c.Principal, c.NotPrincipal} {
		if p == nil {
			continue
		}
		for k, v := range p.Types {
			v.Single = false
			p.Types[k] = v
		}
	}
	for i := range c.Condition {
		c.Condition[i].Values.Single = false
	}
	return c.String()
}

func shapeOf(statement string) string {
	st, err := policy.ParseStatement([]byte(statement))
	if err != nil {
		panic(fmt.Sprintf("policy.ParseStatement(%s): %v", statement, err))
	}
	return shape(st)
}

// shapes returns the shapes of statements, checking each Sid on the way.
func shapes(t *testing.T, sts []policy.Statement) []string {
	t.Helper()
	var out []string
	for _, st := range sts {
		if !sidRE.MatchString(st.Sid) {
			t.Errorf("Sid %q: want %s", st.Sid, sidRE)
		}
		out = append(out, shape(st))
	}
	return out
}

func shapesOf(statements ...string) []string {
	var out []string
	for _, s := range statements {
		out = append(out, shapeOf(s))
	}
	return out
}

// checkStatements compares the Kmsgrant statements of a change's policy
// with the statements wanted.
func checkStatements(t *testing.T, c Change, want ...string) {
	t.Helper()
	if diff := cmp.Diff(shapesOf(want...), shapes(t, kmsgrantStatements(c.Policy))); diff != "" {
		t.Errorf("%s Kmsgrant statements (-want +got):\n%s", c.Kind, diff)
	}
}

// statementActions returns the actions of a change's Kmsgrant statements.
func statementActions(c Change) [][]string {
	var out [][]string
	for _, st := range kmsgrantStatements(c.Policy) {
		out = append(out, st.Action.List)
	}
	return out
}

// applied returns the inputs a second run would read after a result's
// writes: After on the result with every written document re-parsed from its
// JSON, as a backend would read it back, so the rendered text is what is
// checked, not only the in-memory document.
func applied(t testing.TB, in Inputs, res *Result) Inputs {
	t.Helper()
	reread := *res
	reread.Changes = slices.Clone(res.Changes)
	for i, c := range reread.Changes {
		if !c.Writes() || c.Action == Delete || c.Kind == KindBucketEncryption {
			continue
		}
		if c.Kind == KindKeyGrants {
			grants, err := ParseGrantsJSON(c.After)
			if err != nil {
				t.Fatalf("%s After does not parse: %v\n%s", c.Kind, err, c.After)
			}
			reread.Changes[i].KeyGrants = grants
			continue
		}
		d, err := policy.Parse([]byte(c.After))
		if err != nil {
			t.Fatalf("%s After does not parse: %v\n%s", c.Kind, err, c.After)
		}
		reread.Changes[i].Policy = d
	}
	return After(in, &reread)
}
