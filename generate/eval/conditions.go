package eval

import (
	"maps"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

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

	if v, ok := req.Context[key]; ok && v.OrAbsent {
		return eitherWay(c, key, v, req)
	}
	if op == "Null" {
		return nullCondition(c, key, req)
	}
	v, known := req.Context[key]
	if !known {
		if !req.Absent[key] {
			return Maybe
		}
		// A missing key ("Condition operators", IAM JSON policy
		// reference, and "Set operators for multivalued context keys"):
		// ForAllValues holds and ForAnyValue fails whatever the operator;
		// otherwise IfExists and negated operators hold.
		switch setOp {
		case "ForAllValues:":
			return Yes
		case "ForAnyValue:":
			return No
		}
		return triOf(ifExists || negated(op))
	}
	values := make([]string, 0, len(c.Values.List))
	wildcards := strings.HasSuffix(op, "Like") || strings.HasPrefix(op, "Arn")
	for _, raw := range c.Values.List {
		s, res := substitute(raw, req, wildcards)
		switch res {
		case unknown:
			return Maybe
		case resolved:
			values = append(values, s)
		}
		// A null variable leaves a value nothing equals or is like: it
		// drops out, so a negated operator still holds.
	}
	switch setOp {
	case "ForAnyValue:":
		r := No
		for _, m := range v.members() {
			r = or(r, operator(op, values, m))
		}
		return r
	case "ForAllValues:":
		r := Yes
		for _, m := range v.members() {
			r = and(r, operator(op, values, m))
		}
		return r
	}
	if v.Multi {
		// AWS requires a set operator for a multivalued key and does not
		// document what a plain operator does with one.
		return Maybe
	}
	return operator(op, values, v)
}

// eitherWay decides a condition on a key the request carries with value v
// or not at all: the answer when both agree, Maybe when they do not.
func eitherWay(c policy.Condition, key string, v Value, req Request) Tri {
	with, without := req, req
	with.Context, without.Context = maps.Clone(req.Context), maps.Clone(req.Context)
	v.OrAbsent = false
	with.Context[key] = v
	delete(without.Context, key)
	without.Absent = maps.Clone(req.Absent)
	if without.Absent == nil {
		without.Absent = map[string]bool{}
	}
	without.Absent[key] = true
	a, b := condition(c, with), condition(c, without)
	if a == b {
		return a
	}
	return Maybe
}

// negated reports whether an operator matches when values differ.
func negated(op string) bool {
	return strings.Contains(op, "Not")
}

// nullCondition decides the Null operator: "true" holds when the key is
// missing, "false" when it is there.
func nullCondition(c policy.Condition, key string, req Request) Tri {
	v, known := req.Context[key]
	var present Tri
	switch {
	case known && v.Multi && len(v.Set) == 0:
		// AWS does not document whether an empty set is null.
		return Maybe
	case known:
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
	case "StringLike":
		return anyValue(func(w string) Tri { return valueMatch(w, v) })
	case "StringNotLike":
		return not(anyValue(func(w string) Tri { return valueMatch(w, v) }))
	case "ArnLike", "ArnEquals":
		return anyValue(func(w string) Tri { return arnMatch(w, v) })
	case "ArnNotLike", "ArnNotEquals":
		return not(anyValue(func(w string) Tri { return arnMatch(w, v) }))
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

// arnMatch matches an ARN pattern the way the Arn operators do: "each of
// the six colon-delimited components of the ARN is checked separately", so
// a wildcard does not reach across a colon ("Condition operators", IAM JSON
// policy reference). A pattern that is not six components is undecided, as
// is a set of values that ends before the sixth.
func arnMatch(pattern string, v Value) Tri {
	want := strings.SplitN(pattern, ":", 6)
	if len(want) != 6 {
		return Maybe
	}
	got := strings.SplitN(v.S, ":", 6)
	if len(got) != 6 {
		if v.Prefix {
			return Maybe
		}
		return No
	}
	r := Yes
	for i := range 5 {
		r = and(r, triOf(globMatch(want[i], got[i])))
	}
	return and(r, valueMatch(want[5], Value{S: got[5], Prefix: v.Prefix}))
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
	neg := negated(op)
	r := No
	if neg {
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
		if neg && !test(c) {
			return No
		}
		if !neg && test(c) {
			r = Yes
		}
	}
	return r
}

// decimal is the number syntax kmsgrant reads; strconv would also take NaN,
// Inf, hexadecimal and underscores, which IAM does not document.
var decimal = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if !decimal.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
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
