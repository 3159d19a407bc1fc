package generate

import (
	"fmt"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// finish makes each change's document of the statements its grants add:
// merged into the document as read (Merge), once however many grants add
// to it, shown, and given its action. Then it sizes every document against
// AWS's limit, the way AWS counts (see Size), and returns a blocker for
// each that would be written over it. inline holds, by principal ARN, the
// inline policies of each role or user as read: IAM's limit is on all of
// them together.
func finish(changes []Change, inline map[string][]NamedPolicy) []Finding {
	for i := range changes {
		c := &changes[i]
		if c.added == nil {
			continue
		}
		doc := Merge(c.Kind, c.base, c.added)
		c.Policy, c.After = doc, doc.Pretty()
		switch {
		case c.Action == Manual:
		case c.After == c.Before:
			// kmsgrant's statements are there with these principals,
			// yet access is missing: someone changed them or a
			// condition fails. Adding them again would change nothing;
			// the warnings say why.
			actions, sids := actionsAndSids(c.added)
			c.Action = NoOp
			c.Reason = fmt.Sprintf("kmsgrant's statements %s are present but do not grant %s; see the warnings", strings.Join(unique(sids), ", "), strings.Join(actions, ", "))
		case c.Before == "":
			c.Action = Create
		default:
			c.Action = Update
		}
		if c.Action == Create || c.Action == Update {
			// What the change grants, and the Sids of the statements
			// it writes as they end up, merged with the others.
			actions, _ := actionsAndSids(c.added)
			c.Reason = fmt.Sprintf("grants %s (%s)", strings.Join(actions, ", "), strings.Join(writtenSids(c.base, doc), ", "))
		}
		c.base, c.added = nil, nil
	}
	// Each principal's inline policies as they will be: as read, but for
	// those the changes write.
	final := map[string]map[string]*policy.Document{}
	for principal, policies := range inline {
		final[principal] = map[string]*policy.Document{}
		for _, np := range policies {
			final[principal][np.Name] = np.Doc
		}
	}
	for _, c := range changes {
		if c.Kind == KindIAMPolicy && c.Action != Manual && final[c.Target] != nil {
			final[c.Target][c.PolicyName] = c.Policy
		}
	}
	var blockers []Finding
	tooLarge := func(target, msg string) {
		blockers = append(blockers, Finding{Code: CodePolicyTooLarge, Target: target, Message: msg,
			Fix: "remove statements that are no longer needed, or grant the account instead of single principals"})
	}
	for i := range changes {
		c := &changes[i]
		if c.Policy == nil && c.Kind != KindIAMPolicy {
			continue
		}
		switch {
		case c.Kind == KindBucketPolicy:
			c.Size = &Size{Used: len(c.Policy.Compact()), Limit: BucketPolicyLimit, Unit: UnitBytes}
			if c.Writes() && c.Size.Over() {
				tooLarge(c.Target, fmt.Sprintf("the bucket policy would be %d bytes, over S3's limit of %d", c.Size.Used, BucketPolicyLimit))
			}
		case c.Kind == KindKeyPolicy:
			c.Size = &Size{Used: len(c.Policy.Compact()), Limit: KeyPolicyLimit, Unit: UnitBytes}
			if c.Writes() && c.Size.Over() {
				tooLarge(c.Target, fmt.Sprintf("the key policy would be %d bytes, over KMS's limit of %d", c.Size.Used, KeyPolicyLimit))
			}
		case c.Kind == KindIAMPolicy && c.Action == Manual && c.Policy != nil:
			// An administrator attaches it as a managed policy, or inline.
			c.Size = &Size{Used: nonSpace(c.Policy.Compact()), Limit: ManagedPolicyLimit, Unit: UnitChars}
		case c.Kind == KindIAMPolicy && final[c.Target] != nil:
			total := 0
			for _, doc := range final[c.Target] {
				if doc != nil {
					total += nonSpace(doc.Compact())
				}
			}
			limit, kind := RoleInlinePolicyLimit, arns.Role
			if c.Grantee != nil && c.Grantee.Kind == arns.User {
				limit, kind = UserInlinePolicyLimit, arns.User
			}
			c.Size = &Size{Used: total, Limit: limit, Unit: UnitChars}
			if c.Writes() && c.Size.Over() {
				tooLarge(c.Target, fmt.Sprintf("the %s's inline policies would total %d non-whitespace characters, over IAM's limit of %d", kind, total, limit))
			}
		}
	}
	return blockers
}

// writtenSids are the Sids of the statements of after that before does not
// hold as they are: those a change adds or changes.
func writtenSids(before, after *policy.Document) []string {
	had := map[string]bool{}
	if before != nil {
		for _, st := range before.Statements {
			had[st.String()] = true
		}
	}
	var out []string
	for i, st := range after.Statements {
		switch {
		case had[st.String()]:
		case st.Sid != "":
			out = append(out, st.Sid)
		default:
			out = append(out, fmt.Sprintf("#%d", i+1))
		}
	}
	return out
}
