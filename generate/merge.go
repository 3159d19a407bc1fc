package generate

import (
	"fmt"
	"slices"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Merge adds statements of a kind of policy to a document and returns the
// new document; doc is not changed, and nil means "no policy yet". The
// document's kmsgrant statements and the new ones are put together so that
// the principals that hold the same scopes under the same form share one
// statement (see factoring): a second grantee of a prefix joins the first
// one's statement, a second prefix of the same grantees joins their
// statement's list. Every statement kmsgrant did not write, and every one
// of its own someone edited since, is kept exactly as it was, in place.
func Merge(kind string, doc *policy.Document, add []policy.Statement) *policy.Document {
	if doc == nil {
		doc = policy.New()
	}
	var other []policy.Statement
	out := refactor(kind, doc, func(f *factoring) {
		for _, st := range add {
			if !f.add(st) {
				other = append(other, st)
			}
		}
	})
	// A statement not in kmsgrant's own form is added as it is.
	for _, st := range other {
		st.Sid = uniqueSid(out, st.Sid)
		out.Append(st)
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
