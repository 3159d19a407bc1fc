package generate

import (
	"fmt"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// BatchItem is one grant of a batch with what was read for it, and the
// words that point a person to it in messages ("grants.yaml:12"; "" when
// the grant came from flags).
type BatchItem struct {
	Grant  Grant
	Inputs Inputs
	Label  string
	// Prune marks a grant kmsgrant wrote earlier that the batch takes
	// away (apply --prune): it is planned with Revoke.
	Prune bool
}

// Op is what a batch does with its grants.
type Op string

// The operations of a batch.
const (
	OpGrant  Op = "grant"
	OpRevoke Op = "revoke"
)

// Batch plans many grants as one plan. Each grant is planned by the same
// planner as a single grant (Changes, or Revoke), against the documents as
// the grants before it leave them; so a grant already granted by an
// earlier one plans nothing, and every document gets one change, from the
// document as read to the document holding every grant's statements,
// merged once at the end. A batch of one grant is exactly that grant's
// plan.
//
// A grant that is blocked blocks the batch: its blockers are listed, named
// by the grant's label, and nothing is written. Warnings that several
// grants share are listed once.
func Batch(items []BatchItem, op Op) (*Result, error) {
	if len(items) == 1 && !items[0].Prune {
		if op == OpRevoke {
			return Revoke(items[0].Grant, items[0].Inputs)
		}
		return Changes(items[0].Grant, items[0].Inputs)
	}
	out := &Result{}
	var order []string
	first := map[string]Change{}
	last := map[string]Change{}
	acc := map[string]*pending{}
	revoked := map[string]bool{}
	reasons := map[string][]string{}
	seen := map[string]bool{}
	inline := map[string][]NamedPolicy{}
	for _, it := range items {
		in := withWrites(it.Inputs, last)
		if gr := it.Inputs.Grantee; gr != nil {
			if _, ok := inline[gr.Principal.ARN()]; !ok {
				inline[gr.Principal.ARN()] = gr.Inline
			}
		}
		var res *Result
		var err error
		if it.Prune || op == OpRevoke {
			res, err = Revoke(it.Grant, in)
		} else {
			var p *planner
			if p, err = planGrant(it.Grant, in, true); err == nil {
				res = p.r
			}
		}
		if err != nil {
			return nil, labelled(it.Label, err)
		}
		switch {
		case it.Prune && res.Grant.Bucket != "":
			out.Pruned = append(out.Pruned, res.Grant)
		case res.Grant.Bucket != "":
			out.Operation = res.Operation
			out.Grants = append(out.Grants, res.Grant)
		}
		for _, f := range res.Blockers {
			f.Grant = it.Label
			out.Blockers = append(out.Blockers, f)
		}
		out.Warnings = appendNew(out.Warnings, res.Warnings, seen)
		out.NotChecked = appendNew(out.NotChecked, res.NotChecked, seen)
		if len(res.Blockers) > 0 {
			continue
		}
		for _, c := range res.Changes {
			key := targetKey(c)
			if _, ok := first[key]; !ok {
				// The first grant to touch a document sees it as read.
				if c.base != nil && c.Before == "" {
					c.Before = c.base.Pretty()
				}
				order = append(order, key)
				first[key] = c
			}
			switch {
			case c.added != nil:
				// Statements to merge at the end, into the document
				// as it was before the first of them.
				if acc[key] == nil {
					acc[key] = &pending{base: c.base, afterRevoke: revoked[key]}
				}
				acc[key].added = append(acc[key].added, c.added...)
				if c.Action != Manual {
					reasons[key] = appendUnique(reasons[key], c.Reason)
				}
				last[key] = c
			case c.Writes():
				// A revoke's whole document, which the statements
				// added before it are merged into.
				acc[key] = nil
				revoked[key] = true
				reasons[key] = appendUnique(reasons[key], c.Reason)
				last[key] = c
			case last[key].Kind == "":
				last[key] = c
			}
		}
	}
	if len(out.Grants) > 0 {
		out.Grant = out.Grants[0]
	}
	if len(out.Grants) == 0 && len(out.Pruned) > 0 {
		out.Operation = "revoke"
	}
	if len(out.Blockers) > 0 {
		return out, nil
	}
	for _, key := range order {
		out.Changes = append(out.Changes, combined(first[key], last[key], acc[key], reasons[key]))
	}
	var warnings []Finding
	out.Blockers, warnings = finish(out.Changes, inline)
	out.Warnings = appendNew(out.Warnings, warnings, seen)
	if len(out.Blockers) > 0 {
		out.Changes = nil
	}
	return out, nil
}

// pending are the statements grants of a batch add to one document, and
// the document they are added to.
type pending struct {
	base  *policy.Document
	added []policy.Statement
	// afterRevoke is set when a revoke of the batch (--prune) wrote the
	// document first: grants that put back what it took leave the
	// document as it was, which is no sign of a statement that fails.
	afterRevoke bool
}

// combined is the one change of a target that several grants changed:
// from the document first read to the one the last grant left, or, where
// grants added statements, to those statements merged into the document
// they were added to (finish merges them).
func combined(first, last Change, p *pending, reasons []string) Change {
	c := last
	c.Before = first.Before
	if p != nil {
		c.base, c.added = p.base, p.added
		if p.afterRevoke {
			c.unchanged = "the batch's revokes and grants leave it as it is"
		}
		if c.Action != Manual {
			c.Reason = summarise(reasons)
		}
		return c
	}
	if !last.Writes() {
		if c.Action == NoOp {
			c.After = c.Before
		}
		return c
	}
	if c.Action = actionFor(c.Before, c.After); c.Action == NoOp {
		c.Reason = "the batch's grants leave it as it is"
		return c
	}
	c.Reason = summarise(reasons)
	return c
}

// summarise joins the reasons of a target's changes, the first few in
// full: a data lake's batch can give one document hundreds.
func summarise(reasons []string) string {
	const shown = 3
	if len(reasons) <= shown {
		return strings.Join(reasons, "; ")
	}
	return strings.Join(reasons[:shown], "; ") + fmt.Sprintf("; and %d more", len(reasons)-shown)
}

// targetKey identifies the document a change is to.
func targetKey(c Change) string {
	return c.Kind + " " + c.Target + " " + c.PolicyName
}

// withWrites returns a grant's inputs as the earlier grants of the batch
// leave them: their writes to the same bucket, key or grantee applied.
func withWrites(in Inputs, written map[string]Change) Inputs {
	var apply []Change
	pick := func(kind, target, name string) {
		if c, ok := written[kind+" "+target+" "+name]; ok {
			apply = append(apply, c)
		}
	}
	if b := in.Bucket; b != nil {
		target := arns.BucketARN(arns.PartitionOf(b.Region), b.Name)
		pick(KindBucketPolicy, target, "")
		pick(KindBucketEncryption, target, "")
	}
	if in.Key != nil {
		pick(KindKeyPolicy, in.Key.ARN, "")
		pick(KindKeyGrants, in.Key.ARN, "")
	}
	if gr := in.Grantee; gr != nil {
		prefix := KindIAMPolicy + " " + gr.Principal.ARN() + " "
		for key, c := range written {
			if strings.HasPrefix(key, prefix) {
				apply = append(apply, c)
			}
		}
	}
	if len(apply) == 0 {
		return in
	}
	return After(in, &Result{Changes: apply})
}

// appendNew appends the findings of add not already listed, by code,
// target and message.
func appendNew(list, add []Finding, seen map[string]bool) []Finding {
	for _, f := range add {
		key := f.Code + "\x00" + f.Target + "\x00" + f.Message
		if !seen[key] {
			seen[key] = true
			list = append(list, f)
		}
	}
	return list
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// labelled prefixes an error with the label of the grant it is about.
func labelled(label string, err error) error {
	if label == "" {
		return err
	}
	return fmt.Errorf("%s: %w", label, err)
}
