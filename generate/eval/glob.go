package eval

import (
	"fmt"
	"slices"
	"strings"
)

// The matchers below implement IAM's wildcards: * is any run of characters
// (including none and including "/" and ":"), ? is exactly one character.
// A literal * or ? (from ${*} or ${?}) is marked with literalStar or
// literalQuestion and matches only itself.

// globMatch reports whether pattern matches s.
func globMatch(pattern, s string) bool {
	// Iterative matcher with single-star backtracking: linear in practice,
	// and never exponential on patterns with many stars.
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starI = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || literalByte(pattern[p]) == s[i]):
			p++
			i++
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
// It runs the pattern as an automaton over prefix, then checks that every
// state reachable from there on any further input accepts. The check is
// exact; it gives up (false, the cautious answer) only past maxCoverStates
// automaton states, which policy patterns do not reach.
func globCovers(pattern, prefix string) bool {
	// Every string prefix+x starts with the pattern's literal beginning
	// only if prefix does: most statements of a large policy are told
	// apart here, before the automaton. (Patterns with a literal * or ?,
	// from ${*} or ${?}, take the automaton alone.)
	if !strings.ContainsAny(pattern, string([]byte{literalStar, literalQuestion})) {
		literal := pattern
		if i := strings.IndexAny(pattern, "*?"); i >= 0 {
			literal = pattern[:i]
		}
		if !strings.HasPrefix(prefix, literal) {
			return false
		}
		if !strings.Contains(pattern, "*") {
			// Without a *, the pattern matches strings of one length:
			// never every string under a prefix.
			return false
		}
	}
	return automatonCovers(pattern, prefix)
}

// automatonCovers is globCovers by the automaton alone.
func automatonCovers(pattern, prefix string) bool {
	pattern = collapseStars(pattern)
	start := globStep(pattern, globClosure(pattern, map[int]bool{0: true}), prefix)
	// The alphabet that matters: every literal character of the pattern,
	// and one character that is none of them.
	alphabet := map[byte]bool{}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '*' && pattern[i] != '?' {
			alphabet[literalByte(pattern[i])] = true
		}
	}
	var other byte
	for alphabet[other] {
		other++
	}
	alphabet[other] = true

	seen := map[string]bool{}
	queue := []map[int]bool{start}
	for len(queue) > 0 {
		set := queue[0]
		queue = queue[1:]
		if !set[len(pattern)] {
			return false // some suffix leads here and is not matched
		}
		key := stateKey(set)
		if seen[key] {
			continue
		}
		if seen[key] = true; len(seen) > maxCoverStates {
			return false
		}
		for c := range alphabet {
			queue = append(queue, globStep(pattern, set, string(c)))
		}
	}
	return true
}

const maxCoverStates = 4096

// globClosure adds the positions reachable by letting stars match nothing.
func globClosure(pattern string, set map[int]bool) map[int]bool {
	for i := 0; i < len(pattern); i++ {
		if set[i] && pattern[i] == '*' {
			set[i+1] = true
		}
	}
	return set
}

// globStep feeds s to the pattern automaton from the positions in set.
func globStep(pattern string, set map[int]bool, s string) map[int]bool {
	for j := 0; j < len(s); j++ {
		next := map[int]bool{}
		for i := range set {
			if i >= len(pattern) {
				continue
			}
			switch pattern[i] {
			case '*':
				next[i] = true
			case '?':
				next[i+1] = true
			default:
				if literalByte(pattern[i]) == s[j] {
					next[i+1] = true
				}
			}
		}
		set = globClosure(pattern, next)
	}
	return set
}

func stateKey(set map[int]bool) string {
	keys := make([]int, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Sprint(keys)
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
		return literalByte(p[0]) == l[0] && rec(p[1:], l[1:])
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
