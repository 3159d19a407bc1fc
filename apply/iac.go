package apply

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// The Terraform and CloudFormation renderings are derived from the JSON
// plan's changes (View.Changes), the same structure the text and JSON
// outputs come from, so no rendering can say something the plan does not.

// iacChange is one change of the plan as an infrastructure-as-code
// rendering needs it: which document, and the statements to put in it.
type iacChange struct {
	ChangeView
	// Whole is set when the rendering carries the whole document: there
	// is none yet (create), or a person attaches it as it is (manual).
	// Otherwise the document exists and the rendering carries only the
	// statements kmsgrant adds to it.
	Whole bool
	// Doc is the After document, for its Version and Id.
	Doc *policy.Document
	// Statements are the statements to render: every statement of Doc
	// when Whole, else those Doc holds that Before does not.
	Statements []policy.Statement
	// Replaced are the Sids of Statements that Before holds too, in
	// another form (another grantee joined a kmsgrant statement): merged
	// in, they replace the statement of that Sid.
	Replaced []string
	// Removed are the Sids of kmsgrant statements of Before that After
	// no longer holds, to be taken out of the document that holds them:
	// put together with others into one of Statements, or revoked.
	Removed []string
	// Encryption is the After configuration of a bucket_encryption
	// change.
	Encryption *generate.Encryption
	// Principal is the parsed target of an iam_policy change.
	Principal *arns.Principal
	// GrantsAdded and GrantsRevoked are, for key_grants, the KMS grants
	// the change makes and those it revokes (a grant given more
	// operations is both: grants cannot be changed).
	GrantsAdded, GrantsRevoked []generate.KMSGrant
}

