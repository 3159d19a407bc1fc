package generate

import (
	"fmt"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
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

// Compute plans one grant from its inputs: Changes, or Revoke.
type Compute func(Grant, Inputs) (*Result, error)

// Batch plans many grants as one plan. Each grant is planned by compute,
// the same planner as a single grant, against the documents as the grants
// before it leave them; so a grant that shares a statement's shape with an
// earlier one joins it, one that is already granted by an earlier one plans
// nothing, and every document gets one change, from the document as read
// to the document holding every grant's statements. A batch of one grant
// is exactly that grant's plan.
//
// A grant that is blocked blocks the batch: its blockers are listed, named
// by the grant's label, and nothing is written. Warnings that several
// grants share are listed once.
func Batch(items []BatchItem, compute Compute) (*Result, error) {
	if len(items) == 1 && !items[0].Prune {
		return compute(items[0].Grant, items[0].Inputs)
	}
	out := &Result{}
	var order []string
	first := map[string]Change{}
	last := map[string]Change{}
	reasons := map[string][]string{}
	seen := map[string]bool{}
	inlineTotal := map[string]Size{}
	for _, it := range items {
		in := withWrites(it.Inputs, last)
		run := compute
		if it.Prune {
			run = Revoke
		}
		res, err := run(it.Grant, in)
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
		for _, c := range res.Changes {
			key := targetKey(c)
			if _, ok := first[key]; !ok {
				order = append(order, key)
				first[key] = c
			}
			if c.Kind == KindIAMPolicy && c.Action != Manual && c.Size != nil {
				// Each grant's inputs hold the batch's earlier writes,
				// so the latest total of a principal's inline policies
				// counts them all.
				inlineTotal[c.Target] = *c.Size
			}
			switch prev, ok := last[key]; {
			case c.Writes():
				last[key] = c
				reasons[key] = appendUnique(reasons[key], c.Reason)
			case c.Action == Manual && ok:
				// Statements for an administrator to attach, gathered
				// into one document per principal and policy name.
				merged := Merge(c.Kind, prev.Policy, c.Policy.Statements)
				prev.Policy, prev.After = merged, merged.Pretty()
				prev.Size = &Size{Used: nonSpace(merged.Compact()), Limit: ManagedPolicyLimit, Unit: UnitChars}
				last[key] = prev
			case !ok:
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
		c := combined(first[key], last[key], reasons[key])
		if total, ok := inlineTotal[c.Target]; ok && c.Kind == KindIAMPolicy && c.Action != Manual {
			c.Size = &total
		}
		out.Changes = append(out.Changes, c)
	}
	return out, nil
}

// combined is the one change of a target that several grants changed:
// from the document first read to the one the last grant left.
func combined(first, last Change, reasons []string) Change {
	if !last.Writes() {
		return last
	}
	c := last
	c.Before = first.Before
	switch {
	case c.After == c.Before:
		c.Action, c.Reason = NoOp, "the batch's grants leave it as it is"
		return c
	case c.Before == "":
		c.Action = Create
	case c.After == "":
		c.Action = Delete
	default:
		c.Action = Update
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
