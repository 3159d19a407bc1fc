package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Codes of the findings Validate adds to a plan.
const (
	// CodeValidationFailed blocks a plan: AWS's policy validator found an
	// error, or public access, in a statement kmsgrant would write.
	CodeValidationFailed = "validation_failed"
	// CodeValidationFinding is a warning: anything else the validator
	// reported.
	CodeValidationFinding = "validation_finding"
)

// The checks a Validator makes, as PolicyFinding.Check names them.
const (
	CheckValidatePolicy = "ValidatePolicy"
	CheckNoPublicAccess = "CheckNoPublicAccess"
)

// The types of PolicyFinding: ValidatePolicy's finding types, and
// FindingPublic for a CheckNoPublicAccess that failed.
const (
	FindingError           = "ERROR"
	FindingSecurityWarning = "SECURITY_WARNING"
	FindingWarning         = "WARNING"
	FindingSuggestion      = "SUGGESTION"
	FindingPublic          = "PUBLIC"
)

// validatorName names the checks in messages.
const validatorName = "IAM Access Analyzer"

// ErrNoValidator is returned by Validate for a backend that cannot have
// documents validated (a state file: validation needs AWS).
var ErrNoValidator = errors.New("validating policies needs AWS (IAM Access Analyzer)")

// Validator is implemented by backends that can have AWS's own policy
// checks look at a document before kmsgrant writes it: IAM Access
// Analyzer, on live AWS. The planner and the state file know nothing of
// it; Validate adds what it says to a plan.
type Validator interface {
	// Validate sends the document a policy change would write (its
	// After) to the checks, with the credentials of the account that owns
	// the document, and returns their findings. The error says which
	// checks could not be made (access denied, unavailable): they are
	// reported as not checked, never as passed, and findings of the
	// checks that were made still count.
	Validate(ctx context.Context, c generate.Change) ([]PolicyFinding, error)
}

// PolicyFinding is one finding of a policy check.
type PolicyFinding struct {
	// Check is CheckValidatePolicy or CheckNoPublicAccess.
	Check string `json:"check"`
	// Type is ValidatePolicy's finding type (FindingError,
	// FindingSecurityWarning, FindingWarning, FindingSuggestion), or
	// FindingPublic for a CheckNoPublicAccess that failed.
	Type string `json:"type"`
	// Code is ValidatePolicy's issue code; "" for a public result.
	Code string `json:"code,omitempty"`
	// Detail is the check's explanation.
	Detail string `json:"detail"`
	// LearnMore is a link to AWS's documentation of the finding.
	LearnMore string `json:"learn_more,omitempty"`
	// Statement is the index of the statement the finding is in, -1 when
	// it names none.
	Statement int `json:"statement"`
}

// blocks reports whether the finding stops a plan when it is in a
// statement kmsgrant writes.
func (f PolicyFinding) blocks() bool {
	return f.Type == FindingError || f.Type == FindingPublic
}

// DocumentCheck is what the policy checks said of one document, in the JSON
// plan's "validation" list.
type DocumentCheck struct {
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	PolicyName string `json:"policy_name,omitempty"`
	// Status is "passed" (no finding), "findings" (none blocks),
	// "failed" (one blocks the plan) or "not_checked" (a check could not
	// be made; not_checked says why).
	Status   string          `json:"status"`
	Findings []PolicyFinding `json:"findings"`
}

// line says the check in one line, for the text and Terraform renderings.
func (d DocumentCheck) line() string {
	s := fmt.Sprintf("%-11s %s %s", strings.ReplaceAll(d.Status, "_", " "), d.Kind, d.Target)
	if d.PolicyName != "" {
		s += " (" + d.PolicyName + ")"
	}
	if n := len(d.Findings); n > 0 {
		s += fmt.Sprintf(": %d %s", n, plural(n, "finding", "findings"))
	}
	return s
}

// validated reports whether a change's document goes to the checks: every
// policy kmsgrant would write, and those it shows for a person to attach.
func validated(c generate.Change) bool {
	switch c.Kind {
	case generate.KindBucketPolicy, generate.KindKeyPolicy, generate.KindIAMPolicy:
	default:
		return false
	}
	return c.After != "" && (c.Action == generate.Create || c.Action == generate.Update || c.Action == generate.Manual)
}

