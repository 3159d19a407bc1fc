// Package eval decides whether a set of policies allows a request, the way
// AWS evaluates them, with one addition AWS does not need: answers can be
// "maybe". A condition on a key kmsgrant cannot know (aws:SourceIp, say) or
// an operator it does not implement makes a statement's match Maybe, never a
// guess. An Allow counts only when it surely applies; a Deny that might
// apply is reported so a person can look.
package eval

import (
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Tri is a three-valued truth.
type Tri int

// No, Maybe and Yes, ordered so that the minimum is the logical AND.
const (
	No Tri = iota
	Maybe
	Yes
)

func (t Tri) String() string {
	return [...]string{"no", "maybe", "yes"}[t]
}

func and(a Tri, more ...Tri) Tri {
	for _, t := range more {
		a = min(a, t)
	}
	return a
}

func or(a Tri, more ...Tri) Tri {
	for _, t := range more {
		a = max(a, t)
	}
	return a
}
func not(a Tri) Tri { return Yes - a }

// Value is a request value: one string, or, when Prefix is set, every string
// that starts with S. A grant covers all objects under a prefix, so it is
// evaluated against the whole set at once: a statement applies with Yes only
// when it applies to every member. A multivalued key (aws:CalledVia,
// aws:TagKeys) holds Set instead, made by Values.
type Value struct {
	S      string
	Prefix bool
	Set    []string
	Multi  bool
	// OrAbsent says the request carries this value or no value at all
	// for the key, kmsgrant cannot tell which: a condition on it is
	// decided only when both would decide it the same way.
	OrAbsent bool
}

// Values returns the Value of a multivalued key: the request carries every
// one of vs (or none).
func Values(vs ...string) Value { return Value{Set: vs, Multi: true} }

// members are the values a set operator (ForAnyValue, ForAllValues) goes
// through: each of a multivalued key's, or a single-valued key's one.
func (v Value) members() []Value {
	if !v.Multi {
		return []Value{v}
	}
	out := make([]Value, len(v.Set))
	for i, s := range v.Set {
		out[i] = Exactly(s)
	}
	return out
}

// Exactly returns a single-string Value.
func Exactly(s string) Value { return Value{S: s} }

// StartingWith returns the Value of every string that starts with s.
func StartingWith(s string) Value { return Value{S: s, Prefix: true} }

func (v Value) String() string {
	if v.Multi {
		return "[" + strings.Join(v.Set, ", ") + "]"
	}
	if v.Prefix {
		return v.S + "*"
	}
	return v.S
}

// Request is one API request as AWS authorizes it.
type Request struct {
	Principal arns.Principal
	Action    string
	Resource  Value
	// Context holds the condition keys whose values are known, keyed in
	// lower case (condition key names are case-insensitive). Keys that are
	// not here are unknown, unless listed in Absent.
	Context map[string]Value
	// Absent lists keys (lower case) known not to be in the request.
	Absent map[string]bool
	// PrincipalHasBoundary is set when the caller has a permissions
	// boundary: a NotPrincipal Deny then applies to it whatever it lists.
	PrincipalHasBoundary bool

	// literalVariables is set for documents older than policy language
	// 2012-10-17, where ${...} is plain text.
	literalVariables bool
}

// Kind says how a policy takes part in evaluation.
type Kind int

// Identity policies are attached to the caller and have no Principal;
// resource policies (bucket, key) apply only to the principals they name.
const (
	Identity Kind = iota
	Resource
)

// Policy is one document with a name for reports.
type Policy struct {
	Name string
	Kind Kind
	Doc  *policy.Document
}

// Ref points at one statement of one policy.
type Ref struct {
	Policy string
	Index  int
	Label  string
	// Statement is the statement's JSON.
	Statement string
	// Match is how surely the statement applies.
	Match Tri
	// For resource policies, how surely it applies through a Principal
	// that names the caller itself (its ARN, or everyone: Direct), only
	// everyone ("*": Everyone), or the caller's account (ViaAccount). In
	// one account AWS weighs these differently ("Policy evaluation for
	// requests within a single account", IAM User Guide).
	Direct, Everyone, ViaAccount Tri
}

// Decision is what a set of policies says about one request.
type Decision struct {
	// Allowed is Yes when an Allow statement surely applies.
	Allowed   Tri
	AllowedBy []Ref
	// Denied is Yes when a Deny statement surely applies, Maybe when one
	// might.
	Denied   Tri
	DeniedBy []Ref
}

// Evaluate decides one request against a set of policies. It reports every
// Allow and Deny statement that applies or might.
func Evaluate(policies []Policy, req Request) Decision {
	var d Decision
	for _, p := range policies {
		if p.Doc == nil {
			continue
		}
		docReq := req
		docReq.literalVariables = p.Doc.Version != "2012-10-17"
		for i, st := range p.Doc.Statements {
			sm := statementMatch(st, p.Kind, docReq)
			m := sm.any()
			if m == No {
				continue
			}
			ref := Ref{Policy: p.Name, Index: i, Label: st.Label(i), Statement: st.String(), Match: m,
				Direct: sm.direct(), Everyone: and(sm.everyone, sm.rest), ViaAccount: and(sm.account, sm.rest)}
			if st.Effect == policy.Deny {
				d.Denied = or(d.Denied, m)
				d.DeniedBy = append(d.DeniedBy, ref)
			} else {
				d.Allowed = or(d.Allowed, m)
				d.AllowedBy = append(d.AllowedBy, ref)
			}
		}
	}
	return d
}

// Statement says how surely one statement applies to a request.
func Statement(st policy.Statement, kind Kind, req Request) Tri {
	return statementMatch(st, kind, req).any()
}

// match is how surely a statement applies, split by how its principal
// element reaches the caller: naming everyone, naming the caller's ARN, or
// naming its account. rest covers the action, resource and conditions.
type match struct {
	everyone, arn, account Tri
	rest                   Tri
}

func (m match) any() Tri    { return and(or(m.everyone, m.arn, m.account), m.rest) }
func (m match) direct() Tri { return and(or(m.everyone, m.arn), m.rest) }

func statementMatch(st policy.Statement, kind Kind, req Request) match {
	m := match{arn: Yes, rest: Yes}
	if kind == Resource {
		m = principalMatch(st, req.Principal, req.PrincipalHasBoundary)
		if m.any() == No {
			return m
		}
	}
	rest := actionMatch(st, req.Action)
	if rest != No {
		rest = and(rest, resourceMatch(st, req))
	}
	for _, c := range st.Condition {
		if rest == No {
			break
		}
		rest = and(rest, condition(c, req))
	}
	m.rest = rest
	return m
}

func principalMatch(st policy.Statement, p arns.Principal, hasBoundary bool) match {
	switch {
	case st.Principal != nil:
		return principalIn(st.Principal, p)
	case st.NotPrincipal != nil && st.Effect == policy.Deny:
		// Only denies use NotPrincipal, and a deny applies however it
		// reaches the caller.
		return match{arn: notPrincipalApplies(st.NotPrincipal, p, hasBoundary), rest: Yes}
	case st.NotPrincipal != nil:
		// NotPrincipal with Allow is not supported by AWS ("NotPrincipal",
		// IAM JSON policy reference): it grants nothing.
		return match{}
	}
	// A resource policy statement without a principal applies to no one.
	return match{}
}

// notPrincipalApplies says whether a NotPrincipal element leaves p in the
// statement's scope. AWS excludes only what is listed exactly: an account ARN
// excludes the account root, not its roles and users ("NotPrincipal" in the
// IAM JSON policy reference). A user is surely excluded only with its account
// listed too; a role acts through sessions whose ARNs kmsgrant cannot know,
// so listing the role leaves the answer at Maybe. A NotPrincipal Deny always
// applies to a principal with a permissions boundary, whatever it lists.
func notPrincipalApplies(el *policy.Principal, p arns.Principal, hasBoundary bool) Tri {
	if hasBoundary {
		return Yes
	}
	if el.Wildcard {
		return No
	}
	var exact, account, someOfAccount, role, session bool
	for _, v := range el.AWS() {
		switch {
		case v == "*":
			return No
		case v == p.ARN():
			exact, role = true, true
		case arns.IsAccountPrincipal(v):
			if acct, _ := arns.AccountOfPrincipal(v); acct == p.Account {
				account = true
			}
		case p.Session != "" && IsSessionOf(v, p):
			// The caller is a known session: listed, or another one.
			if v == p.SessionARN() {
				exact, session = true, true
			}
		case IsSessionOf(v, p):
			// The caller may be that session.
			exact = true
		default:
			if acct, ok := arns.AccountOfPrincipal(v); ok && acct == p.Account {
				someOfAccount = true
			}
		}
	}
	if len(el.Types["CanonicalUser"].List) > 0 && !exact {
		// A canonical user ID may be the caller's account.
		return Maybe
	}
	switch {
	case p.Kind == arns.Account && someOfAccount:
		// The caller may be the principal of the account that is listed.
		return Maybe
	case p.Kind == arns.Account:
		// Any principal of the account may call; listing the account
		// excludes only its root.
		return Yes
	case exact && account && (p.Kind == arns.User || session && role):
		// "NotPrincipal" in the IAM JSON policy reference: a user is
		// excluded with its account listed too; an assumed-role session
		// with its role and account ("if the NotPrincipal element was
		// missing the ARN of the role, the effect of the policy might be
		// to explicitly deny access to the role").
		return No
	case exact:
		return Maybe
	}
	return Yes
}

// IsSessionOf reports whether v is an assumed-role session ARN of p's role
// (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION; the role's path is not
// part of it), or, for a whole-account caller, of any role of its account.
func IsSessionOf(v string, p arns.Principal) bool {
	prefix := "arn:" + p.Partition + ":sts::" + p.Account + ":assumed-role/"
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return false
	}
	switch p.Kind {
	case arns.Role:
		return strings.HasPrefix(rest, p.Name+"/")
	case arns.Account:
		return true
	}
	return false
}

