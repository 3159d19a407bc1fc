package apply

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// contextLines is how many unchanged lines surround each hunk, as in diff -u.
const contextLines = 3

// UnifiedDiff returns a unified diff of two texts, computed line by line,
// with labels for the --- and +++ lines. Equal texts give "".
func UnifiedDiff(before, after, fromLabel, toLabel string) string {
	if before == after {
		return ""
	}
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)

	// Flatten into one op per line.
	type line struct {
		op   diffmatchpatch.Operation
		text string
	}
	var all []line
	for _, d := range diffs {
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				all = append(all, line{d.Type, l})
			}
		}
	}

	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromLabel, toLabel)
	// Walk the lines, grouping changes closer than 2*context into one hunk.
	i := 0
	oldLine, newLine := 1, 1
	for i < len(all) {
		if all[i].op == diffmatchpatch.DiffEqual {
			i++
			oldLine++
			newLine++
			continue
		}
		start := max(i-contextLines, 0)
		for j := start; j < i; j++ { // step back over leading context
			oldLine--
			newLine--
		}
		end := i
		for end < len(all) {
			if all[end].op != diffmatchpatch.DiffEqual {
				end++
				continue
			}
			run := end
			for run < len(all) && all[run].op == diffmatchpatch.DiffEqual {
				run++
			}
			if run == len(all) || run-end > 2*contextLines {
				end = min(end+contextLines, len(all))
				break
			}
			end = run
		}
		var body strings.Builder
		oldCount, newCount := 0, 0
		for _, l := range all[start:end] {
			text := l.text
			if !strings.HasSuffix(text, "\n") {
				text += "\n\\ No newline at end of file\n"
			}
			switch l.op {
			case diffmatchpatch.DiffEqual:
				body.WriteString(" " + text)
				oldCount++
				newCount++
			case diffmatchpatch.DiffDelete:
				body.WriteString("-" + text)
				oldCount++
			case diffmatchpatch.DiffInsert:
				body.WriteString("+" + text)
				newCount++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(oldLine, oldCount), hunkRange(newLine, newCount))
		out.WriteString(body.String())
		oldLine += oldCount
		newLine += newCount
		i = end
	}
	return out.String()
}

// hunkRange formats a hunk's start and length the way diff -u does: an empty
// range starts at the line before it.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
