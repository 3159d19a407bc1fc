package generate

import (
	"slices"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Merge adds statements to a document and returns the new document; doc is
// not changed, and nil means "no policy yet". A statement whose Sid is
// already used by a kmsgrant statement of the same shape is merged into it
// by adding the principal; every other statement, and every statement
// kmsgrant did not write, is kept exactly as it was, in place.
func Merge(doc *policy.Document, add []policy.Statement) *policy.Document {
	out := doc.Clone()
	if out == nil {
		out = policy.New()
	}
	for _, st := range add {
		i := slices.IndexFunc(out.Statements, func(s policy.Statement) bool {
			return s.Sid == st.Sid && s.HasSidPrefix(SidPrefix)
		})
		if i < 0 {
			out.Append(st)
			continue
		}
		out.Statements[i] = joinPrincipals(out.Statements[i], st)
	}
	return out
}

// joinPrincipals returns existing with the AWS principals of add appended.
// Same Sid means same shape (the Sid hashes it), so only principals differ.
func joinPrincipals(existing, add policy.Statement) policy.Statement {
	var missing []string
	for _, p := range add.Principal.AWS() {
		if !slices.Contains(existing.Principal.AWS(), p) {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return existing
	}
	joined := existing.Clone()
	if joined.Principal == nil {
		joined.Principal = &policy.Principal{}
	}
	if joined.Principal.Types == nil {
		joined.Principal.Types = map[string]policy.Values{}
	}
	list := append(joined.Principal.AWS(), missing...)
	joined.Principal.Types["AWS"] = policy.Strings(list...)
	return joined
}
