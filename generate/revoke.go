package generate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
	"github.com/kmsgrant/kmsgrant/templates"
)

// Delete is the action of a revoke that leaves a bucket policy or an
// inline policy with no statement: the document is removed, as AWS does
// not keep empty policies.
const Delete Action = "delete"

// Revoke plans the removal of a grantee from the statements kmsgrant wrote
// for a bucket and prefix: the grantee leaves the principal list of every
// Kmsgrant statement of that scope (whatever its actions), a statement left
// with no principal goes, and so does the grantee's kmsgrant inline policy
// left with no statement. Statements kmsgrant did not write are never
// touched, so revoke after grant gives each policy its meaning back.
func Revoke(g Grant, in Inputs) (*Result, error) {
	p := &planner{g: g, in: in, r: &Result{Operation: "revoke"}}
	b := in.Bucket
	if b == nil {
		p.block(CodeBucketNotFound, g.Bucket, bucketNotFound(g.Bucket)+didYouMean(in.NearBuckets), "check the bucket name")
		return p.r, nil
	}
	p.resolve()
	// The shapes of everything kmsgrant could have written for this
	// scope: all levels, with the grantee's principal.
	all := Grant{Access: templates.Levels(), Grantee: p.g.Grantee}
	needs := append(s3Needs(all, p.sc), kmsNeeds(all, p.sc, true)...)
	principal := p.g.Grantee.ARN()

	bucketShapes, err := statements(KindBucketPolicy, s3Needs(all, p.sc), principal, p.sc)
	if err != nil {
		return nil, err
	}
	p.r.Changes = append(p.r.Changes, revokeChange(KindBucketPolicy, b.Account, p.sc.bucketARN, b.Policy, bucketShapes, principal, true))
	if k := in.Key; k != nil && k.Policy != nil {
		keyShapes, err := statements(KindKeyPolicy, kmsNeeds(all, p.sc, true), principal, p.sc)
		if err != nil {
			return nil, err
		}
		c := revokeChange(KindKeyPolicy, k.Account, k.ARN, k.Policy, keyShapes, principal, false)
		if c.Action == Delete {
			p.block(CodeExplicitDeny, k.ARN, "the key policy would be left with no statement", "keep at least the statement that lets the owner account manage the key")
		}
		p.r.Changes = append(p.r.Changes, c)
	}
	if gr := in.Grantee; gr != nil && p.g.Grantee.Kind != arns.Account {
		iamShapes, err := statements(KindIAMPolicy, needs, "", p.sc)
		if err != nil {
			return nil, err
		}
		// The grant's policy, and where it is the one every grant
		// shares, the bucket's own from before (LegacyIAMPolicyName),
		// whose statements a plan has not folded into it yet.
		names := []string{g.IAMPolicyName}
		if g.IAMPolicyName == IAMPolicyName {
			names = append(names, LegacyIAMPolicyName(b.Name))
		}
		grantee := p.g.Grantee
		for _, name := range names {
			i := slices.IndexFunc(gr.Inline, func(np NamedPolicy) bool { return np.Name == name })
			if i < 0 && name != g.IAMPolicyName {
				continue
			}
			var current *policy.Document
			if i >= 0 {
				current = gr.Inline[i].Doc
			}
			c := revokeChange(KindIAMPolicy, p.g.Grantee.Account, principal, current, iamShapes, "", true)
			c.PolicyName, c.Grantee = name, &grantee
			p.r.Changes = append(p.r.Changes, c)
		}
	}
	if len(p.r.Blockers) > 0 {
		p.r.Changes = nil
		return p.r, nil
	}
	p.revokeKeyGrant(in)
	if err := p.remainingAccess(in); err != nil {
		return nil, err
	}
	return p.r, nil
}

// revokeChange removes principal from the Kmsgrant statements of doc whose
// scope (everything but actions and principal) is one of shapes. For an
// identity policy (principal ""), such statements go entirely. Statements
// in kmsgrant's own form are taken apart and put back together without the
// principal's scopes (see factoring.revoke); a kmsgrant statement someone
// edited loses the principal only when its scope is exactly the grant's.
func revokeChange(kind, account, target string, doc *policy.Document, shapes []policy.Statement, principal string, mayDelete bool) Change {
	c := Change{Kind: kind, Account: account, Target: target, Action: NoOp, Before: doc.Pretty(), After: doc.Pretty(), Policy: doc,
		Reason: "no kmsgrant statement grants the grantee here"}
	if doc == nil {
		return c
	}
	f := newFactoring(kind)
	took := false
	refactored := refactor(kind, doc, func(f *factoring) { took = f.revoke(principal, shapes) })
	removed := 0
	if took {
		for _, st := range doc.Statements {
			if f.pristine(st) && !slices.ContainsFunc(refactored.Statements, func(s policy.Statement) bool { return s.String() == st.String() }) {
				removed++
			}
		}
	} else {
		// Nothing of the grantee's: the document stays as it is, even
		// where its statements could be put together.
		refactored = doc
	}
	out := refactored.Clone()
	out.Statements = nil
	for _, st := range refactored.Statements {
		if f.pristine(st) || !st.HasSidPrefix(SidPrefix) || !slices.ContainsFunc(shapes, func(s policy.Statement) bool { return sameScope(s, st) }) {
			out.Statements = append(out.Statements, st)
			continue
		}
		if principal == "" {
			removed++
			continue
		}
		kept := slices.DeleteFunc(append([]string(nil), st.Principal.AWS()...), func(v string) bool { return v == principal })
		switch {
		case len(kept) == len(st.Principal.AWS()):
			out.Statements = append(out.Statements, st)
		case len(kept) == 0 && len(st.Principal.Types) > 1:
			// Other kinds of principal (a service, say) stay.
			removed++
			narrowed := st.Clone()
			delete(narrowed.Principal.Types, "AWS")
			out.Statements = append(out.Statements, narrowed)
		case len(kept) == 0:
			removed++
		default:
			removed++
			narrowed := st.Clone()
			narrowed.Principal.Types["AWS"] = policy.Strings(kept...)
			out.Statements = append(out.Statements, narrowed)
		}
	}
	if removed == 0 {
		return c
	}
	c.Reason = fmt.Sprintf("removes the grantee from %d kmsgrant statement(s)", removed)
	if len(out.Statements) == 0 && mayDelete {
		c.Action, c.After, c.Policy = Delete, "", nil
		c.Reason += "; the policy is left with no statement and is deleted"
		return c
	}
	c.Action, c.After, c.Policy = Update, out.Pretty(), out
	return c
}

