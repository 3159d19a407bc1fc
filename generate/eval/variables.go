package eval

import (
	"strings"
	"unicode/utf8"
)

// Policy variables, as "IAM policy elements: Variables and tags" (IAM User
// Guide) describes them: ${key} is replaced by the request's value of key;
// ${key, 'default'} falls back to default when the request has no value
// (a quote inside default is written ''); ${*}, ${?} and ${$} are the
// literal characters *, ? and $. AWS substitutes once: a value that itself
// looks like a variable or a wildcard is plain text.

// resolution says what substituting a string's variables gave.
type resolution int

const (
	// resolved: every variable had a value.
	resolved resolution = iota
	// unknown: some variable's value is not known to kmsgrant (it may or
	// may not be in the request).
	unknown
	// null: some variable has no value in the request and no default.
	// AWS then treats the value as null, which nothing equals or is like
	// ("Policy variables with no value"): the string matches nothing.
	null
)

// Literal * and ? in a wildcard pattern, from ${*} and ${?} or from a
// substituted value, are written with bytes that never occur in UTF-8
// text, so that the wildcard matchers can tell them from wildcards.
const (
	literalStar     byte = 0xFE
	literalQuestion byte = 0xFF
)

// markLiterals marks the * and ? of substituted text as literal.
var markLiterals = strings.NewReplacer("*", string([]byte{literalStar}), "?", string([]byte{literalQuestion}))

// literalByte is the character a pattern byte stands for when it is not a
// wildcard.
func literalByte(b byte) byte {
	switch b {
	case literalStar:
		return '*'
	case literalQuestion:
		return '?'
	}
	return b
}

// substitute replaces the policy variables of s with their values. With
// wildcards set, s is a wildcard pattern: literal * and ? in what is
// substituted are marked so that they do not act as wildcards.
func substitute(s string, req Request, wildcards bool) (string, resolution) {
	if req.literalVariables || !strings.Contains(s, "${") {
		return s, resolved
	}
	var b strings.Builder
	res := resolved
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), res
		}
		b.WriteString(s[:i])
		v, rest, r := variable(s[i:], req, wildcards)
		if rest == s[i:] {
			// Not a variable: "${" without its closing brace is text.
			b.WriteString(s[i:])
			return b.String(), res
		}
		res = max(res, r)
		b.WriteString(v)
		s = rest
	}
}

// variable reads the variable s starts with and returns its value and the
// text after it. rest is s itself when s holds no complete variable. In a
// pattern (wildcards), ${*} and ${?} give marked literals.
func variable(s string, req Request, wildcards bool) (value, rest string, r resolution) {
	body := s[2:]
	name, def, hasDefault := body, "", false
	end := strings.IndexByte(body, '}')
	comma := strings.IndexByte(body, ',')
	if comma >= 0 && (end < 0 || comma < end) {
		// ${key, 'default'}: the default may hold '}' and doubled quotes.
		name = body[:comma]
		d, after, ok := quoted(strings.TrimLeft(body[comma+1:], " "))
		after = strings.TrimLeft(after, " ")
		if !ok || !strings.HasPrefix(after, "}") {
			// A default AWS would not accept; kmsgrant cannot say how
			// AWS reads it.
			return "", s[len(s):], unknown
		}
		def, hasDefault, rest = d, true, after[1:]
	} else {
		if end < 0 {
			return "", s, resolved
		}
		name, rest = body[:end], body[end+1:]
	}
	name = strings.TrimSpace(name)
	switch name {
	case "*", "?", "$":
		if hasDefault {
			return "", rest, unknown
		}
		if wildcards {
			return markLiterals.Replace(name), rest, resolved
		}
		return name, rest, resolved
	}
	key := strings.ToLower(name)
	v, known := req.Context[key]
	switch {
	case known && !v.Prefix && !v.Multi:
		value, r = substituted(v.S, wildcards)
		return value, rest, r
	case known:
		// A set of values (a prefix, or a multivalued key, which AWS does
		// not substitute) has no single value to put in.
		return "", rest, unknown
	case hasDefault && req.Absent[key]:
		value, r = substituted(def, wildcards)
		return value, rest, r
	case req.Absent[key]:
		return "", rest, null
	}
	return "", rest, unknown
}

// substituted checks a value or default that is put in for a variable. AWS
// does not document whether a * or ? in it then acts as a wildcard, so in a
// pattern such a value is undecided; only ${*} and ${?} are surely literal.
func substituted(v string, wildcards bool) (string, resolution) {
	if !utf8.ValidString(v) || (wildcards && strings.ContainsAny(v, "*?")) {
		return "", unknown
	}
	return v, resolved
}

// quoted reads a single-quoted string at the start of s, where ” stands
// for one quote, and returns it and the text after it.
func quoted(s string) (text, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", s, false
}
