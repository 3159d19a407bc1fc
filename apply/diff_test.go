package apply

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	for _, tc := range []struct {
		name, before, after, want string
	}{
		{name: "equal", before: "a\nb\n", after: "a\nb\n", want: ""},
		{
			name: "create", before: "", after: "a\nb\n",
			want: "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n",
		},
		{
			name:   "one line changed in the middle keeps three lines of context",
			before: "1\n2\n3\n4\n5\n6\n7\n8\n9\n", after: "1\n2\n3\n4\nX\n6\n7\n8\n9\n",
			want: "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n",
		},
		{
			name:   "changes far apart make two hunks",
			before: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", after: "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
			want: "--- old\n+++ new\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n",
		},
		{
			name:   "changes six lines apart share a hunk",
			before: "1\n2\n3\n4\n5\n6\n7\n8\n", after: "X\n2\n3\n4\n5\n6\n7\nY\n",
			want: "--- old\n+++ new\n@@ -1,8 +1,8 @@\n-1\n+X\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+Y\n",
		},
		{
			name: "no newline at end", before: "a\n", after: "a\nb",
			want: "--- old\n+++ new\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := UnifiedDiff(tc.before, tc.after, "old", "new")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

var hunkRE = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// applyPatch applies a unified diff to before, checking every context and
// deleted line against it, as patch(1) would.
func applyPatch(before, diff string) (string, error) {
	old := strings.SplitAfter(before, "\n")
	if old[len(old)-1] == "" {
		old = old[:len(old)-1]
	}
	lines := strings.SplitAfter(diff, "\n")
	var out []string
	next := 0 // next old line (0-based) not yet copied
	for i := 2; i < len(lines) && lines[i] != ""; {
		m := hunkRE.FindStringSubmatch(strings.TrimSuffix(lines[i], "\n"))
		if m == nil {
			return "", fmt.Errorf("line %d: not a hunk header: %q", i, lines[i])
		}
		start, _ := strconv.Atoi(m[1])
		count := 1
		if m[2] != "" {
			count, _ = strconv.Atoi(m[2])
		}
		if count > 0 {
			start-- // 1-based to 0-based
		}
		out = append(out, old[next:start]...)
		next = start
		for i++; i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@"); i++ {
			l := lines[i]
			text := l[1:]
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], `\ No newline`) {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if next >= len(old) || old[next] != text {
					return "", fmt.Errorf("hunk line %q does not match old line %d", l, next+1)
				}
				if l[0] == ' ' {
					out = append(out, text)
				}
				next++
			case '+':
				out = append(out, text)
			default:
				return "", fmt.Errorf("bad hunk line %q", l)
			}
		}
	}
	out = append(out, old[next:]...)
	return strings.Join(out, ""), nil
}

// Random edits of random texts: the diff applied to the old text gives the
// new one, and no hunk carries more than three lines of leading context.
func TestUnifiedDiffAppliesBack(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 500 {
		var before []string
		for range r.IntN(30) {
			before = append(before, fmt.Sprintf("line %d\n", r.IntN(8)))
		}
		after := append([]string(nil), before...)
		for range r.IntN(5) {
			switch i := r.IntN(len(after) + 1); r.IntN(3) {
			case 0:
				after = append(after[:i], append([]string{"new\n"}, after[i:]...)...)
			case 1:
				if i < len(after) {
					after = append(after[:i], after[i+1:]...)
				}
			case 2:
				if i < len(after) {
					after[i] = "changed\n"
				}
			}
		}
		b, a := strings.Join(before, ""), strings.Join(after, "")
		diff := UnifiedDiff(b, a, "old", "new")
		if (diff == "") != (a == b) {
			t.Fatalf("case %d: empty diff %v for equal %v", n, diff == "", a == b)
		}
		if diff == "" {
			continue
		}
		got, err := applyPatch(b, diff)
		if err != nil {
			t.Fatalf("case %d: %v\nbefore:\n%s\ndiff:\n%s", n, err, b, diff)
		}
		if got != a {
			t.Fatalf("case %d: patched text differs\nwant:\n%s\ngot:\n%s\ndiff:\n%s", n, a, got, diff)
		}
	}
}
