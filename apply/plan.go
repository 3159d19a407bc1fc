package apply

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/kmsgrant/kmsgrant/generate"
)

// FormatVersion is the version of the JSON plan format.
const FormatVersion = "1"

// Plan is a computed plan and its view: the structure the JSON output
// serialises and the text output renders, so the two cannot disagree.
type Plan struct {
	Result *generate.Result
	View   View
}

// View is the JSON plan document (see docs/json-plan.md).
type View struct {
	FormatVersion string `json:"format_version"`
	// Operation is "grant" or "revoke".
	Operation string `json:"operation"`
	// Grant is the grant planned; null for a batch of several, whose
	// grants are listed in Grants.
	Grant *generate.Resolved `json:"grant"`
	// Grants are the grants of a batch (plan -f FILE, or a repeated
	// --grantee or --prefix); absent for one grant.
	Grants []generate.Resolved `json:"grants,omitempty"`
	// Pruned are the grants kmsgrant wrote earlier that the plan takes
	// away (-f FILE --prune); absent without --prune.
	Pruned []generate.Resolved `json:"pruned,omitempty"`
	// Prune is set on a plan made with --prune: applied from a saved
	// plan, it is made again the same way.
	Prune    bool               `json:"prune,omitempty"`
	Changes  []ChangeView       `json:"changes"`
	Blockers []generate.Finding `json:"blockers"`
	Warnings []generate.Finding `json:"warnings"`
	// NotChecked lists policies kmsgrant cannot see that can still deny.
	NotChecked []generate.Finding `json:"not_checked"`
	Summary    Summary            `json:"summary"`
	// Validation is what IAM Access Analyzer said of each document the
	// plan would write (plan --validate); absent when it was not asked.
	Validation []DocumentCheck `json:"validation,omitempty"`
}

// ChangeView is one change of the JSON plan.
type ChangeView struct {
	Kind       string          `json:"kind"`
	Account    string          `json:"account"`
	Target     string          `json:"target"`
	PolicyName string          `json:"policy_name,omitempty"`
	Action     generate.Action `json:"action"`
	Reason     string          `json:"reason"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	Diff       string          `json:"diff"`
	// BeforeSHA256 is the SHA-256 of the canonical text of Before ("" for
	// none hashes too), so a saved plan can tell whether its target moved.
	BeforeSHA256 string `json:"before_sha256"`
	// Size is the document's size after the change against AWS's limit.
	Size *generate.Size `json:"size,omitempty"`
}

// Summary counts changes by action.
type Summary struct {
	Create int `json:"create"`
	Update int `json:"update"`
	NoOp   int `json:"no_op"`
	Manual int `json:"manual"`
	Delete int `json:"delete,omitempty"`
}

// NewPlan reads what a grant needs through a backend and plans it.
func NewPlan(ctx context.Context, b Backend, g generate.Grant) (*Plan, error) {
	in, err := Read(ctx, b, g)
	if err != nil {
		return nil, err
	}
	res, err := generate.Changes(g, in)
	if err != nil {
		return nil, err
	}
	return FromResult(res), nil
}

// FromResult builds the plan and its view from a planner result.
func FromResult(res *generate.Result) *Plan {
	v := View{
		FormatVersion: FormatVersion,
		Operation:     cmp.Or(res.Operation, "grant"),
		Changes:       []ChangeView{},
		Blockers:      append([]generate.Finding{}, res.Blockers...),
		Warnings:      append([]generate.Finding{}, res.Warnings...),
		NotChecked:    append([]generate.Finding{}, res.NotChecked...),
	}
	v.Pruned = res.Pruned
	if len(res.Grants) > 0 {
		v.Grants = res.Grants
	} else if res.Grant.Bucket != "" {
		g := res.Grant
		v.Grant = &g
	}
	for _, c := range res.Changes {
		v.Changes = append(v.Changes, changeView(c))
		switch c.Action {
		case generate.Create:
			v.Summary.Create++
		case generate.Update:
			v.Summary.Update++
		case generate.NoOp:
			v.Summary.NoOp++
		case generate.Manual:
			v.Summary.Manual++
		case generate.Delete:
			v.Summary.Delete++
		}
	}
	return &Plan{Result: res, View: v}
}

func changeView(c generate.Change) ChangeView {
	label := c.Kind + " " + c.Target
	if c.PolicyName != "" {
		label += " (" + c.PolicyName + ")"
	}
	from, to := label+" (before)", label+" (after)"
	if c.Before == "" {
		from = "/dev/null"
	}
	return ChangeView{
		Kind: c.Kind, Account: c.Account, Target: c.Target, PolicyName: c.PolicyName,
		Action: c.Action, Reason: c.Reason,
		Before: rawOrNull(c.Before), After: rawOrNull(c.After),
		Diff:         UnifiedDiff(c.Before, c.After, from, to),
		BeforeSHA256: digest(c.Before),
		Size:         c.Size,
	}
}

// digest is the hex SHA-256 of a document's canonical text.
func digest(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func rawOrNull(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// Blocked reports whether the plan has blockers.
func (p *Plan) Blocked() bool { return len(p.View.Blockers) > 0 }

// HasChanges reports whether applying the plan would write anything.
func (p *Plan) HasChanges() bool { return p.Result.HasChanges() }

// SummaryLine is the closing line of a text plan.
func (p *Plan) SummaryLine() string {
	s := p.View.Summary
	switch {
	case p.View.Operation == "revoke" && s.Update+s.Delete == 0:
		return "No changes. The grantee has no kmsgrant statement here."
	case p.View.Operation == "revoke":
		return fmt.Sprintf("Plan: %d to update, %d to delete, %d unchanged.", s.Update, s.Delete, s.NoOp)
	case p.View.Operation == "restore" && s.Create+s.Update+s.Delete == 0:
		return "No changes. Every target already holds its backed-up document."
	case p.View.Operation == "restore":
		return fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d unchanged.", s.Create, s.Update, s.Delete, s.NoOp)
	}
	if s.Create+s.Update+s.Delete == 0 {
		line := "No changes."
		if s.NoOp > 0 {
			line += fmt.Sprintf(" %d already %s access.", s.NoOp, plural(s.NoOp, "grants", "grant"))
		}
		if s.Manual > 0 {
			line += fmt.Sprintf(" %d to attach manually.", s.Manual)
		}
		return line
	}
	line := fmt.Sprintf("Plan: %d to create, %d to update, %d already %s access", s.Create, s.Update, s.NoOp, plural(s.NoOp, "grants", "grant"))
	if s.Delete > 0 {
		line = fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d already %s access", s.Create, s.Update, s.Delete, s.NoOp, plural(s.NoOp, "grants", "grant"))
	}
	if s.Manual > 0 {
		line += fmt.Sprintf(", %d to attach manually", s.Manual)
	}
	return line + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
