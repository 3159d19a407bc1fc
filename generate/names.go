package generate

import (
	"cmp"
	"slices"
	"strings"
)

// Closest returns the names among candidates nearest to name, for "did you
// mean" hints: those within a few edits (a quarter of the name's length, at
// least two) and no more than one edit further than the nearest, nearest
// first, at most three; none when name is itself a candidate. Case
// differences count as half an edit, since a name typed in the wrong case
// is the likeliest slip.
func Closest(name string, candidates []string) []string {
	if slices.Contains(candidates, name) {
		return nil
	}
	limit := max(2, len([]rune(name))/4)
	type scored struct {
		name string
		cost float64
	}
	var near []scored
	for _, c := range candidates {
		cost := float64(distance(strings.ToLower(name), strings.ToLower(c))) + 0.5*float64(caseDifferences(name, c))
		if cost <= float64(limit) {
			near = append(near, scored{c, cost})
		}
	}
	slices.SortStableFunc(near, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.cost, b.cost), strings.Compare(a.name, b.name))
	})
	var out []string
	for _, s := range near[:min(3, len(near))] {
		if s.cost <= near[0].cost+1 {
			out = append(out, s.name)
		}
	}
	return out
}

// didYouMean is the hint for the nearest names, "" when there are none.
func didYouMean(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(names, " or ") + "?"
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			sub := prev[j-1]
			if ra[i-1] != rb[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// caseDifferences counts the positions where a and b differ only in case.
func caseDifferences(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for i := range min(len(ra), len(rb)) {
		if ra[i] != rb[i] && strings.EqualFold(string(ra[i]), string(rb[i])) {
			n++
		}
	}
	return n
}