// Validate has the backend's policy checks look at every document the plan
// would write and returns the plan with what they said: an error or a
// public result in a statement kmsgrant writes blocks it
// (validation_failed); any other finding is a warning
// (validation_finding), as is an error in a statement kmsgrant leaves as
// it is, which the document holds already; a check that could not be made
// is listed under not_checked. It returns ErrNoValidator for a backend
// that has no checks.
func Validate(ctx context.Context, b Backend, p *Plan) (*Plan, error) {
	v, ok := b.(Validator)
	if !ok {
		return nil, ErrNoValidator
	}
	res := *p.Result
	res.Blockers = append([]generate.Finding{}, p.Result.Blockers...)
	res.Warnings = append([]generate.Finding{}, p.Result.Warnings...)
	res.NotChecked = append([]generate.Finding{}, p.Result.NotChecked...)
	var checks []DocumentCheck
	for _, c := range p.Result.Changes {
		if !validated(c) {
			continue
		}
		found, err := v.Validate(ctx, c)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		dc := DocumentCheck{Kind: c.Kind, Target: c.Target, PolicyName: c.PolicyName, Status: "passed", Findings: append([]PolicyFinding{}, found...)}
		ours, doc := kmsgrantStatements(c)
		label := policyLabel(ChangeView{Kind: c.Kind, Target: c.Target, PolicyName: c.PolicyName})
		for _, f := range found {
			where := "the document"
			if doc != nil && f.Statement >= 0 && f.Statement < len(doc.Statements) {
				where = doc.Statements[f.Statement].Label(f.Statement)
			}
			fd := generate.Finding{Target: c.Target, Message: f.message(where, label), Fix: f.fix()}
			switch {
			case f.blocks() && (f.Statement < 0 || ours[f.Statement]):
				fd.Code = CodeValidationFailed
				res.Blockers = append(res.Blockers, fd)
				dc.Status = "failed"
			case f.blocks():
				fd.Code = CodeValidationFinding
				fd.Message += " (a statement kmsgrant leaves as it is: the document holds it already)"
				res.Warnings = append(res.Warnings, fd)
			default:
				fd.Code = CodeValidationFinding
				res.Warnings = append(res.Warnings, fd)
			}
			if dc.Status == "passed" {
				dc.Status = "findings"
			}
		}
		if err != nil {
			res.NotChecked = append(res.NotChecked, generate.Finding{
				Code: "not_checked", Target: validatorName,
				Message: fmt.Sprintf("did not check %s: %v", label, err),
				Fix:     fmt.Sprintf("give credentials of account %s that may call access-analyzer:ValidatePolicy (and CheckNoPublicAccess for a bucket or key policy)", c.Account),
			})
			if dc.Status != "failed" {
				dc.Status = "not_checked"
			}
		}
		checks = append(checks, dc)
	}
	if len(res.Blockers) > 0 {
		// A blocked plan writes nothing, so it shows nothing to write.
		res.Changes = nil
	}
	out := FromResult(&res)
	out.View.Validation = checks
	return out, nil
}

// kmsgrantStatements returns the indexes of the statements of a change's
// After document that kmsgrant writes (all of them when there is no
// Before), and the document.
func kmsgrantStatements(c generate.Change) (map[int]bool, *policy.Document) {
	doc := c.Policy
	if doc == nil {
		var err error
		if doc, err = policy.Parse([]byte(c.After)); err != nil {
			return nil, nil
		}
	}
	held := map[string]int{}
	if c.Before != "" && c.Action != generate.Manual {
		if prev, err := policy.Parse([]byte(c.Before)); err == nil {
			for _, s := range prev.Statements {
				held[s.String()]++
			}
		}
	}
	ours := map[int]bool{}
	for _, i := range addedIndexes(doc, held) {
		ours[i] = true
	}
	return ours, doc
}

func (f PolicyFinding) message(where, label string) string {
	what := f.Type
	if f.Code != "" {
		what += " " + f.Code
	}
	if f.Type == FindingPublic {
		what = "public access"
	}
	msg := fmt.Sprintf("IAM Access Analyzer's %s reports %s in %s of %s", f.Check, what, where, label)
	if f.Detail != "" {
		msg += ": " + strings.TrimSuffix(strings.TrimSpace(f.Detail), ".")
	}
	return msg
}

func (f PolicyFinding) fix() string {
	switch {
	case f.Type == FindingPublic:
		return "kmsgrant writes no document that AWS finds public; remove what makes it public, then plan again"
	case f.blocks() && f.LearnMore != "":
		return "kmsgrant writes no document with an error AWS finds; see " + f.LearnMore
	case f.blocks():
		return "kmsgrant writes no document with an error AWS finds"
	case f.LearnMore != "":
		return "see " + f.LearnMore
	}
	return ""
}
