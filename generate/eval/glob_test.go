package eval

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"**", "", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"abc", "abcd", false},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "bba", true},
		{"*a", "ab", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "acb", false},
		{"a*b", "abab", true},
		{"a*?", "a", false},
		{"a*?", "ab", true},
		{"*?*", "", false},
		{"*?*", "x", true},
		{"???", "abc", true},
		{"???", "ab", false},
		{"a?c", "a/c", true},
		// * and ? cross the separators IAM ARNs use.
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/reports/2024/x.csv", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"arn:aws:s3:::b*", "arn:aws:s3:::b/x", true},
		{"arn:aws:s3:::b*", "arn:aws:s3:::bb", true},
		{"arn:aws:*:*:444455556666:*", "arn:aws:iam::444455556666:role/R", true},
		{"arn:aws:*:444455556666:*", "arn:aws:iam::444455556666:role/R", true},
		{"s3:get*", "s3:getobject", true},
		// Matching is case-sensitive; callers lower-case when they need to.
		{"s3:Get*", "s3:getobject", false},
		// Many stars never blow up.
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 60), false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q~%q", tc.pattern, tc.s), func(t *testing.T) {
			if got := globMatch(tc.pattern, tc.s); got != tc.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}

func TestGlobCovers(t *testing.T) {
	tests := []struct {
		name            string
		pattern, prefix string
		want            bool
	}{
		{name: "bucket-wide pattern covers a deeper prefix", pattern: "arn:aws:s3:::b/*", prefix: "arn:aws:s3:::b/reports/", want: true},
		{name: "bucket-wide pattern covers its own prefix", pattern: "arn:aws:s3:::b/*", prefix: "arn:aws:s3:::b/", want: true},
		{name: "pattern does not cover a prefix that stops before its literal slash", pattern: "arn:aws:s3:::b/*", prefix: "arn:aws:s3:::b", want: false},
		{name: "narrower pattern does not cover a wider prefix", pattern: "arn:aws:s3:::b/reports/*", prefix: "arn:aws:s3:::b/", want: false},
		{name: "pattern prefix without separator covers", pattern: "arn:aws:s3:::b/rep*", prefix: "arn:aws:s3:::b/reports/", want: true},
		{name: "other bucket", pattern: "arn:aws:s3:::c/*", prefix: "arn:aws:s3:::b/", want: false},
		{name: "exact pattern equal to prefix does not cover", pattern: "arn:aws:s3:::b/x", prefix: "arn:aws:s3:::b/x", want: false},
		{name: "exact pattern longer than prefix does not cover", pattern: "arn:aws:s3:::b/x", prefix: "arn:aws:s3:::b/", want: false},
		{name: "star alone covers everything", pattern: "*", prefix: "arn:aws:s3:::b/", want: true},
		{name: "star alone covers the empty prefix", pattern: "*", prefix: "", want: true},
		{name: "double star", pattern: "arn:aws:s3:::b/**", prefix: "arn:aws:s3:::b/x", want: true},
		{name: "empty pattern covers nothing", pattern: "", prefix: "", want: false},
		{name: "question mark needs a character", pattern: "a?", prefix: "a", want: false},
		{name: "question mark then star covers once the prefix fills it", pattern: "a?*", prefix: "ab", want: true},
		{name: "question mark then star needs the prefix to fill it", pattern: "a?*", prefix: "a", want: false},
		{name: "star in the middle covers", pattern: "arn:aws:s3:::*/*", prefix: "arn:aws:s3:::b/", want: true},
		{name: "star in the middle with literal tail does not cover", pattern: "arn:aws:s3:::b/*.csv", prefix: "arn:aws:s3:::b/", want: false},
		{name: "leading star with literal in prefix covers", pattern: "*a*", prefix: "xa", want: true},
		{name: "leading star with literal not yet in prefix does not cover", pattern: "*a*", prefix: "x", want: false},
		{name: "single character ahead of star", pattern: "a*", prefix: "a", want: true},
		{name: "mismatching first character", pattern: "a*", prefix: "b", want: false},
		{
			name: "star then question mark covers a non-empty prefix", pattern: "*?", prefix: "a", want: true,
		},
		{
			name: "bucket pattern with trailing question mark covers a prefix reaching past the slash", pattern: "arn:aws:s3:::b/*?", prefix: "arn:aws:s3:::b/r", want: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := globCovers(tc.pattern, tc.prefix); got != tc.want {
				t.Errorf("globCovers(%q, %q) = %v, want %v", tc.pattern, tc.prefix, got, tc.want)
			}
		})
	}
}

