package eval

import "strings"

// The matchers below implement IAM's wildcards: * is any run of characters
// (including none and including "/" and ":"), ? is exactly one character.

// globMatch reports whether pattern matches s.
func globMatch(pattern, s string) bool {
	// Iterative matcher with single-star backtracking: linear in practice,
	// and never exponential on patterns with many stars.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			starP, starI = p, i
			p++
		case starP >= 0:
			p = starP + 1
			starI++
			i = starI
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// globCovers reports whether pattern matches prefix+x for every string x:
// whether a statement naming pattern covers every resource under prefix.
// It holds exactly when some way of matching prefix leaves a rest of the
// pattern made of stars only (at least one, or the empty x+"a" case fails).
func globCovers(pattern, prefix string) bool {
	pattern = collapseStars(pattern)
	var rec func(p, l string) bool
	rec = func(p, l string) bool {
		if l == "" {
			return p != "" && strings.Trim(p, "*") == ""
		}
		if p == "" {
			return false
		}
		switch p[0] {
		case '*':
			return rec(p[1:], l) || rec(p, l[1:])
		case '?':
			return rec(p[1:], l[1:])
		}
		return p[0] == l[0] && rec(p[1:], l[1:])
	}
	return rec(pattern, prefix)
}

// globIntersects reports whether pattern matches prefix+x for some string x:
// whether a statement naming pattern reaches any resource under prefix.
func globIntersects(pattern, prefix string) bool {
	pattern = collapseStars(pattern)
	var rec func(p, l string) bool
	rec = func(p, l string) bool {
		if l == "" {
			return true
		}
		if p == "" {
			return false
		}
		switch p[0] {
		case '*':
			return rec(p[1:], l) || rec(p, l[1:])
		case '?':
			return rec(p[1:], l[1:])
		}
		return p[0] == l[0] && rec(p[1:], l[1:])
	}
	return rec(pattern, prefix)
}

// collapseStars turns runs of * into one, which matches the same strings and
// keeps the recursive matchers from branching needlessly.
func collapseStars(p string) string {
	if !strings.Contains(p, "**") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '*' && i > 0 && p[i-1] == '*' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
