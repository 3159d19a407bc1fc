package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
)

// ANSI colours, used only when the caller says the output is a terminal.
const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
)

type painter bool

func (p painter) paint(color, s string) string {
	if !p || s == "" {
		return s
	}
	return color + s + reset
}

var actionMarks = map[generate.Action]struct{ mark, color string }{
	generate.Create: {"+", green},
	generate.Update: {"~", yellow},
	generate.NoOp:   {"=", ""},
	generate.Manual: {"!", cyan},
	generate.Delete: {"-", red},
}

// sizeLine says how large a document is against AWS's limit.
func sizeLine(ch ChangeView, sz *generate.Size) string {
	what := "size"
	if ch.Kind == generate.KindIAMPolicy && ch.Action != generate.Manual {
		what = "inline policies together"
	}
	return fmt.Sprintf("%s: %d of %d %s (%d%%)", what, sz.Used, sz.Limit, sz.Unit, sz.Used*100/sz.Limit)
}

// writeGrants lists the grants of a batch, one a line.
func writeGrants(b *strings.Builder, v View) {
	verb := map[string]string{"revoke": "Revoke", "restore": "Restore the documents backed up for"}[v.Operation]
	if verb == "" {
		verb = "Grant"
	}
	if len(v.Grants) > 0 {
		fmt.Fprintf(b, "%s %d grants:\n", verb, len(v.Grants))
	}
	for _, g := range v.Grants {
		line := fmt.Sprintf("  %s %s access to s3://%s/%s*", g.Grantee, strings.Join(g.Access, ","), g.Bucket, g.Prefix)
		if v.Operation == "revoke" || v.Operation == "restore" {
			line = fmt.Sprintf("  %s's access to s3://%s/%s*", g.Grantee, g.Bucket, g.Prefix)
		}
		b.WriteString(line + "\n")
	}
	if len(v.Pruned) > 0 {
		fmt.Fprintf(b, "Revoke %d grants kmsgrant wrote earlier that the grants file does not hold (--prune):\n", len(v.Pruned))
	}
	for _, g := range v.Pruned {
		fmt.Fprintf(b, "  %s %s access to s3://%s/%s*\n", g.Grantee, strings.Join(g.Access, ","), g.Bucket, g.Prefix)
	}
	b.WriteString("\n")
}

// throughKey says which key a grant is through, and how it is granted.
func throughKey(g *generate.Resolved) string {
	if g.Via == generate.ViaGrant {
		return "through a KMS grant on key " + g.KeyARN
	}
	return "through key " + g.KeyARN
}