func TestGlobIntersects(t *testing.T) {
	tests := []struct {
		name            string
		pattern, prefix string
		want            bool
	}{
		{name: "narrower pattern intersects a wider prefix", pattern: "arn:aws:s3:::b/reports/*", prefix: "arn:aws:s3:::b/", want: true},
		{name: "wider pattern intersects a narrower prefix", pattern: "arn:aws:s3:::b/*", prefix: "arn:aws:s3:::b/reports/", want: true},
		{name: "exact pattern under the prefix intersects", pattern: "arn:aws:s3:::b/reports/x.csv", prefix: "arn:aws:s3:::b/reports/", want: true},
		{name: "exact pattern equal to prefix intersects", pattern: "arn:aws:s3:::b/x", prefix: "arn:aws:s3:::b/x", want: true},
		{name: "exact pattern shorter than prefix does not intersect", pattern: "arn:aws:s3:::b", prefix: "arn:aws:s3:::b/", want: false},
		{name: "sibling prefix does not intersect", pattern: "arn:aws:s3:::b/logs/*", prefix: "arn:aws:s3:::b/reports/", want: false},
		{name: "other bucket", pattern: "arn:aws:s3:::c/*", prefix: "arn:aws:s3:::b/", want: false},
		{name: "question mark against a shorter prefix", pattern: "a?", prefix: "a", want: true},
		{name: "question mark against an equal-length prefix", pattern: "a?", prefix: "ab", want: true},
		{name: "question mark pattern shorter than prefix", pattern: "a?", prefix: "abc", want: false},
		{name: "star in the middle reaches past the prefix", pattern: "arn:aws:s3:::*/x", prefix: "arn:aws:s3:::b/reports/", want: true},
		{name: "literal tail after star always intersects", pattern: "*.csv", prefix: "arn:aws:s3:::b/", want: true},
		{name: "empty pattern intersects only the empty prefix", pattern: "", prefix: "", want: true},
		{name: "empty pattern against a non-empty prefix", pattern: "", prefix: "a", want: false},
		{name: "any pattern intersects the empty prefix", pattern: "abc", prefix: "", want: true},
		{name: "first character differs", pattern: "b*", prefix: "a", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := globIntersects(tc.pattern, tc.prefix); got != tc.want {
				t.Errorf("globIntersects(%q, %q) = %v, want %v", tc.pattern, tc.prefix, got, tc.want)
			}
		})
	}
}

