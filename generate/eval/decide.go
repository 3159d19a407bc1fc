package eval

import "github.com/kmsgrant/kmsgrant/generate/arns"

// Layers are the policies AWS weighs for one request, by the part each
// plays in its evaluation logic ("Policy evaluation logic", IAM User Guide).
type Layers struct {
	// Identity are the caller's identity policies: inline, managed and,
	// for a user, its groups'.
	Identity []Policy
	// Boundary is the caller's permissions boundary, nil when it has none.
	Boundary *Policy
	// Resource is the resource's policy (a bucket policy, a key policy),
	// nil when it has none.
	Resource *Policy
	// ResourceAccount owns the resource. A caller of the same account may
	// be allowed by its identity policies or by the resource policy alone;
	// a caller of another account needs both.
	ResourceAccount string
	// KMSKey marks Resource as a KMS key policy. Within one account KMS
	// honours identity policies only where the key policy allows the
	// account ("Key policies in AWS KMS", AWS KMS Developer Guide).
	KMSKey bool
	// SCP is the caller's service control policy, when known: it must
	// allow. RCP is the resource's resource control policy, when known: it
	// can only deny, since AWS attaches RCPFullAWSAccess, which allows
	// everything, to every account an RCP applies to ("How AWS enforcement
	// code logic evaluates requests"). nil means none applies.
	SCP, RCP *Policy
}

// Verdict is AWS's answer to one request, with the statements that decide
// it. Allowed and Denied are three-valued: kmsgrant says Maybe where it
// cannot know.
type Verdict struct {
	// Allowed is how surely the allows the request needs are all there.
	Allowed Tri
	// Denied is how surely an explicit deny applies.
	Denied Tri
	// AllowedBy are the allow statements, applying or possibly applying,
	// of the layers the request is allowed through; DeniedBy every deny
	// statement that applies or might.
	AllowedBy, DeniedBy []Ref
}

// Result says the outcome the way AWS does: "Allowed", "ExplicitlyDenied" or
// "ImplicitlyDenied", or "Undecided" when kmsgrant cannot know.
func (v Verdict) Result() string {
	switch {
	case v.Denied == Yes:
		return "ExplicitlyDenied"
	case v.Denied == Maybe:
		return "Undecided"
	case v.Allowed == Yes:
		return "Allowed"
	case v.Allowed == Maybe:
		return "Undecided"
	}
	return "ImplicitlyDenied"
}

// Decide evaluates one request against every layer:
//   - an explicit deny in any policy decides;
//   - an SCP, where given, must allow;
//   - across accounts, the identity policies (within the boundary) and the
//     resource policy must both allow;
//   - within one account either suffices, but a resource policy allows
//     alone only where it names the caller or everyone, not its account; a
//     KMS key policy must allow the account for identity policies to count;
//     and a permissions boundary limits a resource policy's allow except
//     for a user named by ARN ("Policy evaluation for requests within a
//     single account", "Permissions boundaries for IAM entities"). AWS
//     says a grant to a role session's ARN is not limited either; kmsgrant
//     takes a grant to everyone ("*") to name the session too, as
//     iam-simulate does, and a grant to the role's ARN to be limited.
func Decide(l Layers, req Request) Verdict {
	req.PrincipalHasBoundary = l.Boundary != nil
	// one evaluates an optional policy; absent, it allows everything
	// (no boundary, no SCP, no RCP) or nothing (no resource policy).
	one := func(p *Policy, absent Tri) Decision {
		if p == nil {
			return Decision{Allowed: absent}
		}
		return Evaluate([]Policy{*p}, req)
	}
	identity := Evaluate(l.Identity, req)
	resource := one(l.Resource, No)
	boundary := one(l.Boundary, Yes)
	scp := one(l.SCP, Yes)
	rcp := one(l.RCP, Yes)
	rcp.Allowed = Yes // RCPFullAWSAccess

	var v Verdict
	for _, d := range []Decision{identity, boundary, resource, scp, rcp} {
		v.Denied = or(v.Denied, d.Denied)
		v.DeniedBy = append(v.DeniedBy, d.DeniedBy...)
	}

	reach := func(f func(Ref) Tri) Tri {
		r := No
		for _, ref := range resource.AllowedBy {
			r = or(r, f(ref))
		}
		return r
	}
	direct := reach(func(r Ref) Tri { return r.Direct })
	throughIdentity := and(identity.Allowed, boundary.Allowed)
	throughResource := direct
	if l.Boundary != nil {
		bypass := reach(func(r Ref) Tri { return r.Everyone })
		if req.Principal.Kind == arns.User {
			bypass = direct
		}
		throughResource = or(and(direct, boundary.Allowed), bypass)
	}

	var allowed Tri
	var by [][]Ref
	switch {
	case req.Principal.Account != l.ResourceAccount:
		allowed = and(throughIdentity, resource.Allowed)
		by = [][]Ref{identity.AllowedBy, boundary.AllowedBy, resource.AllowedBy}
	case l.KMSKey:
		delegated := reach(func(r Ref) Tri { return r.ViaAccount })
		allowed = or(and(throughIdentity, delegated), throughResource)
		by = [][]Ref{identity.AllowedBy, boundary.AllowedBy, resource.AllowedBy}
	default:
		allowed = or(throughIdentity, throughResource)
		if throughIdentity != No {
			by = append(by, identity.AllowedBy, boundary.AllowedBy)
		}
		if throughResource != No {
			by = append(by, resource.AllowedBy)
		}
	}
	v.Allowed = and(allowed, scp.Allowed, rcp.Allowed)
	for _, refs := range append(by, scp.AllowedBy, rcp.AllowedBy) {
		v.AllowedBy = append(v.AllowedBy, refs...)
	}
	return v
}
