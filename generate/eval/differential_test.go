package eval

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// TestDifferential decides generated cross-account S3 requests with this
// evaluator and with an independent one, @cloud-copilot/iam-simulate, run
// with Node.js as a test-only oracle in a subprocess (never linked into or
// shipped with kmsgrant), and requires them to agree. It runs where Node.js
// is present and `npm ci` was run in testdata/oracle (CI does both).
func TestDifferential(t *testing.T) {
	oracle := filepath.Join("testdata", "oracle")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("differential test skipped: no Node.js on this machine")
	}
	if _, err := os.Stat(filepath.Join(oracle, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		t.Skip("differential test skipped: run `npm ci` in generate/eval/testdata/oracle")
	}
	const n = 3000
	r := rand.New(rand.NewPCG(5, 27))
	var cases []diffCase
	for range n {
		cases = append(cases, randomCase(r))
	}
	sims := make([]any, len(cases))
	for i, c := range cases {
		sims[i] = c.simulation()
	}
	in, err := json.Marshal(sims)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "simulate.mjs")
	cmd.Dir = oracle
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	var theirs []string
	if err := json.Unmarshal(out, &theirs); err != nil || len(theirs) != len(cases) {
		t.Fatalf("oracle answered %d results (%v), want %d", len(theirs), err, len(cases))
	}
	var agree, undecided, oracleErrors int
	var disagreements []string
	outcomes := map[string]int{}
	for i, c := range cases {
		ours := c.decide(t)
		switch {
		case strings.HasPrefix(theirs[i], "error"):
			oracleErrors++
		case ours == "Undecided":
			undecided++
		case ours == theirs[i]:
			agree++
			outcomes[ours]++
		default:
			disagreements = append(disagreements, fmt.Sprintf("case %d: kmsgrant %s, iam-simulate %s\n%s", i, ours, theirs[i], c))
		}
	}
	t.Logf("differential test: %d generated requests; %d agree (%v), %d undecided by kmsgrant (maybe), %d refused by the oracle, %d disagree",
		n, agree, outcomes, undecided, oracleErrors, len(disagreements))
	for _, o := range []string{"Allowed", "ExplicitlyDenied", "ImplicitlyDenied"} {
		if outcomes[o] < n/20 {
			t.Errorf("only %d agreeing %s cases: the generator does not exercise that outcome", outcomes[o], o)
		}
	}
	for _, d := range disagreements[:min(5, len(disagreements))] {
		t.Error(d)
	}
	if agree < n/2 {
		t.Errorf("only %d of %d cases compared: the generator makes too many cases one side cannot decide", agree, n)
	}
}

const (
	diffOwner   = "111122223333"
	diffGrantee = "444455556666"
	diffRole    = "arn:aws:iam::444455556666:role/reader"
	diffBucket  = "arn:aws:s3:::doc-example-bucket"
)

type diffCase struct {
	action, resource string
	context          map[string]string
	identity         string
	resourcePolicy   string
	boundary         string
}