func TestCollapseStars(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"*", "*"},
		{"***", "*"},
		{"a**b***c", "a*b*c"},
		{"?**?", "?*?"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, collapseStars(tc.in)); diff != "" {
				t.Errorf("collapseStars(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// words returns every string over alphabet of length min..max.
func words(alphabet string, minLen, maxLen int) []string {
	out := []string{}
	level := []string{""}
	for n := 0; n <= maxLen; n++ {
		if n >= minLen {
			out = append(out, level...)
		}
		var next []string
		for _, w := range level {
			for _, c := range alphabet {
				next = append(next, w+string(c))
			}
		}
		level = next
	}
	return out
}

// globRegexp is an independent implementation of globMatch.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`\A(?s:`)
	for _, c := range pattern {
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)\z`)
	return regexp.MustCompile(b.String())
}

func TestGlobMatchAgainstRegexp(t *testing.T) {
	for _, p := range words("ab*?", 0, 5) {
		re := globRegexp(p)
		for _, s := range words("abc", 0, 5) {
			if got, want := globMatch(p, s), re.MatchString(s); got != want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", p, s, got, want)
			}
		}
	}
}

// suffixLanguage decides exactly whether pattern matches prefix+x for every x
// (covers) and for some x (intersects), by running the pattern's
// nondeterministic automaton over prefix and then exploring every set of
// states a suffix can reach. It also returns the shortest suffix that is
// rejected (when not covers) and the shortest that is accepted (when
// intersects), so the caller can check the answer with globMatch. The
// suffix alphabet is a, b and c, where c stands for any character the
// pattern does not name.
func suffixLanguage(pattern, prefix string) (covers bool, rejected string, intersects bool, accepted string) {
	n := len(pattern)
	accept := uint64(1) << n
	closure := func(s uint64) uint64 {
		for i := 0; i < n; i++ {
			if s&(1<<i) != 0 && pattern[i] == '*' {
				s |= 1 << (i + 1)
			}
		}
		return s
	}
	step := func(s uint64, c byte) uint64 {
		var next uint64
		for i := 0; i < n; i++ {
			if s&(1<<i) == 0 {
				continue
			}
			switch pattern[i] {
			case '*':
				next |= 1 << i
			case '?':
				next |= 1 << (i + 1)
			default:
				if pattern[i] == c {
					next |= 1 << (i + 1)
				}
			}
		}
		return closure(next)
	}
	start := closure(1)
	for i := 0; i < len(prefix); i++ {
		start = step(start, prefix[i])
	}
	covers = true
	seen := map[uint64]bool{start: true}
	type item struct {
		set    uint64
		suffix string
	}
	queue := []item{{start, ""}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if it.set&accept != 0 {
			if !intersects {
				intersects, accepted = true, it.suffix
			}
		} else if covers {
			covers, rejected = false, it.suffix
		}
		for _, c := range []byte("abc") {
			next := step(it.set, c)
			if !seen[next] {
				seen[next] = true
				queue = append(queue, item{next, it.suffix + string(c)})
			}
		}
	}
	return covers, rejected, intersects, accepted
}

// checkOracle ties suffixLanguage to globMatch: its witnesses must be right,
// and every short suffix must agree with its answers.
func checkOracle(t *testing.T, pattern, prefix string, shortSuffixes []string) (covers, intersects bool) {
	t.Helper()
	covers, rejected, intersects, accepted := suffixLanguage(pattern, prefix)
	if !covers && globMatch(pattern, prefix+rejected) {
		t.Fatalf("oracle: %q should reject %q+%q, but globMatch accepts it", pattern, prefix, rejected)
	}
	if intersects && !globMatch(pattern, prefix+accepted) {
		t.Fatalf("oracle: %q should accept %q+%q, but globMatch rejects it", pattern, prefix, accepted)
	}
	for _, x := range shortSuffixes {
		m := globMatch(pattern, prefix+x)
		if covers && !m {
			t.Fatalf("oracle: %q covers %q, but globMatch rejects suffix %q", pattern, prefix, x)
		}
		if !intersects && m {
			t.Fatalf("oracle: %q does not intersect %q, but globMatch accepts suffix %q", pattern, prefix, x)
		}
	}
	return covers, intersects
}

// The property tests below compare globCovers and globIntersects with an
// exact answer for every pattern over {a,b,*,?} of length up to 5 and every
// prefix over {a,b} of length up to 3. A bounded search over suffixes alone
// would not be exact: "covers" checked on suffixes of length <= 3 is only a
// necessary condition, and "intersects" needs suffixes as long as the
// pattern's non-star part (pattern "????" meets prefix "" only with a
// 4-character suffix). So the exact answer comes from suffixLanguage, and
// the bounded search over suffixes of length <= 3 only cross-checks it
// against globMatch.

func TestGlobIntersectsAgainstBruteForce(t *testing.T) {
	short := words("abc", 0, 3)
	for _, p := range words("ab*?", 0, 5) {
		for _, prefix := range words("ab", 0, 3) {
			_, want := checkOracle(t, p, prefix, short)
			if got := globIntersects(p, prefix); got != want {
				t.Errorf("globIntersects(%q, %q) = %v, want %v", p, prefix, got, want)
			}
		}
	}
}

func TestGlobCoversAgainstBruteForceWithoutQuestionMarkAfterStar(t *testing.T) {
	short := words("abc", 0, 3)
	for _, p := range words("ab*?", 0, 5) {
		if i := strings.Index(p, "*"); i >= 0 && strings.Contains(p[i:], "?") {
			continue // see TestGlobCoversAgainstBruteForce
		}
		for _, prefix := range words("ab", 0, 3) {
			want, _ := checkOracle(t, p, prefix, short)
			if got := globCovers(p, prefix); got != want {
				t.Errorf("globCovers(%q, %q) = %v, want %v", p, prefix, got, want)
			}
		}
	}
}

func TestGlobCoversAgainstBruteForce(t *testing.T) {

	short := words("abc", 0, 3)
	for _, p := range words("ab*?", 0, 5) {
		for _, prefix := range words("ab", 0, 3) {
			want, _ := checkOracle(t, p, prefix, short)
			if got := globCovers(p, prefix); got != want {
				t.Errorf("globCovers(%q, %q) = %v, want %v", p, prefix, got, want)
			}
		}
	}
}

// Whatever the pattern, covers implies intersects.
func TestGlobCoversImpliesIntersects(t *testing.T) {
	for _, p := range words("ab*?", 0, 5) {
		for _, prefix := range words("ab", 0, 3) {
			if globCovers(p, prefix) && !globIntersects(p, prefix) {
				t.Errorf("globCovers(%q, %q) but not globIntersects", p, prefix)
			}
		}
	}
}

// The oracle itself, on cases worked out by hand.
func TestSuffixLanguageOracle(t *testing.T) {
	type answer struct{ Covers, Intersects bool }
	tests := []struct {
		pattern, prefix string
		want            answer
	}{
		{"*", "", answer{true, true}},
		{"", "", answer{false, true}},
		{"a", "a", answer{false, true}},
		{"a*", "a", answer{true, true}},
		{"*?", "a", answer{true, true}},
		{"*?", "", answer{false, true}},
		{"????", "", answer{false, true}},
		{"a?", "abc", answer{false, false}},
		{"*a", "a", answer{false, true}},
		{"b*", "a", answer{false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"|"+tc.prefix, func(t *testing.T) {
			c, _, i, _ := suffixLanguage(tc.pattern, tc.prefix)
			if diff := cmp.Diff(tc.want, answer{c, i}); diff != "" {
				t.Errorf("suffixLanguage(%q, %q) mismatch (-want +got):\n%s", tc.pattern, tc.prefix, diff)
			}
		})
	}
}

// The literal-beginning shortcut of globCovers answers as the automaton
// does, on every pattern and prefix of a small alphabet up to 5 long.
func TestGlobCoversShortcutAgreesWithTheAutomaton(t *testing.T) {
	alphabet := []string{"a", "b", "/", "*", "?"}
	var all []string
	var grow func(s string)
	grow = func(s string) {
		all = append(all, s)
		if len(s) < 5 {
			for _, c := range alphabet {
				grow(s + c)
			}
		}
	}
	grow("")
	var prefixes []string
	for _, s := range all {
		if !strings.ContainsAny(s, "*?") && len(s) <= 4 {
			prefixes = append(prefixes, s)
		}
	}
	n := 0
	for _, pattern := range all {
		for _, prefix := range prefixes {
			if got, want := globCovers(pattern, prefix), automatonCovers(pattern, prefix); got != want {
				t.Fatalf("globCovers(%q, %q) = %v, the automaton says %v", pattern, prefix, got, want)
			}
			n++
		}
	}
	t.Logf("%d pairs", n)
}
