package apply

import (
	"fmt"
	"io"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
)

// ExplanationView is the JSON form of an explanation.
type ExplanationView struct {
	FormatVersion string `json:"format_version"`
	*generate.Explanation
	// Fix is the kmsgrant command that repairs the read, when a plan of
	// the same grant does and nothing blocks it.
	Fix string `json:"fix,omitempty"`
	// FixNote says what the fix grants, where that is more than was
	// asked about (a plan for one object's key grants every key that
	// starts with it).
	FixNote string `json:"fix_note,omitempty"`
}

// WriteExplanationText renders an explanation for people: one line per
// check, the deciding statement under it, then the verdict and the fix.
func WriteExplanationText(w io.Writer, v ExplanationView, color bool) error {
	c := painter(color)
	var b strings.Builder
	x := v.Explanation
	target := fmt.Sprintf("s3://%s/%s*", x.Grant.Bucket, x.Grant.Prefix)
	if x.Object != "" {
		target = fmt.Sprintf("s3://%s/%s", x.Grant.Bucket, x.Object)
	}
	who := x.Grant.Grantee
	if x.Grant.GranteeSession != "" {
		who = x.Grant.GranteeSession + " (a session of " + x.Grant.Grantee + ")"
	}
	writeCitation(&b, x.Message)
	fmt.Fprintf(&b, "Can %s %s %s?\n\n", who, strings.Join(x.Grant.Access, ","), target)
	colors := map[string]string{generate.Pass: green, generate.Fail: red, generate.Warn: yellow, generate.NotChecked: cyan}
	for _, ch := range x.Checks {
		fmt.Fprintf(&b, "%-13s %s: %s\n", c.paint(colors[ch.Status], ch.Status), checkName(ch), ch.Detail)
		if ch.Statement != "" {
			fmt.Fprintf(&b, "              statement: %s\n", ch.Statement)
		}
		if ch.Fix != "" && ch.Status != generate.Pass {
			fmt.Fprintf(&b, "              fix: %s\n", ch.Fix)
		}
	}
	verdict := "Verdict: " + x.Verdict
	if x.Allowed {
		verdict = c.paint(bold+green, verdict)
	} else {
		verdict = c.paint(bold+red, verdict)
	}
	b.WriteString("\n" + verdict + "\n")
	if v.Fix != "" && !x.Allowed {
		fmt.Fprintf(&b, "Fix: %s\n", v.Fix)
		if v.FixNote != "" {
			fmt.Fprintf(&b, "     (%s)\n", v.FixNote)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteExplanationJSON writes an explanation as one JSON document.
func WriteExplanationJSON(w io.Writer, v ExplanationView) error {
	return writeIndentedJSON(w, v)
}
