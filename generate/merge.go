package generate

import (
	"fmt"
	"slices"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Merge adds statements to a document and returns the new document; doc is
// not changed, and nil means "no policy yet". A statement is joined into an
// existing kmsgrant statement of the same shape (same effect, actions,
// resources and conditions) by adding its principal; otherwise it is
// appended, under a Sid no other statement uses. Every other statement, and
// every statement kmsgrant did not write, is kept exactly as it was, in
// place.
func Merge(doc *policy.Document, add []policy.Statement) *policy.Document {
	out := doc.Clone()
	if out == nil {
		out = policy.New()
	}
	for _, st := range add {
		i := slices.IndexFunc(out.Statements, func(s policy.Statement) bool {
			return s.HasSidPrefix(SidPrefix) && sameShape(s, st)
		})
		if i < 0 {
			st.Sid = uniqueSid(out, st.Sid)
			out.Append(st)
			continue
		}
		out.Statements[i] = joinPrincipals(out.Statements[i], st)
	}
	return out
}

// sameShape reports whether two statements grant the same thing to
// possibly different principals. It compares them rebuilt from their
// fields, so formatting and string-or-list shapes do not matter.
func sameShape(a, b policy.Statement) bool {
	return shapeKey(a) == shapeKey(b)
}

func shapeKey(s policy.Statement) string {
	c := s.Clone()
	c.Sid, c.Principal = "", nil
	for _, v := range []*policy.Values{&c.Action, &c.NotAction, &c.Resource, &c.NotResource} {
		v.Single = false
	}
	for i := range c.Condition {
		c.Condition[i].Values.Single = false
	}
	return c.String()
}

// editedStatements returns the Sids of kmsgrant statements in doc that
// carry the Sid of one of add but no longer its shape: someone changed them
// after kmsgrant wrote them.
func editedStatements(doc *policy.Document, add []policy.Statement) []string {
	if doc == nil {
		return nil
	}
	var out []string
	for _, st := range add {
		for _, s := range doc.Statements {
			if s.Sid == st.Sid && !sameShape(s, st) {
				out = append(out, s.Sid)
			}
		}
	}
	return out
}

// uniqueSid returns sid, or sid with a numeric suffix when a statement of
// doc already uses it: policies need unique Sids.
func uniqueSid(doc *policy.Document, sid string) string {
	used := func(c string) bool {
		return slices.ContainsFunc(doc.Statements, func(s policy.Statement) bool { return s.Sid == c })
	}
	candidate := sid
	for n := 2; used(candidate); n++ {
		candidate = fmt.Sprintf("%sV%d", sid, n)
	}
	return candidate
}

// joinPrincipals returns existing with the AWS principals of add appended.
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