func (c diffCase) String() string {
	return fmt.Sprintf("%s on %s, context %v\nidentity: %s\nresource: %s\nboundary: %s", c.action, c.resource, c.context, c.identity, c.resourcePolicy, c.boundary)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randomCase(r *rand.Rand) diffCase {
	c := diffCase{
		action:   pick(r, "s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
		resource: diffBucket + "/" + pick(r, "reports/q1.csv", "reports/2026/a.csv", "private/x", "b.txt"),
		context: map[string]string{
			"aws:SecureTransport":  pick(r, "true", "false"),
			"aws:SourceIp":         pick(r, "203.0.113.9", "198.51.100.7"),
			"aws:PrincipalAccount": diffGrantee,
			"aws:PrincipalArn":     diffRole,
		},
	}
	c.identity = randomDoc(r, false)
	c.resourcePolicy = randomDoc(r, true)
	if r.IntN(3) == 0 {
		c.boundary = randomDoc(r, false)
	}
	return c
}

func randomDoc(r *rand.Rand, resource bool) string {
	var sts []string
	for range 1 + r.IntN(3) {
		effect := pick(r, "Allow", "Allow", "Allow", "Deny")
		var b strings.Builder
		fmt.Fprintf(&b, `{"Effect":%q`, effect)
		if resource {
			principal := pick(r, `"Principal":"*"`, `"Principal":{"AWS":"444455556666"}`, `"Principal":{"AWS":"arn:aws:iam::444455556666:root"}`,
				`"Principal":{"AWS":"`+diffRole+`"}`, `"Principal":{"AWS":"arn:aws:iam::777788889999:root"}`, `"Principal":{"AWS":["arn:aws:iam::777788889999:root","`+diffRole+`"]}`)
			if effect == "Deny" && r.IntN(4) == 0 {
				principal = pick(r, `"NotPrincipal":{"AWS":"arn:aws:iam::777788889999:root"}`, `"NotPrincipal":{"AWS":["`+diffRole+`","arn:aws:iam::444455556666:root"]}`)
			}
			b.WriteString("," + principal)
		}
		if r.IntN(6) == 0 {
			fmt.Fprintf(&b, `,"NotAction":%s`, pick(r, `"s3:PutObject"`, `["s3:Delete*","s3:Put*"]`, `"kms:*"`))
		} else {
			fmt.Fprintf(&b, `,"Action":%s`, pick(r, `"s3:GetObject"`, `"s3:Get*"`, `"s3:*"`, `"*"`, `["s3:PutObject","s3:GetObject"]`, `"s3:getobject"`, `"s3:*Object"`, `"s3:Get?bject"`))
		}
		if r.IntN(6) == 0 {
			fmt.Fprintf(&b, `,"NotResource":%s`, pick(r, `"`+diffBucket+`/private/*"`, `"arn:aws:s3:::other/*"`))
		} else {
			fmt.Fprintf(&b, `,"Resource":%s`, pick(r, `"*"`, `"`+diffBucket+`/*"`, `"`+diffBucket+`/reports/*"`, `["`+diffBucket+`/reports/*","`+diffBucket+`/b.txt"]`, `"arn:aws:s3:::other/*"`, `"`+diffBucket+`/reports/?1.csv"`, `"`+diffBucket+`/*/a.csv"`))
		}
		switch r.IntN(6) {
		case 1:
			fmt.Fprintf(&b, `,"Condition":{"Bool":{"aws:SecureTransport":%s}}`, pick(r, `"true"`, `"false"`, `false`))
		case 2:
			fmt.Fprintf(&b, `,"Condition":{"%s":{"aws:SourceIp":%s}}`, pick(r, "IpAddress", "NotIpAddress"), pick(r, `"203.0.113.0/24"`, `["198.51.100.0/24","192.0.2.1/32"]`))
		case 3:
			fmt.Fprintf(&b, `,"Condition":{"%s":{"aws:PrincipalAccount":%s}}`, pick(r, "StringEquals", "StringNotEquals"), pick(r, `"444455556666"`, `["111122223333","777788889999"]`))
		case 4:
			fmt.Fprintf(&b, `,"Condition":{"%s":{"aws:PrincipalArn":%s}}`, pick(r, "ArnLike", "ArnNotLike", "StringLike"), pick(r, `"arn:aws:iam::444455556666:role/*"`, `"arn:aws:iam::*:role/admin"`))
		}
		b.WriteString("}")
		sts = append(sts, b.String())
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`
}

// simulation is the case as iam-simulate takes it.
func (c diffCase) simulation() map[string]any {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	sim := map[string]any{
		"request": map[string]any{
			"principal": diffRole, "action": c.action,
			"resource":         map[string]any{"resource": c.resource, "accountId": diffOwner},
			"contextVariables": c.context,
		},
		"identityPolicies":        []any{map[string]any{"name": "identity", "policy": raw(c.identity)}},
		"serviceControlPolicies":  []any{},
		"resourceControlPolicies": []any{},
		"resourcePolicy":          raw(c.resourcePolicy),
	}
	if c.boundary != "" {
		sim["permissionBoundaryPolicies"] = []any{map[string]any{"name": "boundary", "policy": raw(c.boundary)}}
	}
	return sim
}

// decide is this evaluator's answer for a cross-account request: an
// explicit deny anywhere wins; otherwise the identity policies, the
// boundary (when there is one) and the resource policy must all allow.
func (c diffCase) decide(t *testing.T) string {
	p, err := arns.ParsePrincipal(diffRole, "aws")
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string]Value{}
	for k, v := range c.context {
		ctx[strings.ToLower(k)] = Exactly(v)
	}
	req := Request{Principal: p, Action: c.action, Resource: Exactly(c.resource), Context: ctx, Absent: map[string]bool{}}
	doc := func(s string) *policy.Document {
		d, err := policy.Parse([]byte(s))
		if err != nil {
			t.Fatalf("generated policy does not parse: %v\n%s", err, s)
		}
		return d
	}
	identity := Evaluate([]Policy{{Name: "identity", Kind: Identity, Doc: doc(c.identity)}}, req)
	resource := Evaluate([]Policy{{Name: "resource", Kind: Resource, Doc: doc(c.resourcePolicy)}}, req)
	boundary := Decision{Allowed: Yes}
	if c.boundary != "" {
		req.PrincipalHasBoundary = true
		resource = Evaluate([]Policy{{Name: "resource", Kind: Resource, Doc: doc(c.resourcePolicy)}}, req)
		boundary = Evaluate([]Policy{{Name: "boundary", Kind: Identity, Doc: doc(c.boundary)}}, req)
	}
	denied := max(identity.Denied, resource.Denied, boundary.Denied)
	allowed := min(identity.Allowed, resource.Allowed, boundary.Allowed)
	switch {
	case denied == Yes:
		return "ExplicitlyDenied"
	case denied == Maybe:
		return "Undecided"
	case allowed == Yes:
		return "Allowed"
	case allowed == Maybe:
		return "Undecided"
	}
	return "ImplicitlyDenied"
}
