// Package eval decides whether a set of policies allows a request, the way
// AWS evaluates them, with one addition AWS does not need: answers can be
// "maybe". A condition on a key kmsgrant cannot know (aws:SourceIp, say) or
// an operator it does not implement makes a statement's match Maybe, never a
// guess. An Allow counts only when it surely applies; a Deny that might
// apply is reported so a person can look.
package eval

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

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

func and(a, b Tri) Tri { return min(a, b) }
func or(a, b Tri) Tri  { return max(a, b) }
func not(a Tri) Tri    { return Yes - a }

// Value is a request value: one string, or, when Prefix is set, every string
// that starts with S. A grant covers all objects under a prefix, so it is
// evaluated against the whole set at once: a statement applies with Yes only
// when it applies to every member.
type Value struct {
	S      string
	Prefix bool
}

// Exactly returns a single-string Value.
func Exactly(s string) Value { return Value{S: s} }

// StartingWith returns the Value of every string that starts with s.
func StartingWith(s string) Value { return Value{S: s, Prefix: true} }

func (v Value) String() string {
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
			m := Statement(st, p.Kind, docReq)
			if m == No {
				continue
			}
			ref := Ref{Policy: p.Name, Index: i, Label: st.Label(i), Statement: st.String(), Match: m}
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
	m := Yes
	if kind == Resource {
		m = and(m, principalMatch(st, req.Principal, req.PrincipalHasBoundary))
		if m == No {
			return No
		}
	}
	m = and(m, actionMatch(st, req.Action))
	if m == No {
		return No
	}
	m = and(m, resourceMatch(st, req))
	if m == No {
		return No
	}
	for _, c := range st.Condition {
		m = and(m, condition(c, req))
		if m == No {
			return No
		}
	}
	return m
}

func principalMatch(st policy.Statement, p arns.Principal, hasBoundary bool) Tri {
	switch {
	case st.Principal != nil:
		return principalIn(st.Principal, p)
	case st.NotPrincipal != nil && st.Effect == policy.Deny:
		return notPrincipalApplies(st.NotPrincipal, p, hasBoundary)
	case st.NotPrincipal != nil:
		// NotPrincipal with Allow is not supported by AWS ("NotPrincipal",
		// IAM JSON policy reference): it grants nothing.
		return No
	}
	// A resource policy statement without a principal applies to no one.
	return No
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
	var exact, account bool
	for _, v := range el.AWS() {
		switch {
		case v == "*":
			return No
		case v == p.ARN():
			exact = true
		case arns.IsAccountPrincipal(v):
			if acct, _ := arns.AccountOfPrincipal(v); acct == p.Account {
				account = true
			}
		}
	}
	if len(el.Types["CanonicalUser"].List) > 0 && !exact {
		// A canonical user ID may be the caller's account.
		return Maybe
	}
	switch {
	case p.Kind == arns.Account:
		// Any principal of the account may call; listing the account
		// excludes only its root.
		return Yes
	case exact && account && p.Kind == arns.User:
		return No
	case exact:
		return Maybe
	}
	return Yes
}