// WriteText renders the plan for people.
func (p *Plan) WriteText(w io.Writer, color bool) error {
	c := painter(color)
	var b strings.Builder
	v := p.View
	if g := v.Grant; g != nil && v.Operation == "restore" {
		fmt.Fprintf(&b, "Restore the documents backed up for %s's access to s3://%s/%s*\n\n", g.Grantee, g.Bucket, g.Prefix)
	} else if g != nil && v.Operation == "revoke" {
		fmt.Fprintf(&b, "Revoke %s's kmsgrant access to s3://%s/%s*\n\n", g.Grantee, g.Bucket, g.Prefix)
	} else if g != nil {
		fmt.Fprintf(&b, "Grant %s %s access to s3://%s/%s*\n", g.Grantee, strings.Join(g.Access, ","), g.Bucket, g.Prefix)
		if g.KeyARN != "" {
			b.WriteString("  " + throughKey(g) + "\n")
		}
		b.WriteString("\n")
	} else if len(v.Grants)+len(v.Pruned) > 0 {
		writeGrants(&b, v)
	}
	for _, ch := range v.Changes {
		m := actionMarks[ch.Action]
		header := fmt.Sprintf("%s %s %s %s", m.mark, ch.Action, ch.Kind, ch.Target)
		if ch.PolicyName != "" {
			header += fmt.Sprintf(" (inline policy %s)", ch.PolicyName)
		}
		b.WriteString(c.paint(bold+m.color, header) + "\n")
		if ch.Reason != "" {
			b.WriteString("  " + ch.Reason + "\n")
		}
		if sz := ch.Size; sz != nil && ch.Action != generate.Delete {
			b.WriteString("  " + sizeLine(ch, sz) + "\n")
		}
		switch {
		case ch.Action == generate.Manual:
			b.WriteString("  Attach this policy in account " + ch.Account + ":\n")
			for _, l := range strings.SplitAfter(string(ch.After), "\n") {
				if l != "" {
					b.WriteString("    " + l)
				}
			}
		case ch.Diff != "":
			writeDiff(&b, ch.Diff, c)
		}
		b.WriteString("\n")
	}
	if len(v.Validation) > 0 {
		b.WriteString(c.paint(bold, "IAM Access Analyzer:") + "\n")
		for _, d := range v.Validation {
			b.WriteString("  " + d.line() + "\n")
		}
		b.WriteString("\n")
	}
	writeFindings(&b, "Warnings", v.Warnings, c, yellow)
	writeFindings(&b, "Blocked", v.Blockers, c, red)
	if len(v.NotChecked) > 0 && !p.Blocked() {
		b.WriteString(c.paint(bold, "Not checked (kmsgrant cannot see these; they can still deny):") + "\n")
		for _, f := range v.NotChecked {
			fmt.Fprintf(&b, "  - %s: %s\n", f.Target, f.Message)
		}
		b.WriteString("\n")
	}
	if p.Blocked() {
		b.WriteString(c.paint(bold+red, fmt.Sprintf("Plan blocked by %d %s; nothing will be changed.", len(v.Blockers), plural(len(v.Blockers), "problem", "problems"))) + "\n")
	} else {
		b.WriteString(c.paint(bold, p.SummaryLine()) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDiff(b *strings.Builder, diff string, c painter) {
	for _, l := range strings.SplitAfter(diff, "\n") {
		switch {
		case l == "":
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
			b.WriteString(c.paint(bold, strings.TrimSuffix(l, "\n")) + "\n")
		case strings.HasPrefix(l, "@@"):
			b.WriteString(c.paint(cyan, strings.TrimSuffix(l, "\n")) + "\n")
		case strings.HasPrefix(l, "+"):
			b.WriteString(c.paint(green, strings.TrimSuffix(l, "\n")) + "\n")
		case strings.HasPrefix(l, "-"):
			b.WriteString(c.paint(red, strings.TrimSuffix(l, "\n")) + "\n")
		default:
			b.WriteString(l)
		}
	}
}

func writeFindings(b *strings.Builder, title string, fs []generate.Finding, c painter, color string) {
	if len(fs) == 0 {
		return
	}
	b.WriteString(c.paint(bold+color, title+":") + "\n")
	for _, f := range fs {
		fmt.Fprintf(b, "  - %s: %s\n", c.paint(color, f.Code), f.Message)
		if f.Grant != "" {
			fmt.Fprintf(b, "    grant: %s\n", f.Grant)
		}
		if f.Target != "" {
			fmt.Fprintf(b, "    target: %s\n", f.Target)
		}
		if f.Fix != "" {
			fmt.Fprintf(b, "    fix: %s\n", f.Fix)
		}
	}
	b.WriteString("\n")
}

// WriteJSON writes the plan as one indented JSON document.
func (p *Plan) WriteJSON(w io.Writer) error {
	return writeIndentedJSON(w, p.View)
}

// writeIndentedJSON writes v as one JSON document indented by two spaces,
// with <, > and & as they are (policies carry them in conditions), in one
// Write: a reader never sees half of it.
func writeIndentedJSON(w io.Writer, v any) error {
	b, err := indentedJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// indentedJSON is v as writeIndentedJSON writes it.
func indentedJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