// iacChanges derives the renderings' view of every change of v.
func iacChanges(v View) ([]iacChange, error) {
	var out []iacChange
	for _, cv := range v.Changes {
		c := iacChange{ChangeView: cv}
		switch cv.Kind {
		case generate.KindBucketEncryption:
			if isNull(cv.After) {
				break
			}
			var e generate.Encryption
			if err := json.Unmarshal(cv.After, &e); err != nil {
				return nil, fmt.Errorf("%s of %s: %w", cv.Kind, cv.Target, err)
			}
			c.Encryption = &e
		case generate.KindKeyGrants:
			added, revoked, err := grantsDiff(cv.Before, cv.After)
			if err != nil {
				return nil, fmt.Errorf("%s of %s: %w", cv.Kind, cv.Target, err)
			}
			c.GrantsAdded, c.GrantsRevoked = added, revoked
		case generate.KindBucketPolicy, generate.KindKeyPolicy, generate.KindIAMPolicy:
			if cv.Kind == generate.KindIAMPolicy {
				p, err := arns.ParsePrincipal(cv.Target, "")
				if err != nil {
					return nil, fmt.Errorf("%s of %s: %w", cv.Kind, cv.Target, err)
				}
				c.Principal = &p
			}
			if isNull(cv.After) {
				break
			}
			added, replaced, doc, err := addedStatements(cv.Before, cv.After)
			if err != nil {
				return nil, fmt.Errorf("%s of %s: %w", cv.Kind, cv.Target, err)
			}
			c.Doc, c.Statements, c.Replaced = doc, added, replaced
			c.Removed = removedSids(cv.Before, doc)
			if isNull(cv.Before) || cv.Action == generate.Manual {
				c.Whole, c.Statements, c.Replaced = true, doc.Statements, nil
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// grantsDiff returns the grants a key_grants change of the JSON plan
// makes and those it revokes.
func grantsDiff(before, after json.RawMessage) (added, revoked []generate.KMSGrant, err error) {
	text := func(raw json.RawMessage) string {
		if isNull(raw) {
			return ""
		}
		return string(raw)
	}
	return generate.GrantsDelta(text(before), text(after))
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// addedStatements returns the statements of after that before does not
// hold, compared by their canonical JSON (a statement kmsgrant did not
// touch keeps its bytes), with the Sids among them that before holds in
// another form, and the parsed after document.
func addedStatements(before, after json.RawMessage) (added []policy.Statement, replaced []string, doc *policy.Document, err error) {
	doc, err = policy.Parse(after)
	if err != nil {
		return nil, nil, nil, err
	}
	held := map[string]int{}
	sids := map[string]bool{}
	if !isNull(before) {
		prev, err := policy.Parse(before)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, s := range prev.Statements {
			held[s.String()]++
			if s.Sid != "" {
				sids[s.Sid] = true
			}
		}
	}
	for _, i := range addedIndexes(doc, held) {
		s := doc.Statements[i]
		added = append(added, s)
		if s.Sid != "" && sids[s.Sid] {
			replaced = append(replaced, s.Sid)
		}
	}
	return added, replaced, doc, nil
}

// removedSids are the Sids of the kmsgrant statements of before that
// after does not hold under their Sid.
func removedSids(before json.RawMessage, after *policy.Document) []string {
	if isNull(before) {
		return nil
	}
	prev, err := policy.Parse(before)
	if err != nil {
		return nil
	}
	kept := map[string]bool{}
	for _, s := range after.Statements {
		kept[s.Sid] = true
	}
	var out []string
	for _, s := range prev.Statements {
		if s.HasSidPrefix(generate.SidPrefix) && !kept[s.Sid] {
			out = append(out, s.Sid)
		}
	}
	return out
}

// addedIndexes returns the indexes of doc's statements that are not among
// held (canonical JSON to how many times before holds it).
func addedIndexes(doc *policy.Document, held map[string]int) []int {
	left := make(map[string]int, len(held))
	for k, n := range held {
		left[k] = n
	}
	var out []int
	for i, s := range doc.Statements {
		if left[s.String()] > 0 {
			left[s.String()]--
			continue
		}
		out = append(out, i)
	}
	return out
}

// bucketOf returns the bucket name of a bucket ARN.
func bucketOf(arn string) string {
	_, name, _ := strings.Cut(arn, ":::")
	return name
}

// nameParts splits s into its runs of letters and digits, for the names
// of Terraform blocks and CloudFormation logical IDs.
func nameParts(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// granteeLabel names a change's document in block names and logical IDs
// by its grantee: the role or user name, or "account" and its ID. A batch
// has many grantees: an IAM change is named by its own, a bucket or key
// change by its bucket or key, which several grantees share.
func granteeLabel(v View, c ChangeView) string {
	grantee, account := "", ""
	switch {
	case c.Kind == generate.KindIAMPolicy:
		grantee, account = c.Target, c.Account
	case v.Grant != nil:
		grantee, account = v.Grant.Grantee, v.Grant.GranteeAccount
	case c.Kind == generate.KindKeyPolicy:
		_, id, _ := strings.Cut(c.Target, ":key/")
		return "key " + id
	default:
		return bucketOf(c.Target)
	}
	p, err := arns.ParsePrincipal(grantee, "")
	if err != nil || p.Kind == arns.Account {
		return "account " + account
	}
	return p.Name
}

// changeLabels are the labels of the changes' blocks and logical IDs (see
// granteeLabel), each made unique: a role with inline policies for two
// buckets has two changes, told apart by their policy names.
func changeLabels(v View, changes []iacChange) []string {
	labels := make([]string, len(changes))
	count := map[string]int{}
	for i, c := range changes {
		labels[i] = granteeLabel(v, c.ChangeView)
		count[c.Kind+" "+labels[i]]++
	}
	for i, c := range changes {
		if count[c.Kind+" "+labels[i]] > 1 && c.PolicyName != "" {
			labels[i] += " " + c.PolicyName
		}
	}
	return labels
}

// policyLabel says which document a change concerns, for people.
func policyLabel(c ChangeView) string {
	switch c.Kind {
	case generate.KindBucketPolicy:
		return "the bucket policy of " + bucketOf(c.Target)
	case generate.KindKeyPolicy:
		return "the key policy of " + c.Target
	case generate.KindIAMPolicy:
		return fmt.Sprintf("the inline policy %s of %s", c.PolicyName, c.Target)
	case generate.KindBucketEncryption:
		return "the default encryption of " + bucketOf(c.Target)
	case generate.KindKeyGrants:
		return "kmsgrant's KMS grants on " + c.Target
	}
	return c.Kind + " " + c.Target
}
