package generate

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/eval"
)

// grantsPolicy names the key's grants where a layer reports what allows.
const grantsPolicy = "key's grants"

// grantAllows decides whether a KMS grant allows a request: the request's
// operation is one of the grant's, its caller is the grantee principal, and
// its encryption context meets the grant's constraints. The context S3 sends
// is {"aws:s3:arn": object or bucket ARN}; for every object under a prefix
// it is a set of values, which an exact constraint can match only in part.
func grantAllows(g KMSGrant, req eval.Request) eval.Tri {
	op, ok := strings.CutPrefix(req.Action, "kms:")
	if !ok || !slices.Contains(g.Operations, op) {
		return eval.No
	}
	who := granteeMatches(g.GranteePrincipal, req.Principal)
	if who == eval.No {
		return eval.No
	}
	ctx, known := req.Context["kms:encryptioncontext:aws:s3:arn"]
	if !known {
		return eval.Maybe
	}
	holds := func(want map[string]string, exact bool) eval.Tri {
		if want == nil {
			return eval.Yes
		}
		if exact && len(want) != 1 {
			return eval.No
		}
		r := eval.Yes
		for k, v := range want {
			if k != "aws:s3:arn" {
				// S3's request carries no other pair.
				return eval.No
			}
			r = min(r, contextValueIs(ctx, v))
		}
		return r
	}
	return min(who, holds(g.EncryptionContextEquals, true), holds(g.EncryptionContextSubset, false))
}

// contextValueIs says whether the request's encryption context value is v:
// surely for an exact value, only in part for a set of values.
func contextValueIs(ctx eval.Value, v string) eval.Tri {
	switch {
	case !ctx.Prefix && ctx.S == v:
		return eval.Yes
	case ctx.Prefix && strings.HasPrefix(v, ctx.S):
		return eval.Maybe
	}
	return eval.No
}

// granteeMatches says whether a grant's grantee principal is the caller: its
// role or user ARN, or the session the caller is. A grant to a whole account
// lets that account's IAM policies decide, which kmsgrant does not model
// for grants; a service principal is never an IAM caller.
func granteeMatches(grantee string, p arns.Principal) eval.Tri {
	switch {
	case p.Kind == arns.Account:
		// Any role or user of the account may call; the grant names one.
		if acct, ok := arns.AccountOfPrincipal(grantee); ok && acct == p.Account {
			return eval.Maybe
		}
		return eval.No
	case grantee == p.ARN():
		return eval.Yes
	case p.Session != "" && grantee == p.SessionARN():
		return eval.Yes
	case eval.IsSessionOf(grantee, p):
		// A session of the caller's role: this one, or another.
		if p.Session != "" {
			return eval.No
		}
		return eval.Maybe
	case arns.IsAccountPrincipal(grantee):
		if acct, _ := arns.AccountOfPrincipal(grantee); acct == p.Account {
			return eval.Maybe
		}
	}
	return eval.No
}

// grantRef describes a grant the way layers name the statements that allow.
func grantRef(g KMSGrant, match eval.Tri) eval.Ref {
	text, _ := json.Marshal(grantView(g))
	label := "grant " + g.ID
	if g.ID == "" {
		// One this plan makes: KMS gives the ID when it is created.
		label = "grant " + g.Name + " (planned)"
	}
	return eval.Ref{Policy: grantsPolicy, Label: label, Statement: string(text), Match: match}
}

// grantView is a grant shaped like ListGrants' answer, for messages.
func grantView(g KMSGrant) map[string]any {
	v := map[string]any{"GrantId": g.ID, "GranteePrincipal": g.GranteePrincipal, "Operations": g.Operations}
	if g.Name != "" {
		v["Name"] = g.Name
	}
	c := map[string]any{}
	if g.EncryptionContextEquals != nil {
		c["EncryptionContextEquals"] = maps.Clone(g.EncryptionContextEquals)
	}
	if g.EncryptionContextSubset != nil {
		c["EncryptionContextSubset"] = maps.Clone(g.EncryptionContextSubset)
	}
	if len(c) > 0 {
		v["Constraints"] = c
	}
	return v
}