// principalIn says how a Principal element names p: everyone, its exact
// ARN, or its account (ID or root ARN). Service principals never name an
// IAM role or user.
func principalIn(el *policy.Principal, p arns.Principal) match {
	m := match{rest: Yes}
	if el.Wildcard {
		m.everyone = Yes
		return m
	}
	for _, v := range el.AWS() {
		switch {
		case v == "*":
			m.everyone = Yes
		case v == p.ARN() && p.Kind != arns.Account:
			m.arn = Yes
		case p.Session != "" && IsSessionOf(v, p):
			// The caller is a known session of the role: this one, or
			// another.
			if v == p.SessionARN() {
				m.arn = Yes
			}
		case IsSessionOf(v, p):
			// A session of the caller's role: the caller acts through
			// sessions whose names kmsgrant cannot know.
			m.arn = or(m.arn, Maybe)
		case arns.IsAccountPrincipal(v):
			if acct, _ := arns.AccountOfPrincipal(v); acct == p.Account {
				m.account = Yes
			}
		case p.Kind == arns.Account:
			// The caller may be any principal of the account: a statement
			// naming one of them applies to some callers.
			if acct, ok := arns.AccountOfPrincipal(v); ok && acct == p.Account {
				m.arn = or(m.arn, Maybe)
			}
		}
	}
	if len(el.Types["CanonicalUser"].List) > 0 {
		// A canonical user ID may be the caller's account; kmsgrant cannot
		// map it without asking S3.
		m.account = or(m.account, Maybe)
	}
	return m
}

