package eval

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// TestDifferential decides generated S3 and KMS requests, same-account and
// cross-account, by roles and users, against identity policies, a bucket or
// key policy and sometimes a permissions boundary, with eval.Decide and with
// an independent evaluator, @cloud-copilot/iam-simulate, run with Node.js as
// a test-only oracle in a subprocess (never linked into or shipped with
// kmsgrant). The two must agree, except where kmsgrant answers Maybe or
// where a listed departure of the simulator from AWS's documentation
// explains the difference. It runs where Node.js
// is present and `npm ci` was run in testdata/oracle (CI does both).
func TestDifferential(t *testing.T) {
	oracle := filepath.Join("testdata", "oracle")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("differential test skipped: no Node.js on this machine")
	}
	if _, err := os.Stat(filepath.Join(oracle, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		t.Skip("differential test skipped: run `npm ci` in generate/eval/testdata/oracle")
	}
	const n = 5000
	r := rand.New(rand.NewPCG(11, 29))
	var cases []diffCase
	for range n {
		cases = append(cases, randomCase(r))
	}
	var sims []any
	first := make([]int, len(cases)) // each case's first simulation
	for i, c := range cases {
		first[i] = len(sims)
		sims = append(sims, c.simulations()...)
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
	var answers []string
	if err := json.Unmarshal(out, &answers); err != nil || len(answers) != len(sims) {
		t.Fatalf("oracle answered %d results (%v), want %d", len(answers), err, len(sims))
	}
	var agree, undecided, oracleErrors, eitherWay int
	var disagreements []string
	outcomes := map[string]int{}
	explained := map[string]int{}
	undecidedReread := map[string]int{}
	kinds := map[string]int{}
	for i, c := range cases {
		ours := c.decide(t, nil)
		// The oracle's answers: one, or, for a key that may be absent,
		// one for each way; kmsgrant's must match them all.
		variants := c.variants()
		if len(variants) > 1 {
			eitherWay++
		}
		theirs := answers[first[i] : first[i]+len(variants)]
		switch {
		case slices.ContainsFunc(theirs, func(a string) bool { return strings.HasPrefix(a, "error") }):
			oracleErrors++
		case ours == "Undecided":
			undecided++
		case !slices.ContainsFunc(theirs, func(a string) bool { return a != ours }):
			agree++
			outcomes[ours]++
			for _, k := range c.kinds() {
				kinds[k]++
			}
		default:
			// Each way the oracle answered otherwise must be put down to
			// a departure of the oracle's from AWS's documentation.
			for j, v := range variants {
				if theirs[j] == ours {
					continue
				}
				if len(variants) > 1 && v.decide(t, nil) == theirs[j] {
					// kmsgrant decides this way alike: deciding both ways
					// at once should have given it, or Undecided.
					disagreements = append(disagreements, fmt.Sprintf("case %d: kmsgrant %s with aws:ViaAWSService false or absent, %s with it %s\n%s",
						i, ours, theirs[j], map[bool]string{true: "false", false: "absent"}[j == 0], c))
					continue
				}
				switch name, got := v.explain(t, theirs[j]); {
				case got == theirs[j]:
					explained[name]++
				case got == "Undecided":
					undecidedReread[name]++
				default:
					disagreements = append(disagreements, fmt.Sprintf("case %d: kmsgrant %s, iam-simulate %s\n%s", i, ours, theirs[j], v))
				}
			}
		}
	}
	t.Logf("differential test: %d generated requests (%d of them decided by the oracle both with aws:ViaAWSService false and without it); %d agree (%v; by kind %v), %d undecided by kmsgrant (maybe), %d refused by the oracle, %d disagree where the oracle departs from AWS's documentation (%v), %d more left undecided by kmsgrant once reread so (%v), %d disagree unexplained",
		n, eitherWay, agree, outcomes, kinds, undecided, oracleErrors, sum(explained), explained, sum(undecidedReread), undecidedReread, len(disagreements))
	for _, d := range departures {
		if explained[d.name] == 0 {
			t.Errorf("departure %q explains no case: the generator no longer makes one, or the oracle changed; check it and drop it", d.name)
		}
	}
	for _, o := range []string{"Allowed", "ExplicitlyDenied", "ImplicitlyDenied"} {
		if outcomes[o] < n/25 {
			t.Errorf("only %d agreeing %s cases: the generator does not exercise that outcome", outcomes[o], o)
		}
	}
	for _, k := range []string{"same account", "cross-account", "S3", "KMS", "boundary", "user", "role", "SCP or RCP"} {
		if kinds[k] < n/25 {
			t.Errorf("only %d agreeing %s cases: the generator does not exercise them", kinds[k], k)
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
	diffPartner = "444455556666"
	diffBucket  = "arn:aws:s3:::doc-example-bucket"
	diffKey     = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// diffCallers are the callers a case is made by: roles and users of the
// bucket's account and of another.
var diffCallers = []string{
	"arn:aws:iam::444455556666:role/reader",
	"arn:aws:iam::444455556666:user/bob",
	"arn:aws:iam::111122223333:role/reader",
	"arn:aws:iam::111122223333:user/bob",
}

// diffKeys are every condition key the generator uses; a case's request
// holds some of them, and the others are absent (as the oracle takes them).
var diffKeys = []string{
	"aws:SecureTransport", "aws:SourceIp", "aws:PrincipalAccount", "aws:PrincipalArn",
	"aws:username", "aws:PrincipalTag/team", "aws:CalledVia", "kms:ViaService",
	"aws:CurrentTime", "aws:EpochTime", "aws:MultiFactorAuthAge", "aws:ViaAWSService",
}

type diffCase struct {
	caller           string
	action, resource string
	context          map[string]any // a string, or a []string for a multivalued key
	identity         string
	resourcePolicy   string
	boundary         string
	scp, rcp         string
	// viaOrAbsent makes aws:ViaAWSService false or absent, as kmsgrant
	// takes a direct call: the oracle decides the case both ways, and
	// kmsgrant must give their common answer, or be undecided where they
	// differ.
	viaOrAbsent bool
}

func (c diffCase) String() string {
	return fmt.Sprintf("%s calls %s on %s, context %v (aws:ViaAWSService false or absent: %v)\nidentity: %s\nresource: %s\nboundary: %s\nSCP: %s\nRCP: %s",
		c.caller, c.action, c.resource, c.context, c.viaOrAbsent, c.identity, c.resourcePolicy, c.boundary, c.scp, c.rcp)
}

func (c diffCase) kms() bool { return strings.HasPrefix(c.action, "kms:") }

// kinds are the kinds of request a case is, for the coverage the test
// reports and requires.
func (c diffCase) kinds() []string {
	p, _ := arns.ParsePrincipal(c.caller, "aws")
	k := []string{"cross-account", "S3", string(p.Kind)}
	if p.Account == diffOwner {
		k[0] = "same account"
	}
	if c.kms() {
		k[1] = "KMS"
	}
	if c.boundary != "" {
		k = append(k, "boundary")
	}
	if c.scp != "" || c.rcp != "" {
		k = append(k, "SCP or RCP")
	}
	return k
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randomCase(r *rand.Rand) diffCase {
	caller := pick(r, diffCallers...)
	p, _ := arns.ParsePrincipal(caller, "aws")
	c := diffCase{
		caller: caller,
		context: map[string]any{
			"aws:SecureTransport":  pick(r, "true", "false"),
			"aws:SourceIp":         pick(r, "203.0.113.9", "198.51.100.7"),
			"aws:PrincipalAccount": p.Account,
			"aws:PrincipalArn":     caller,
			"aws:CurrentTime":      "2026-11-27T12:00:00Z",
			"aws:EpochTime":        "1795780800",
		},
	}
	if r.IntN(2) == 0 {
		c.context["aws:MultiFactorAuthAge"] = pick(r, "300", "7200")
	}
	if r.IntN(2) == 0 {
		c.action, c.resource = pick(r, "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"), diffKey
		c.context["kms:ViaService"] = pick(r, "s3.us-west-2.amazonaws.com", "ec2.us-west-2.amazonaws.com")
	} else {
		c.action = pick(r, "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
		c.resource = diffBucket + "/" + pick(r, "reports/q1.csv", "reports/2026/a.csv", "private/x", "b.txt", "home/bob/notes.txt", "analytics/r.csv")
	}
	if p.Kind == arns.User {
		c.context["aws:username"] = p.Name // AWS sets it for users only
	}
	if r.IntN(2) == 0 {
		c.context["aws:PrincipalTag/team"] = pick(r, "analytics", "finance")
	}
	if r.IntN(2) == 0 {
		c.context["aws:CalledVia"] = pick(r, []string{"s3.amazonaws.com"}, []string{"athena.amazonaws.com", "s3.amazonaws.com"})
	}
	switch r.IntN(3) {
	case 0:
		c.viaOrAbsent = true
	case 1:
		c.context["aws:ViaAWSService"] = pick(r, "true", "false")
	}
	c.identity = randomDoc(r, c.kms(), false)
	c.resourcePolicy = randomDoc(r, c.kms(), true)
	if r.IntN(3) == 0 {
		c.boundary = randomDoc(r, c.kms(), false)
	}
	if r.IntN(4) == 0 {
		c.scp = pick(r, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"444455556666"}}}]}`)
	}
	if r.IntN(4) == 0 {
		// RCPs hold only denies: AWS attaches RCPFullAWSAccess, which
		// allows everything, to every target and forbids other allows.
		c.rcp = pick(r, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:*","kms:*"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalAccount":["111122223333","444455556666"]},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}]}`)
	}
	return c
}

func randomDoc(r *rand.Rand, kms, resource bool) string {
	var sts []string
	for range 1 + r.IntN(3) {
		effect := pick(r, "Allow", "Allow", "Allow", "Deny")
		var b strings.Builder
		fmt.Fprintf(&b, `{"Effect":%q`, effect)
		if resource {
			principal := `"Principal":` + pick(r, `"*"`, `{"AWS":"*"}`,
				`{"AWS":"444455556666"}`, `{"AWS":"arn:aws:iam::444455556666:root"}`, `{"AWS":"arn:aws:iam::111122223333:root"}`, `{"AWS":"111122223333"}`,
				`{"AWS":"`+diffCallers[0]+`"}`, `{"AWS":"`+diffCallers[1]+`"}`, `{"AWS":"`+diffCallers[2]+`"}`, `{"AWS":"`+diffCallers[3]+`"}`,
				`{"AWS":"arn:aws:iam::777788889999:root"}`, `{"AWS":["arn:aws:iam::777788889999:root","`+diffCallers[0]+`"]}`,
				`{"Service":"s3.amazonaws.com"}`, `{"Service":"s3.amazonaws.com","AWS":"`+diffCallers[2]+`"}`,
				`{"AWS":"arn:aws:sts::444455556666:assumed-role/reader/alice"}`, `{"AWS":"arn:aws:sts::111122223333:assumed-role/reader/alice"}`)
			if effect == "Deny" && r.IntN(4) == 0 {
				principal = pick(r, `"NotPrincipal":{"AWS":"arn:aws:iam::777788889999:root"}`, `"NotPrincipal":{"AWS":["`+diffCallers[0]+`","arn:aws:iam::444455556666:root"]}`)
			}
			b.WriteString("," + principal)
		}
		if r.IntN(6) == 0 {
			fmt.Fprintf(&b, `,"NotAction":%s`, pick(r, `"s3:PutObject"`, `["s3:Delete*","s3:Put*"]`, `"kms:*"`, `"kms:Encrypt"`))
		} else if kms {
			fmt.Fprintf(&b, `,"Action":%s`, pick(r, `"kms:Decrypt"`, `"kms:*"`, `"*"`, `["kms:Decrypt","kms:GenerateDataKey*"]`, `"kms:generate*"`, `"s3:*"`, `"kms:?ncrypt"`))
		} else {
			fmt.Fprintf(&b, `,"Action":%s`, pick(r, `"s3:GetObject"`, `"s3:Get*"`, `"s3:*"`, `"*"`, `["s3:PutObject","s3:GetObject"]`, `"s3:getobject"`, `"s3:*Object"`, `"s3:Get?bject"`, `"kms:*"`))
		}
		if r.IntN(6) == 0 {
			fmt.Fprintf(&b, `,"NotResource":%s`, pick(r, `"`+diffBucket+`/private/*"`, `"arn:aws:s3:::other/*"`, `"arn:aws:kms:*:777788889999:key/*"`, `"`+diffKey+`"`))
		} else if kms {
			fmt.Fprintf(&b, `,"Resource":%s`, pick(r, `"*"`, `"`+diffKey+`"`, `"arn:aws:kms:*:111122223333:key/*"`, `"arn:aws:kms:us-west-2:${aws:PrincipalAccount}:key/*"`, `"arn:aws:kms:eu-west-1:111122223333:key/*"`))
		} else {
			fmt.Fprintf(&b, `,"Resource":%s`, pick(r, `"*"`, `"`+diffBucket+`/*"`, `"`+diffBucket+`/reports/*"`, `["`+diffBucket+`/reports/*","`+diffBucket+`/b.txt"]`,
				`"arn:aws:s3:::other/*"`, `"`+diffBucket+`/reports/?1.csv"`, `"`+diffBucket+`/*/a.csv"`,
				`"`+diffBucket+`/home/${aws:username}/*"`, `"`+diffBucket+`/${aws:PrincipalTag/team}/*"`, `"`+diffBucket+`/${aws:PrincipalTag/team, 'analytics'}/*"`,
				`"`+diffBucket+`/lit${*}"`, `"`+diffBucket+`/lit*"`, `"`+diffBucket+`/b${?}txt"`))
		}
		var conds []string
		operators := map[string]bool{}
		for range r.IntN(3) {
			// Each operator once: a JSON object with a key twice is read
			// differently by different parsers.
			c := randomCondition(r)
			if op, _, _ := strings.Cut(c, ":{"); !operators[op] {
				operators[op] = true
				conds = append(conds, c)
			}
		}
		if len(conds) > 0 {
			b.WriteString(`,"Condition":{` + strings.Join(conds, ",") + `}`)
		}
		b.WriteString("}")
		sts = append(sts, b.String())
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`
}

// randomCondition returns one operator with one key, as JSON object
// members.
func randomCondition(r *rand.Rand) string {
	switch r.IntN(14) {
	case 13:
		return fmt.Sprintf(`"%s":{"aws:ViaAWSService":%s}`, pick(r, "Bool", "BoolIfExists", "Null", "StringNotEquals", "StringNotEqualsIfExists"), pick(r, `"true"`, `"false"`))
	case 10:
		return fmt.Sprintf(`"%s":{"aws:CurrentTime":%s}`, pick(r, "DateLessThan", "DateGreaterThan", "DateLessThanEquals", "DateNotEquals"), pick(r, `"2027-01-01T00:00:00Z"`, `"2026-01-01"`, `["2026-11-27T12:00:00Z","2020-01-01T00:00:00Z"]`))
	case 11:
		return fmt.Sprintf(`"%s":{"aws:MultiFactorAuthAge":%s}`, pick(r, "NumericLessThan", "NumericGreaterThanEquals", "NumericLessThanIfExists", "NumericEquals", "NumericNotEquals"), pick(r, `"3600"`, `"300"`, `["60","7200"]`))
	case 12:
		return fmt.Sprintf(`"%s":{"aws:EpochTime":%s}`, pick(r, "DateGreaterThan", "NumericLessThan"), pick(r, `"1700000000"`, `"1900000000"`))
	case 0:
		return fmt.Sprintf(`"Bool":{"aws:SecureTransport":%s}`, pick(r, `"true"`, `"false"`, `false`))
	case 1:
		return fmt.Sprintf(`"%s":{"aws:SourceIp":%s}`, pick(r, "IpAddress", "NotIpAddress"), pick(r, `"203.0.113.0/24"`, `["198.51.100.0/24","192.0.2.1/32"]`))
	case 2:
		return fmt.Sprintf(`"%s":{"aws:PrincipalAccount":%s}`, pick(r, "StringEquals", "StringNotEquals"), pick(r, `"444455556666"`, `["111122223333","777788889999"]`, `"${aws:PrincipalAccount}"`))
	case 3:
		return fmt.Sprintf(`"%s":{"aws:PrincipalArn":%s}`, pick(r, "ArnLike", "ArnNotLike", "StringLike", "ArnEquals"),
			pick(r, `"arn:aws:iam::444455556666:role/*"`, `"arn:aws:iam::*:role/admin"`, `"arn:aws:iam::*:user/${aws:username}"`, `"arn:aws:iam::111122223333:*"`,
				`"arn:aws:iam::*:reader"`, `"arn:aws:*:role/reader"`, `"arn:*:iam:*:*:role/reader"`))
	case 4:
		return fmt.Sprintf(`"Null":{"%s":%s}`, pick(r, "aws:PrincipalTag/team", "aws:CalledVia", "aws:username"), pick(r, `"true"`, `"false"`))
	case 5:
		return fmt.Sprintf(`"%s":{"aws:PrincipalTag/team":%s}`, pick(r, "StringEqualsIfExists", "StringNotEqualsIfExists", "StringLikeIfExists", "StringEquals", "StringNotEquals"),
			pick(r, `"analytics"`, `["finance","legal"]`, `"fin*"`, `"${aws:username}"`))
	case 6:
		return fmt.Sprintf(`"%s":{"aws:CalledVia":%s}`, pick(r, "ForAnyValue:StringEquals", "ForAllValues:StringEquals", "ForAllValues:StringLike", "ForAnyValue:StringNotEquals", "ForAllValues:StringNotEquals"),
			pick(r, `"s3.amazonaws.com"`, `["athena.amazonaws.com","s3.amazonaws.com"]`, `"*.amazonaws.com"`, `"glue.amazonaws.com"`))
	case 7:
		return fmt.Sprintf(`"%s":{"kms:ViaService":%s}`, pick(r, "StringEquals", "StringLike", "StringNotEqualsIfExists"), pick(r, `"s3.us-west-2.amazonaws.com"`, `"s3.*.amazonaws.com"`))
	case 8:
		return fmt.Sprintf(`"StringEquals":{"aws:username":%s}`, pick(r, `"bob"`, `"alice"`, `"${aws:username}"`))
	default:
		return fmt.Sprintf(`"StringLike":{"aws:PrincipalTag/team":%s}`, pick(r, `"${aws:PrincipalTag/team, 'none'}"`, `"an*"`))
	}
}

// variants are the concrete cases a case stands for: itself, or, for
// aws:ViaAWSService false or absent, the case with it false and the case
// without it.
func (c diffCase) variants() []diffCase {
	if !c.viaOrAbsent {
		return []diffCase{c}
	}
	with, without := c, c
	with.viaOrAbsent, without.viaOrAbsent = false, false
	with.context = maps.Clone(c.context)
	with.context["aws:ViaAWSService"] = "false"
	return []diffCase{with, without}
}

// simulations are the case as iam-simulate takes it, one per variant.
func (c diffCase) simulations() []any {
	var out []any
	for _, v := range c.variants() {
		out = append(out, v.simulation())
	}
	return out
}

// simulation is the case as iam-simulate takes it.
func (c diffCase) simulation() map[string]any {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	sim := map[string]any{
		"request": map[string]any{
			"principal": c.caller, "action": c.action,
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
	if c.scp != "" {
		sim["serviceControlPolicies"] = []any{map[string]any{"orgIdentifier": "r-root", "policies": []any{map[string]any{"name": "scp", "policy": raw(c.scp)}}}}
	}
	if c.rcp != "" {
		sim["resourceControlPolicies"] = []any{map[string]any{"orgIdentifier": "r-root", "policies": []any{map[string]any{"name": "rcp", "policy": raw(c.rcp)}}}}
	}
	return sim
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// departure is a point where iam-simulate reads policies otherwise than
// AWS's documentation does. reread rewrites a case's documents into what
// the simulator takes them to mean; a disagreement is put down to the
// departure only when kmsgrant, deciding the reread documents, gives the
// simulator's answer.
type departure struct {
	name    string
	passage string // the documentation that settles it
	reread  func(c diffCase, doc *policy.Document)
}

var departures = []departure{
	{
		name: "NotPrincipal listing an account",
		passage: `IAM JSON policy elements: NotPrincipal: "When you use NotPrincipal with Deny, you must also specify the account ARN of the ` +
			`principal that you want to exclude" and the example "denies access to all principals except the user named Bob in AWS ` +
			`account 444455556666": listing the account excludes its root, not every user of it. iam-simulate excludes every principal of ` +
			`a listed account.`,
		reread: func(c diffCase, doc *policy.Document) {
			p, _ := arns.ParsePrincipal(c.caller, "aws")
			for i, st := range doc.Statements {
				if st.NotPrincipal == nil {
					continue
				}
				for _, v := range st.NotPrincipal.AWS() {
					if acct, ok := arns.AccountOfPrincipal(v); ok && arns.IsAccountPrincipal(v) && acct == p.Account {
						aws := st.NotPrincipal.Types["AWS"]
						aws.List = append(slices.Clone(aws.List), c.caller)
						np := *st.NotPrincipal
						np.Types = maps.Clone(np.Types)
						np.Types["AWS"] = aws
						doc.Statements[i].NotPrincipal = &np
						break
					}
				}
			}
		},
	},
	{
		name: "negated operator with a variable that has no value",
		passage: `IAM policy elements: Variables and tags, "Policy variables with no value": a variable with no value is null, and ` +
			`negated matching operators such as StringNotEquals and StringNotLike match a null value. iam-simulate makes the condition fail.`,
		reread: func(c diffCase, doc *policy.Document) {
			for i, st := range doc.Statements {
				conds := slices.Clone(st.Condition)
				for j, cond := range conds {
					if !strings.Contains(cond.Operator, "Not") || !c.refersToAbsent(cond.Values.List) {
						continue
					}
					// Drop the negation: the condition then fails on the
					// null value, as the simulator has it.
					conds[j].Operator = strings.Replace(cond.Operator, "Not", "", 1)
				}
				doc.Statements[i].Condition = conds
			}
		},
	},
}

// explain rereads a case the simulator answered theirs and kmsgrant
// otherwise by each departure, then by all, and returns the first reading
// under which kmsgrant gives theirs, or else one under which kmsgrant
// leaves the case undecided (what remains is something it cannot know),
// with kmsgrant's answer under it; got is kmsgrant's first answer when none
// does either.
func (c diffCase) explain(t *testing.T, theirs string) (name, got string) {
	var undecided string
	try := func(n string, reread func(diffCase, *policy.Document)) bool {
		switch c.decide(t, reread) {
		case theirs:
			name, got = n, theirs
			return true
		case "Undecided":
			undecided = cmp.Or(undecided, n)
		}
		return false
	}
	for _, d := range departures {
		if try(d.name, d.reread) {
			return name, got
		}
	}
	var names []string
	all := func(c diffCase, doc *policy.Document) {
		for _, d := range departures {
			d.reread(c, doc)
		}
	}
	for _, d := range departures {
		names = append(names, d.name)
	}
	if try(strings.Join(names, " and "), all) {
		return name, got
	}
	if undecided != "" {
		return undecided, "Undecided"
	}
	return "", c.decide(t, nil)
}

// refersToAbsent reports whether any value names a variable the case's
// request does not have.
func (c diffCase) refersToAbsent(values []string) bool {
	for _, v := range values {
		for _, k := range diffKeys {
			if _, ok := c.context[k]; !ok && strings.Contains(strings.ToLower(v), "${"+strings.ToLower(k)+"}") {
				return true
			}
		}
	}
	return false
}

// decide is this evaluator's answer, through eval.Decide as explain uses
// it, for the case's documents as reread (nil: as written). Every key the
// generator uses and the case does not set is absent.
func (c diffCase) decide(t *testing.T, reread func(diffCase, *policy.Document)) string {
	p, err := arns.ParsePrincipal(c.caller, "aws")
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string]Value{}
	for k, v := range c.context {
		switch v := v.(type) {
		case string:
			ctx[strings.ToLower(k)] = Exactly(v)
		case []string:
			ctx[strings.ToLower(k)] = Values(v...)
		}
	}
	absent := map[string]bool{}
	for _, k := range diffKeys {
		if _, ok := c.context[k]; !ok {
			absent[strings.ToLower(k)] = true
		}
	}
	if c.viaOrAbsent {
		delete(absent, "aws:viaawsservice")
		ctx["aws:viaawsservice"] = Value{S: "false", OrAbsent: true}
	}
	req := Request{Principal: p, Action: c.action, Resource: Exactly(c.resource), Context: ctx, Absent: absent}
	doc := func(s string) *policy.Document {
		d, err := policy.Parse([]byte(s))
		if err != nil {
			t.Fatalf("generated policy does not parse: %v\n%s", err, s)
		}
		if reread != nil {
			reread(c, d)
		}
		return d
	}
	l := Layers{
		Identity:        []Policy{{Name: "identity", Kind: Identity, Doc: doc(c.identity)}},
		Resource:        &Policy{Name: "resource", Kind: Resource, Doc: doc(c.resourcePolicy)},
		ResourceAccount: diffOwner,
		KMSKey:          c.kms(),
	}
	if c.boundary != "" {
		l.Boundary = &Policy{Name: "boundary", Kind: Identity, Doc: doc(c.boundary)}
	}
	if c.scp != "" {
		l.SCP = &Policy{Name: "SCP", Kind: Identity, Doc: doc(c.scp)}
	}
	if c.rcp != "" {
		l.RCP = &Policy{Name: "RCP", Kind: Resource, Doc: doc(c.rcp)}
	}
	return Decide(l, req).Result()
}
