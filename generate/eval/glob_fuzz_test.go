package eval

import (
	"regexp"
	"strings"
	"testing"
)

// referenceGlob is the wildcard pattern as a regular expression: the
// obvious translation, slow but easy to trust.
func referenceGlob(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(literalByte(pattern[i]))))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// FuzzGlob checks the matchers against the reference and against each
// other: a pattern that covers every string under a prefix matches the
// prefix itself and what follows it, and one that matches a string
// intersects it as a prefix. Patterns are ASCII with the literal markers
// ${*} and ${?} become, so that ? is one character to both sides.
func FuzzGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"*b", "*xb"}, {"a?c", "abc"}, {"a\xfe", "a*"}, {"a\xfe*", "a*"}, {"**", ""},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/reports/"}, {"b/*/a.csv", "b/"}, {"x\xff", "x?"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 24 || len(s) > 24 || !asciiOr(pattern, literalStar, literalQuestion) || !asciiOr(s) {
			t.Skip()
		}
		want := referenceGlob(pattern).MatchString(s)
		if got := globMatch(pattern, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, reference says %v", pattern, s, got, want)
		}
		if want && !globIntersects(pattern, s) {
			t.Fatalf("%q matches %q but globIntersects says no string starting with it matches", pattern, s)
		}
		if !globCovers(pattern, s) {
			return
		}
		for _, suffix := range []string{"", "x", "*", "?", "/a/b", s} {
			if !globMatch(pattern, s+suffix) {
				t.Fatalf("globCovers(%q, %q) but %q does not match", pattern, s, s+suffix)
			}
		}
	})
}

// asciiOr reports whether s is printable ASCII or one of extra.
func asciiOr(s string, extra ...byte) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 0x20 || s[i] > 0x7e) && strings.IndexByte(string(extra), s[i]) < 0 {
			return false
		}
	}
	return true
}