// sameScope reports whether two statements cover the same resources under
// the same conditions, whatever their actions and principals.
func sameScope(a, b policy.Statement) bool {
	a, b = a.Clone(), b.Clone()
	a.Action, b.Action = policy.Values{}, policy.Values{}
	return shapeKey(a) == shapeKey(b)
}

// After returns the inputs as they will be once a result's writes are made:
// what a later read would find.
func After(in Inputs, res *Result) Inputs {
	out := in
	if in.Bucket != nil {
		b := *in.Bucket
		out.Bucket = &b
	}
	if in.Key != nil {
		k := *in.Key
		out.Key = &k
	}
	if in.Grantee != nil {
		gr := *in.Grantee
		gr.Inline = slices.Clone(in.Grantee.Inline)
		out.Grantee = &gr
	}
	for _, c := range res.Changes {
		if !c.Writes() {
			continue
		}
		switch c.Kind {
		case KindBucketEncryption:
			e := *c.Encryption
			out.Bucket.Encryption = &e
		case KindBucketPolicy:
			out.Bucket.Policy = c.Policy
		case KindKeyPolicy:
			out.Key.Policy = c.Policy
		case KindKeyGrants:
			out.Key.Grants = append(slices.DeleteFunc(slices.Clone(out.Key.Grants), IsOwnGrant), c.KeyGrants...)
		case KindIAMPolicy:
			if out.Grantee == nil {
				continue
			}
			i := slices.IndexFunc(out.Grantee.Inline, func(np NamedPolicy) bool { return np.Name == c.PolicyName })
			switch {
			case c.Action == Delete && i >= 0:
				out.Grantee.Inline = slices.Delete(out.Grantee.Inline, i, i+1)
			case i >= 0:
				out.Grantee.Inline[i].Doc = c.Policy
			case c.Action != Delete:
				out.Grantee.Inline = append(out.Grantee.Inline, NamedPolicy{Name: c.PolicyName, Doc: c.Policy})
			}
		}
	}
	return out
}

// remainingAccess warns about every layer that still grants the grantee
// read access once the revoke is made: through statements kmsgrant did not
// write (an account-wide grant, a broader prefix), which revoke never
// touches.
func (p *planner) remainingAccess(in Inputs) error {
	read := p.g
	read.Access = []string{"read"}
	res, err := Changes(read, After(in, p.r))
	if err != nil {
		return err
	}
	for _, c := range res.Changes {
		if c.Action == NoOp && strings.HasPrefix(c.Reason, "already grants access") {
			p.warn(CodeAccessRemains, c.Target,
				fmt.Sprintf("after the revoke, the %s still lets the grantee read: %s", strings.ReplaceAll(c.Kind, "_", " "), strings.TrimPrefix(c.Reason, "already grants access: ")),
				"those statements were not written by kmsgrant; change them yourself if the grantee must lose access")
		}
	}
	return nil
}

// revokeKeyGrant plans the revocation of kmsgrant's KMS grant to the
// grantee for the bucket (--via grant) once the grantee holds no prefix of
// the bucket in kmsgrant's bucket policy statements: the grant is not
// narrowed to a prefix, so it stays while any prefix needs it.
func (p *planner) revokeKeyGrant(in Inputs) {
	k := in.Key
	if k == nil {
		return
	}
	if k.GrantsUnread {
		p.warn(CodeGrantsUnread, k.ARN,
			"the key's grants could not be read (kms:ListGrants was denied), so a KMS grant kmsgrant made for this bucket (--via grant) is not looked for, and stays if there is one",
			"allow kms:ListGrants on the key to the owner credentials, and revoke again")
		return
	}
	name, principal := KMSGrantName(in.Bucket.Name), p.g.Grantee.ARN()
	mine := func(g KMSGrant) bool { return IsOwnGrant(g) && g.Name == name && g.GranteePrincipal == principal }
	if !slices.ContainsFunc(k.Grants, mine) {
		return
	}
	for _, h := range HeldGrants(After(in, p.r).Bucket) {
		if h.Principal == principal {
			return
		}
	}
	after := slices.DeleteFunc(slices.Clone(k.Grants), mine)
	p.r.Changes = append(p.r.Changes, keyGrantsChange(k, k.Grants, after,
		fmt.Sprintf("revokes KMS grant %s of %s: the grantee holds no other prefix of the bucket", name, principal)))
	p.warn(CodeGrantShared, k.ARN,
		fmt.Sprintf("KMS grant %s is not narrowed to bucket %s: a grant of %s on another bucket with this key that was planned while it existed needed no key permission of its own, and loses it with this revoke", name, in.Bucket.Name, principal),
		"plan the grantee's other grants on this key again after the revoke (kmsgrant plan -f FILE); with -f --prune, one plan revokes and grants again in order")
}