// principalIn says whether a Principal element names p: its exact ARN, its
// account (ID or root ARN), or everyone.
func principalIn(el *policy.Principal, p arns.Principal) Tri {
	if el.Wildcard {
		return Yes
	}
	result := No
	for _, v := range el.AWS() {
		switch {
		case v == "*":
			return Yes
		case v == p.ARN():
			return Yes
		case arns.IsAccountPrincipal(v):
			if acct, _ := arns.AccountOfPrincipal(v); acct == p.Account {
				return Yes
			}
		case p.Kind == arns.Account:
			// The caller may be any principal of the account: a statement
			// naming one of them applies to some callers.
			if acct, ok := arns.AccountOfPrincipal(v); ok && acct == p.Account {
				result = Maybe
			}
		}
	}
	if len(el.Types["CanonicalUser"].List) > 0 {
		// A canonical user ID may be the caller's account; kmsgrant cannot
		// map it without asking S3.
		result = Maybe
	}
	return result
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
			pat, ok := substitute(pat, req)
			if !ok {
				r = or(r, Maybe)
				continue
			}
			r = or(r, valueMatch(pat, req.Resource, false))
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

// valueMatch matches one wildcard pattern against a request value.
func valueMatch(pattern string, v Value, ignoreCase bool) Tri {
	if ignoreCase {
		pattern, v.S = strings.ToLower(pattern), strings.ToLower(v.S)
	}
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

// substitute replaces policy variables such as ${aws:PrincipalAccount} with
// their known values. ok is false when a variable's value is unknown.
func substitute(s string, req Request) (string, bool) {
	if req.literalVariables || !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		name := s[i+2 : i+j]
		switch name {
		case "*", "?", "$":
			// Literal characters that the wildcard matcher would read as
			// wildcards; rare enough to leave undecided.
			return "", false
		default:
			v, ok := req.Context[strings.ToLower(name)]
			if !ok || v.Prefix {
				return "", false
			}
			b.WriteString(v.S)
		}
		s = s[i+j+1:]
	}
}

func triOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// condition evaluates one key of one condition operator.
func condition(c policy.Condition, req Request) Tri {
	op := c.Operator
	setOp := ""
	for _, prefix := range []string{"ForAnyValue:", "ForAllValues:"} {
		if strings.HasPrefix(op, prefix) {
			setOp, op = prefix, strings.TrimPrefix(op, prefix)
		}
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	key := strings.ToLower(c.Key)

	if op == "Null" {
		return nullCondition(c, key, req)
	}
	v, known := req.Context[key]
	if !known {
		if req.Absent[key] {
			// A missing key: IfExists, ForAllValues and negated operators
			// hold, everything else fails.
			return triOf(ifExists || setOp == "ForAllValues:" || negated(op))
		}
		return Maybe
	}
	values := make([]string, 0, len(c.Values.List))
	for _, raw := range c.Values.List {
		s, ok := substitute(raw, req)
		if !ok {
			return Maybe
		}
		values = append(values, s)
	}
	// The request's keys are single-valued, so ForAnyValue and
	// ForAllValues reduce to the plain operator.
	return operator(op, values, v)
}

// negated reports whether an operator matches when values differ.
func negated(op string) bool {
	return strings.Contains(op, "Not")
}

func nullCondition(c policy.Condition, key string, req Request) Tri {
	var present Tri
	switch {
	case req.Context[key] != (Value{}):
		present = Yes
	case req.Absent[key]:
		present = No
	default:
		return Maybe
	}
	r := No
	for _, want := range c.Values.List {
		switch strings.ToLower(want) {
		case "true":
			r = or(r, not(present))
		case "false":
			r = or(r, present)
		}
	}
	return r
}

// operator applies a condition operator. Unimplemented operators answer
// Maybe: kmsgrant does not guess.
func operator(op string, values []string, v Value) Tri {
	anyValue := func(f func(string) Tri) Tri {
		r := No
		for _, want := range values {
			r = or(r, f(want))
		}
		return r
	}
	switch op {
	case "StringEquals":
		return anyValue(func(w string) Tri { return equalMatch(w, v, false) })
	case "StringNotEquals":
		return not(anyValue(func(w string) Tri { return equalMatch(w, v, false) }))
	case "StringEqualsIgnoreCase":
		return anyValue(func(w string) Tri { return equalMatch(w, v, true) })
	case "StringNotEqualsIgnoreCase":
		return not(anyValue(func(w string) Tri { return equalMatch(w, v, true) }))
	case "StringLike", "ArnLike", "ArnEquals":
		return anyValue(func(w string) Tri { return valueMatch(w, v, false) })
	case "StringNotLike", "ArnNotLike", "ArnNotEquals":
		return not(anyValue(func(w string) Tri { return valueMatch(w, v, false) }))
	case "Bool":
		return anyValue(func(w string) Tri { return equalMatch(strings.ToLower(w), v, true) })
	case "BinaryEquals":
		// Base64 values compare as written.
		return anyValue(func(w string) Tri { return equalMatch(w, v, false) })
	}
	if v.Prefix {
		return Maybe // a set of strings has no single number, date or address
	}
	if cmp, ok := comparators[op]; ok {
		return ordered(op, cmp, values, v.S)
	}
	switch op {
	case "IpAddress":
		return anyValue(func(w string) Tri { return ipIn(w, v.S) })
	case "NotIpAddress":
		return not(anyValue(func(w string) Tri { return ipIn(w, v.S) }))
	}
	return Maybe
}

// comparators give each numeric and date operator its test on the sign of
// request value minus policy value.
var comparators = map[string]func(int) bool{
	"NumericEquals": func(c int) bool { return c == 0 }, "NumericNotEquals": func(c int) bool { return c != 0 },
	"NumericLessThan": func(c int) bool { return c < 0 }, "NumericLessThanEquals": func(c int) bool { return c <= 0 },
	"NumericGreaterThan": func(c int) bool { return c > 0 }, "NumericGreaterThanEquals": func(c int) bool { return c >= 0 },
	"DateEquals": func(c int) bool { return c == 0 }, "DateNotEquals": func(c int) bool { return c != 0 },
	"DateLessThan": func(c int) bool { return c < 0 }, "DateLessThanEquals": func(c int) bool { return c <= 0 },
	"DateGreaterThan": func(c int) bool { return c > 0 }, "DateGreaterThanEquals": func(c int) bool { return c >= 0 },
}

// ordered applies a numeric or date operator. A negated operator holds when
// the request value differs from every policy value; the others when it
// compares as asked with any. A value that does not parse is undecided.
func ordered(op string, test func(int) bool, values []string, got string) Tri {
	parse := parseNumber
	if strings.HasPrefix(op, "Date") {
		parse = parseDate
	}
	g, ok := parse(got)
	if !ok {
		return Maybe
	}
	negated := strings.Contains(op, "Not")
	r := No
	if negated {
		r = Yes
	}
	for _, w := range values {
		x, ok := parse(w)
		if !ok {
			return Maybe
		}
		c := 0
		switch {
		case g < x:
			c = -1
		case g > x:
			c = 1
		}
		if negated && !test(c) {
			return No
		}
		if !negated && test(c) {
			r = Yes
		}
	}
	return r
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// parseDate reads the date forms IAM accepts: ISO 8601 with or without a
// time, or seconds since the epoch.
func parseDate(s string) (float64, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.UnixNano()) / 1e9, true
		}
	}
	return parseNumber(s)
}

// ipIn says whether an address is in a CIDR block (or equals a bare
// address).
func ipIn(block, addr string) Tri {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return Maybe
	}
	if !strings.Contains(block, "/") {
		want, err := netip.ParseAddr(block)
		if err != nil {
			return Maybe
		}
		return triOf(want == ip)
	}
	prefix, err := netip.ParsePrefix(block)
	if err != nil {
		return Maybe
	}
	return triOf(prefix.Contains(ip))
}
