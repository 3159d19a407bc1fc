package apply

import (
	"io"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
)

// Result is the JSON result of apply, revoke and restore (--output json;
// docs/json-result.md, schema docs/schema/result.schema.json): the plan
// that was applied and what happened to each of its targets.
type Result struct {
	FormatVersion string `json:"format_version"`
	// Operation is the command: "apply", "revoke" or "restore".
	Operation string `json:"operation"`
	// Status is "applied" (every write holds), "no_changes" (nothing to
	// write), "blocked" (the plan has blockers; nothing written),
	// "failed" or "interrupted" (see Targets and Error).
	Status string `json:"status"`
	Plan   View   `json:"plan"`
	// Backup is the folder the documents were saved to before the first
	// write; absent when nothing was to be written.
	Backup  string         `json:"backup,omitempty"`
	Targets []TargetResult `json:"targets"`
	Summary ResultSummary  `json:"summary"`
	// Error is what went wrong, for "failed" and "interrupted".
	Error string `json:"error,omitempty"`
}

// TargetResult is what happened to one document the plan writes.
type TargetResult struct {
	Kind       string          `json:"kind"`
	Account    string          `json:"account"`
	Target     string          `json:"target"`
	PolicyName string          `json:"policy_name,omitempty"`
	Action     generate.Action `json:"action"`
	// Status is Outcome.Status in snake case: applied, kept, rolled_back,
	// overwritten (by another writer), failed, failed_to_roll_back or
	// untouched.
	Status string `json:"status"`
	// Rewrites counts the times the target was written again because
	// another writer changed it.
	Rewrites      int    `json:"rewrites"`
	Error         string `json:"error,omitempty"`
	RollbackError string `json:"rollback_error,omitempty"`
}

// ResultSummary counts the writes that hold, by action.
type ResultSummary struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	Deleted int `json:"deleted"`
}

// The statuses of Result.
const (
	ResultApplied     = "applied"
	ResultNoChanges   = "no_changes"
	ResultBlocked     = "blocked"
	ResultFailed      = "failed"
	ResultInterrupted = "interrupted"
)

// NewResult describes what operation did with plan p: the outcomes of
// Execute, the backup folder, and the error that ended it, if one did.
// Status is left for the caller to set where it knows better (interrupted).
func NewResult(operation string, p *Plan, backup string, outcomes []Outcome, err error) Result {
	r := Result{FormatVersion: FormatVersion, Operation: operation, Plan: p.View, Backup: backup, Targets: []TargetResult{}}
	switch {
	case p.Blocked():
		r.Status = ResultBlocked
	case err != nil:
		r.Status, r.Error = ResultFailed, err.Error()
	case !p.HasChanges():
		r.Status = ResultNoChanges
	default:
		r.Status = ResultApplied
	}
	for _, o := range outcomes {
		t := TargetResult{Kind: o.Change.Kind, Account: o.Change.Account, Target: o.Change.Target, PolicyName: o.Change.PolicyName,
			Action: o.Change.Action, Status: statusWord(o.Status()), Rewrites: o.Rewrites}
		if o.Err != nil {
			t.Error = o.Err.Error()
		}
		if o.RollbackErr != nil {
			t.RollbackError = o.RollbackErr.Error()
		}
		r.Targets = append(r.Targets, t)
		if !o.Done {
			continue
		}
		switch o.Change.Action {
		case generate.Create:
			r.Summary.Created++
		case generate.Delete:
			r.Summary.Deleted++
		default:
			r.Summary.Updated++
		}
	}
	return r
}

// statusWord turns an Outcome status into its JSON word.
func statusWord(s string) string {
	if s == statusOverwritten {
		return "overwritten"
	}
	return strings.ReplaceAll(s, " ", "_")
}

// WriteResultJSON writes r as one indented JSON document.
func WriteResultJSON(w io.Writer, r Result) error {
	return writeIndentedJSON(w, r)
}