func actionMatch(st policy.Statement, action string) Tri {
	action = strings.ToLower(action)
	matches := func(v policy.Values) bool {
		for _, a := range v.List {
			if globMatch(strings.ToLower(a), action) {
				return true
			}
		}
		return false
	}
	if st.Action.IsSet() {
		return triOf(matches(st.Action))
	}
	return triOf(!matches(st.NotAction))
}

func resourceMatch(st policy.Statement, req Request) Tri {
	anyOf := func(v policy.Values) Tri {
		r := No
		for _, pat := range v.List {
			if variableBeforeResourcePart(pat) && !req.literalVariables {
				// "You can't use a variable to replace parts of the ARN
				// before the fifth colon, such as the service or account"
				// (IAM policy elements: Variables and tags). AWS does not
				// say what it makes of one there; kmsgrant does not guess.
				r = or(r, Maybe)
				continue
			}
			pat, res := substitute(pat, req, true)
			switch res {
			case unknown:
				r = or(r, Maybe)
			case resolved:
				r = or(r, valueMatch(pat, req.Resource))
			}
			// A null variable: the pattern matches nothing.
		}
		return r
	}
	switch {
	case st.Resource.IsSet():
		return anyOf(st.Resource)
	case st.NotResource.IsSet():
		return not(anyOf(st.NotResource))
	}
	// AWS rejects statements without Resource or NotResource in the
	// policies kmsgrant reads, so one that has neither grants nothing.
	return No
}

// variableBeforeResourcePart reports whether a resource ARN pattern has a
// policy variable before its fifth colon.
func variableBeforeResourcePart(pattern string) bool {
	head := pattern
	for range 5 {
		i := strings.IndexByte(head, ':')
		if i < 0 {
			return false
		}
		head = head[i+1:]
	}
	return strings.Contains(pattern[:len(pattern)-len(head)], "${")
}

// valueMatch matches one wildcard pattern against a request value. It is
// case-sensitive: no operator matches wildcards ignoring case, and lower
// casing would lose the marks of literal * and ?.
func valueMatch(pattern string, v Value) Tri {
	if !v.Prefix {
		return triOf(globMatch(pattern, v.S))
	}
	switch {
	case globCovers(pattern, v.S):
		return Yes
	case globIntersects(pattern, v.S):
		return Maybe
	}
	return No
}

// equalMatch compares an exact value with a request value.
func equalMatch(want string, v Value, ignoreCase bool) Tri {
	if ignoreCase {
		want, v.S = strings.ToLower(want), strings.ToLower(v.S)
	}
	if !v.Prefix {
		return triOf(want == v.S)
	}
	// One exact value never covers a whole set of values, but may be in it.
	if strings.HasPrefix(want, v.S) {
		return Maybe
	}
	return No
}

func triOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}
