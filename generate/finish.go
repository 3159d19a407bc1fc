package generate

import (
	"fmt"
	"slices"
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
// them together. Last, it orders the changes of a fold (see foldOrder),
// which may warn.
func finish(changes []Change, inline map[string][]NamedPolicy) (blockers, warnings []Finding) {
	for i := range changes {
		c := &changes[i]
		if c.added == nil {
			continue
		}
		doc := Merge(c.Kind, c.base, c.added)
		c.Policy, c.After = doc, doc.Pretty()
		switch {
		case c.Action == Manual:
		case c.After == c.Before && c.unchanged != "":
			c.Action, c.Reason = NoOp, c.unchanged
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
	tooLarge := func(target, msg, fix string) {
		blockers = append(blockers, Finding{Code: CodePolicyTooLarge, Target: target, Message: msg, Fix: fix})
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
				tooLarge(c.Target, fmt.Sprintf("the bucket policy would be %d bytes, over S3's limit of %d", c.Size.Used, BucketPolicyLimit), resourcePolicyAlternatives(c.Policy, "bucket"))
			}
		case c.Kind == KindKeyPolicy:
			c.Size = &Size{Used: len(c.Policy.Compact()), Limit: KeyPolicyLimit, Unit: UnitBytes}
			if c.Writes() && c.Size.Over() {
				tooLarge(c.Target, fmt.Sprintf("the key policy would be %d bytes, over KMS's limit of %d", c.Size.Used, KeyPolicyLimit), resourcePolicyAlternatives(c.Policy, "key"))
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
				tooLarge(c.Target, fmt.Sprintf("the %s's inline policies would total %d non-whitespace characters, over IAM's limit of %d", kind, total, limit),
					"grant fewer prefixes of each bucket (a shorter prefix covers those under it, and grants them all), remove inline policies no longer needed, or have an administrator attach the statements as managed policies (6,144 characters each, up to 10 a role by default)")
			}
		}
	}
	return blockers, foldOrder(changes)
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

// resourcePolicyAlternatives says what would fit where a bucket or key
// policy would not, each alternative as the grant it becomes and what it
// broadens: kmsgrant takes none of them unless asked.
func resourcePolicyAlternatives(doc *policy.Document, what string) string {
	principals, accounts := 0, map[string]bool{}
	for _, st := range doc.Statements {
		if !st.HasSidPrefix(SidPrefix) || st.Principal == nil {
			continue
		}
		for _, p := range st.Principal.AWS() {
			principals++
			if parsed, err := arns.ParsePrincipal(p, ""); err == nil {
				accounts[parsed.Account] = true
			}
		}
	}
	ids := make([]string, 0, len(accounts))
	for a := range accounts {
		ids = append(ids, a)
	}
	slices.Sort(ids)
	alternatives := []string{"grant fewer, shorter prefixes: a prefix covers every key that starts with it, and grants them all"}
	alternatives = append(alternatives, fmt.Sprintf(
		"or grant the grantee accounts (%s) as wholes, with --grantee ACCOUNT_ID or grantee: \"ACCOUNT_ID\" in the grants file: the %s policy then names each account once instead of %d principals, and each account's administrator chooses its roles in IAM (kmsgrant shows the IAM policy to attach); this trusts every principal those accounts' IAM allows",
		strings.Join(ids, ", "), what, principals))
	alternatives = append(alternatives,
		"or write one statement for the whole organization yourself, conditioned on aws:PrincipalOrgID: it trusts every account of the organization, which kmsgrant does not write")
	if what == "key" {
		alternatives = append(alternatives,
			"or give each grantee a KMS grant instead of key policy statements, with --via grant or via: grant in the grants file: one grant per grantee and bucket, which lets the grantee use the key on any data it encrypted, directly as well as through S3, since a grant cannot be narrowed to a prefix or to S3's calls")
	}
	return strings.Join(alternatives, "; ")
}

// foldOrder orders the changes that fold a role's or user's inline policies
// of one bucket each into IAMPolicyName (see foldLegacy). Apply writes a
// principal's inline policies one after another, in plan order: the shared
// policy first, so the principal never lacks a statement; but until the
// old policies are cut, its moved statements are there twice, and IAM
// refuses a write that puts its inline policies together over the limit.
// Where they would be, the old policies are cut first, and a warning says
// the principal lacks those statements for a moment.
func foldOrder(changes []Change) []Finding {
	var warnings []Finding
	for i := 0; i < len(changes); i++ {
		c := changes[i]
		if c.Kind != KindIAMPolicy || c.foldsInto != "" || c.Size == nil || !c.Writes() {
			continue
		}
		var folds []int
		extra := 0
		for j, f := range changes {
			if f.foldsInto == c.PolicyName && f.Target == c.Target {
				folds = append(folds, j)
				extra += nonSpace([]byte(compactText(f.Before))) - nonSpace([]byte(compactText(f.After)))
			}
		}
		if len(folds) == 0 || c.Size.Used+extra <= c.Size.Limit {
			continue
		}
		// The folds go right before c, in their order.
		var moved []Change
		for _, j := range folds {
			moved = append(moved, changes[j])
		}
		rest := slices.DeleteFunc(slices.Clone(changes), func(x Change) bool { return x.foldsInto == c.PolicyName && x.Target == c.Target })
		at := slices.IndexFunc(rest, func(x Change) bool {
			return x.Kind == KindIAMPolicy && x.Target == c.Target && x.PolicyName == c.PolicyName
		})
		copy(changes, slices.Concat(rest[:at], moved, rest[at:]))
		i = at + len(moved)
		var names []string
		for _, m := range moved {
			names = append(names, m.PolicyName)
		}
		warnings = append(warnings, Finding{Code: CodeFoldGap, Target: c.Target,
			Message: fmt.Sprintf("moving kmsgrant's statements from %s into inline policy %s would put the %s's inline policies over IAM's limit of %d while both hold them, so apply takes them out of %s first: for a moment it lacks them", strings.Join(names, ", "), c.PolicyName, kindOf(c), c.Size.Limit, strings.Join(names, ", ")),
			Fix:     "apply when a moment without that access does no harm, or revoke grants the role no longer needs first"})
	}
	return warnings
}

// compactText is a document's text without its layout, for counting as IAM
// counts; "" for none.
func compactText(text string) string {
	if text == "" {
		return ""
	}
	d, err := policy.Parse([]byte(text))
	if err != nil {
		return text
	}
	return string(d.Compact())
}

// kindOf says whether an inline policy change is a role's or a user's.
func kindOf(c Change) string {
	if c.Grantee != nil && c.Grantee.Kind == arns.User {
		return "user"
	}
	return "role"
}
