package generate

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/eval"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Size limits AWS enforces, checked before anything is written.
const (
	BucketPolicyLimit     = 20 * 1024 // bytes
	KeyPolicyLimit        = 32 * 1024 // bytes
	RoleInlinePolicyLimit = 10240     // non-whitespace characters, all inline policies together
	UserInlinePolicyLimit = 2048      // non-whitespace characters, all inline policies together
	ManagedPolicyLimit    = 6144      // non-whitespace characters, one managed policy
)

// Layer is one policy layer's answer for every request of a grant: the one
// evaluation that plan and explain are both made from. Plan turns what is
// missing into statements and the denies into blockers and warnings;
// explain shows the same layer as a check, so the two cannot disagree.
type Layer struct {
	// Name is the layer as a person calls it: "bucket policy", "key
	// policy", "IAM policies", "permissions boundary", or a control such
	// as "service control policies".
	Name string
	// Target is the ARN (or name) findings about the layer concern.
	Target string
	// Missing are the requests no Allow of the layer surely grants.
	Missing []Gap
	// AllowedBy holds, for the requests that are granted, the first
	// statement that surely allows each (each statement once).
	AllowedBy []eval.Ref
	// Denies are the Deny statements that surely apply or might, each
	// once per match, with the first action each concerns.
	Denies []Deny
	// MaybeAllowedBy are the Allow statements that might grant a missing
	// request, on conditions kmsgrant cannot check, each once.
	MaybeAllowedBy []eval.Ref
}

// Gap is a request a layer does not surely allow.
type Gap struct {
	need
	// Maybe is set when an Allow might grant it, on conditions kmsgrant
	// cannot check.
	Maybe bool
}

// Deny is a Deny statement of a layer that applies (Ref.Match Yes) or
// might (Maybe) to a request of the grant.
type Deny struct {
	Ref    eval.Ref
	Action string
}

// Sure reports whether the Deny certainly applies.
func (d Deny) Sure() bool { return d.Ref.Match == eval.Yes }

// needs are the requests of the gaps.
func (l *Layer) needs() []need {
	out := make([]need, len(l.Missing))
	for i, g := range l.Missing {
		out[i] = g.need
	}
	return out
}

// missingActions are the actions of the gaps, each once.
func (l *Layer) missingActions() []string {
	var out []string
	for _, g := range l.Missing {
		out = append(out, g.req.Action)
	}
	return unique(out)
}

// grantedBy names the statements that allow, as "statement X of the Y".
func (l *Layer) grantedBy() []string {
	var out []string
	for _, ref := range l.AllowedBy {
		out = append(out, ref.Label+" of the "+ref.Policy)
	}
	return out
}

// assess evaluates every need against a layer's policies, and against the
// key's grants where they count (the key policy and IAM layers: a grant
// stands in for both), and records the layer, for explain to show it.
func (p *planner) assess(name, target string, policies []eval.Policy, needs []need, grants []KMSGrant) *Layer {
	l := &Layer{Name: name, Target: target}
	seen := map[string]bool{}
	for _, n := range p.boundaryAware(needs) {
		d := withGrants(eval.Evaluate(policies, n.req), grants, n.req)
		for _, ref := range d.DeniedBy {
			key := "deny|" + ref.Policy + "|" + ref.Label + "|" + ref.Match.String()
			if !seen[key] {
				seen[key] = true
				l.Denies = append(l.Denies, Deny{Ref: ref, Action: n.req.Action})
			}
		}
		if d.Allowed != eval.Yes {
			l.Missing = append(l.Missing, Gap{need: n, Maybe: d.Allowed == eval.Maybe})
			for _, ref := range d.AllowedBy {
				if key := "maybe|" + ref.Policy + "|" + ref.Label; ref.Match == eval.Maybe && !seen[key] {
					seen[key] = true
					l.MaybeAllowedBy = append(l.MaybeAllowedBy, ref)
				}
			}
			continue
		}
		for _, ref := range d.AllowedBy {
			if ref.Match != eval.Yes {
				continue
			}
			if key := "allow|" + ref.Policy + "|" + ref.Label; !seen[key] {
				seen[key] = true
				l.AllowedBy = append(l.AllowedBy, ref)
			}
			break
		}
	}
	p.layers = append(p.layers, l)
	return l
}

// evaluate assesses a layer, reports its explicit denies as blockers and
// its possible denies as warnings, and returns the layer: its needs() no
// Allow surely grants, and its grantedBy() statements that grant the rest.
func (p *planner) evaluate(name, target string, policies []eval.Policy, needs []need, grants []KMSGrant) *Layer {
	l := p.assess(name, target, policies, needs, grants)
	for _, d := range l.Denies {
		ref := d.Ref
		if d.Sure() {
			p.block(CodeExplicitDeny, target,
				fmt.Sprintf("%s of the %s denies %s to %s: %s", ref.Label, ref.Policy, d.Action, p.g.Grantee.ARN(), ref.Statement),
				"an Allow cannot override a Deny: narrow or remove that statement, or exempt the grantee from it")
		} else {
			p.warn(CodePossibleDeny, target,
				fmt.Sprintf("%s of the %s may deny %s to %s, depending on conditions kmsgrant cannot check or on part of the prefix: %s", ref.Label, ref.Policy, d.Action, p.g.Grantee.ARN(), ref.Statement),
				"check that its conditions do not hold for the grantee's requests")
		}
	}
	return l
}

// boundaryAware marks the requests as made by a principal with a
// permissions boundary when the grantee has one: a NotPrincipal Deny then
// applies whatever it lists. It returns a copy.
func (p *planner) boundaryAware(needs []need) []need {
	has := p.in.Grantee != nil && p.in.Grantee.Boundary != nil
	out := slices.Clone(needs)
	for i := range out {
		out[i].req.PrincipalHasBoundary = has
	}
	return out
}

func (p *planner) bucketPolicy() error {
	b := p.in.Bucket
	policies := []eval.Policy{{Name: "bucket policy", Kind: eval.Resource, Doc: b.Policy}}
	l := p.evaluate("bucket policy", p.sc.bucketARN, policies, s3Needs(p.g, p.sc), nil)
	c, err := p.policyChange(KindBucketPolicy, b.Account, p.sc.bucketARN, b.Policy, l.needs(), l.grantedBy())
	if err != nil {
		return err
	}
	p.r.Changes = append(p.r.Changes, c)
	return nil
}

func (p *planner) keyPolicy() error {
	k := p.in.Key
	if k.Policy == nil {
		return fmt.Errorf("key %s has no key policy; every KMS key has one, so it could not be read", k.ARN)
	}
	policies := []eval.Policy{{Name: "key policy", Kind: eval.Resource, Doc: k.Policy}}
	l := p.evaluate("key policy", k.ARN, policies, kmsNeeds(p.g, p.sc, p.bucketKey()), k.Grants)
	p.checkNetworkConditions(l)
	p.warnSharedGrant(l)
	if k.GrantsUnread && len(l.Missing) > 0 {
		p.warn(CodeGrantsUnread, k.ARN,
			"the key's grants could not be read (kms:ListGrants was denied), so a grant that already allows the grantee was not looked for; kmsgrant plans key policy statements instead",
			"allow kms:ListGrants on the key to the owner credentials to have grants counted")
	}
	if p.g.Via == ViaGrant && len(l.Missing) > 0 {
		p.keyGrant(l)
		return nil
	}
	c, err := p.policyChange(KindKeyPolicy, k.Account, k.ARN, k.Policy, l.needs(), l.grantedBy())
	if err != nil {
		return err
	}
	p.r.Changes = append(p.r.Changes, c)
	return nil
}

func (p *planner) bucketKey() bool {
	e := p.in.Bucket.Encryption
	return e != nil && e.BucketKeyEnabled
}

func (p *planner) iamPolicy(keyUsable bool) error {
	needs := s3Needs(p.g, p.sc)
	if keyUsable {
		needs = append(needs, kmsNeeds(p.g, p.sc, p.bucketKey())...)
	}
	gr := p.in.Grantee
	if p.g.Grantee.Kind == arns.Account || gr == nil {
		return p.manualIAM(needs)
	}
	policies := p.identityPolicies(gr)
	target := p.g.Grantee.ARN()
	l := p.evaluate("IAM policies", target, policies, needs, p.keyGrants())
	if gr.Boundary != nil {
		p.checkBoundary(target, gr.Boundary, needs)
	}
	var current *policy.Document
	for _, np := range gr.Inline {
		if np.Name == p.g.IAMPolicyName {
			current = np.Doc
		}
	}
	c, err := p.policyChange(KindIAMPolicy, p.g.Grantee.Account, target, current, l.needs(), l.grantedBy())
	if err != nil {
		return err
	}
	c.PolicyName = p.g.IAMPolicyName
	grantee := p.g.Grantee
	c.Grantee = &grantee
	var folded []Change
	if c.Writes() && p.g.IAMPolicyName == IAMPolicyName {
		folded = p.foldLegacy(&c, gr)
	}
	p.r.Changes = append(append(p.r.Changes, c), folded...)
	return nil
}

// foldLegacy moves into c, the change of the grantee's IAMPolicyName
// policy, the statements kmsgrant wrote into its inline policies of one
// bucket each (LegacyIAMPolicyName), and returns the changes that take
// them out: a policy left with none of its own is deleted, one that holds
// others' statements too keeps those. It runs only where c is written
// anyway: a grant that needs nothing changes nothing. The grantee's access
// is the same, since IAM reads its inline policies together.
func (p *planner) foldLegacy(c *Change, gr *Grantee) []Change {
	f := newFactoring(KindIAMPolicy)
	var out []Change
	for _, np := range gr.Inline {
		bucket, ok := legacyBucket(np.Name)
		if np.Doc == nil || !ok {
			continue
		}
		var moved, kept []policy.Statement
		for _, st := range np.Doc.Statements {
			// Only what kmsgrant wrote there for that bucket: a
			// policy a person named kmsgrant-SOMETHING for other
			// grants keeps them.
			if f.pristine(st) && onlyFor(st, bucket) {
				moved = append(moved, st)
			} else {
				kept = append(kept, st)
			}
		}
		if len(moved) == 0 {
			continue
		}
		c.added = append(moved, c.added...)
		c.Policy = appended(c.Policy, moved)
		legacy := Change{Kind: KindIAMPolicy, Account: c.Account, Target: c.Target, PolicyName: np.Name, Grantee: c.Grantee,
			Before: np.Doc.Pretty(), foldsInto: c.PolicyName, Reason: fmt.Sprintf("its kmsgrant statements move into inline policy %s, which holds every grant kmsgrant makes the %s", IAMPolicyName, p.g.Grantee.Kind)}
		if len(kept) == 0 {
			legacy.Action = Delete
			legacy.Reason += "; left with no statement, it is deleted"
		} else {
			doc := np.Doc.Clone()
			doc.Statements = kept
			legacy.Action, legacy.Policy, legacy.After = Update, doc, doc.Pretty()
		}
		out = append(out, legacy)
	}
	return out
}

// identityPolicies are the grantee's inline, attached and group policies,
// named for reports; one that could not be read is warned about.
func (p *planner) identityPolicies(gr *Grantee) []eval.Policy {
	var policies []eval.Policy
	for _, np := range gr.Inline {
		policies = append(policies, eval.Policy{Name: fmt.Sprintf("inline policy %q", np.Name), Kind: eval.Identity, Doc: np.Doc})
	}
	for _, np := range gr.Attached {
		target := np.Name
		np.Name = "attached policy " + np.Name
		policies = p.readable(policies, np, target)
	}
	for _, grp := range gr.Groups {
		for _, np := range grp.Inline {
			np.Name = fmt.Sprintf("group %s inline policy %q", grp.Name, np.Name)
			policies = p.readable(policies, np, p.g.Grantee.ARN())
		}
		for _, np := range grp.Attached {
			target := np.Name
			np.Name = fmt.Sprintf("group %s attached policy %s", grp.Name, np.Name)
			policies = p.readable(policies, np, target)
		}
	}
	return policies
}

// readable adds an identity policy to those evaluated, or, when its
// document could not be read, warns that it was not checked: it could deny.
// target is the policy's ARN where it has one.
func (p *planner) readable(policies []eval.Policy, np NamedPolicy, target string) []eval.Policy {
	if np.Doc == nil {
		p.warn(CodePolicyUnreadable, target,
			fmt.Sprintf("%s could not be read, so whether it allows or denies the grant is not checked", np.Name),
			"add the policy document to the state file (managed_policies) or allow iam:GetPolicyVersion")
		return policies
	}
	return append(policies, eval.Policy{Name: np.Name, Kind: eval.Identity, Doc: np.Doc})
}

func (p *planner) checkBoundary(target string, boundary *NamedPolicy, needs []need) {
	if boundary.Doc == nil {
		p.readable(nil, NamedPolicy{Name: "permissions boundary " + boundary.Name}, boundary.Name)
		return
	}
	policies := []eval.Policy{{Name: "permissions boundary " + boundary.Name, Kind: eval.Identity, Doc: boundary.Doc}}
	if l := p.evaluate("permissions boundary", target, policies, needs, nil); len(l.Missing) > 0 {
		p.block(CodeBoundaryDenies, target,
			fmt.Sprintf("permissions boundary %s does not allow %s, and no identity policy can go beyond it", boundary.Name, strings.Join(l.missingActions(), ", ")),
			"extend the boundary to allow these actions on the bucket and key, or ask whoever owns it")
	}
}

// manualIAM plans the IAM statements an account's administrator must attach
// themselves: kmsgrant cannot write in an account it was only given the ID of.
func (p *planner) manualIAM(needs []need) error {
	sts, err := statements(KindIAMPolicy, needs, "", p.sc)
	if err != nil {
		return err
	}
	target := p.g.Grantee.ARN()
	c := Change{
		Kind: KindIAMPolicy, Account: p.g.Grantee.Account, Target: target, PolicyName: p.g.IAMPolicyName,
		Action: Manual, Policy: appended(nil, sts), added: sts,
	}
	if p.g.Grantee.Kind == arns.Account {
		c.Reason = "the grantee is a whole account: its administrator must attach this policy to the roles or users that read the bucket"
		p.warn(CodeManualIAM, target,
			fmt.Sprintf("account %s's IAM policies are not planned; attach the manual iam_policy shown to each principal that needs access", p.g.Grantee.Account),
			"grant a specific role or user ARN instead to have kmsgrant write the IAM side too")
	} else {
		c.Reason = fmt.Sprintf("the %s's IAM policies could not be read, so whether they already allow the grant is unknown: attach this policy to it unless they do", p.g.Grantee.Kind)
		p.warn(CodeManualIAM, target,
			fmt.Sprintf("the IAM side of %s was not planned: its policies could not be read", target),
			"give kmsgrant read access to IAM in account "+p.g.Grantee.Account+" to have it plan and write the IAM side too")
	}
	p.r.Changes = append(p.r.Changes, c)
	return nil
}

// policyChange plans one policy document: no-op when nothing is missing,
// otherwise the document with the missing statements merged in.
func (p *planner) policyChange(kind, account, target string, current *policy.Document, missing []need, grantedBy []string) (Change, error) {
	c := Change{Kind: kind, Account: account, Target: target}
	if current != nil && !p.inBatch {
		c.Before = current.Pretty()
	}
	if len(missing) == 0 {
		c.Action, c.After, c.Policy, c.base = NoOp, c.Before, current, current
		c.Reason = "already grants access: " + strings.Join(grantedBy, "; ")
		return c, nil
	}
	principal := p.g.Grantee.ARN()
	sts, err := statements(kind, missing, principal, p.sc)
	if err != nil {
		return Change{}, err
	}
	for _, sid := range editedStatements(current, sts) {
		p.warn(CodeEditedStatement, target,
			fmt.Sprintf("statement %q of the %s carries kmsgrant's Sid but was changed after kmsgrant wrote it; kmsgrant leaves it as it is and adds its own statement", sid, strings.ReplaceAll(kind, "_", " ")),
			"remove the changed statement if it is no longer needed")
	}
	// Merged into current at the end (finish); appended, the statements
	// already grant what a later grant of a batch is evaluated against.
	c.Policy, c.base, c.added = appended(current, sts), current, sts
	c.Action = Update
	if current == nil {
		c.Action = Create
	}
	c.Reason = grantsReason(sts)
	return c, nil
}

// grantsReason says what statements grant: their actions and Sids.
func grantsReason(sts []policy.Statement) string {
	actions, sids := actionsAndSids(sts)
	return fmt.Sprintf("grants %s (%s)", strings.Join(actions, ", "), strings.Join(sids, ", "))
}

// statementActions are the actions and the Sids of statements.
func actionsAndSids(sts []policy.Statement) (actions, sids []string) {
	for _, st := range sts {
		actions = append(actions, st.Action.List...)
		sids = append(sids, st.Sid)
	}
	return unique(actions), sids
}

// appended is doc with statements added: what they grant, without the
// work of merging them. It is only evaluated, never written. A statement
// of the same Sid and shape as one already there has only its principals
// added to that one, so that a batch's grants of
// one prefix to hundreds of grantees evaluate one statement, not hundreds.
func appended(doc *policy.Document, sts []policy.Statement) *policy.Document {
	out := doc.Clone()
	if out == nil {
		out = policy.New()
	}
	for _, st := range sts {
		i := slices.IndexFunc(out.Statements, func(s policy.Statement) bool { return s.Sid == st.Sid && sameShape(s, st) })
		if i < 0 || st.Principal == nil || out.Statements[i].Principal == nil {
			if i < 0 {
				out.Append(st)
			}
			continue
		}
		joined := out.Statements[i].Clone()
		aws := append(slices.Clone(joined.Principal.AWS()), st.Principal.AWS()...)
		joined.Principal.Types["AWS"] = policy.Strings(aws...)
		out.Statements[i] = joined
	}
	return out
}

func nonSpace(b []byte) int {
	n := 0
	for _, r := range string(b) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func unique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// networkKeys describe the network a request comes from. The KMS request S3
// makes to decrypt an object for a reader comes from S3, not from the
// reader's network.
var networkKeys = []string{"aws:sourcevpce", "aws:sourcevpc", "aws:sourceip", "aws:vpcsourceip"}

// checkNetworkConditions warns of key policy Allows that would grant the
// reader but for a condition on its network: they do not serve reads
// through S3, whose Decrypt call does not come from the reader's network
// ("Using VPC endpoint conditions in policies with AWS KMS permissions" and
// "Using the IP address condition in policies with AWS KMS permissions",
// AWS KMS Developer Guide). kmsgrant adds its own statement, conditioned on
// kms:ViaService, instead.
func (p *planner) checkNetworkConditions(l *Layer) {
	for _, ref := range l.MaybeAllowedBy {
		st, err := policy.ParseStatement([]byte(ref.Statement))
		if err != nil {
			continue
		}
		var keys []string
		for _, c := range st.Condition {
			if k := strings.ToLower(c.Key); slices.Contains(networkKeys, k) && !slices.Contains(keys, c.Key) {
				keys = append(keys, c.Key)
			}
		}
		if len(keys) == 0 {
			continue
		}
		p.warn(CodeNetworkCondition, l.Target,
			fmt.Sprintf("%s of the %s allows only requests from a network (%s), but the Decrypt S3 makes for the reader comes from S3, not from the reader's network, so it does not serve reads through S3 (AWS KMS Developer Guide: \"Using VPC endpoint conditions in policies with AWS KMS permissions\")",
				ref.Label, ref.Policy, strings.Join(keys, ", ")),
			"keep the network condition for direct KMS calls; kmsgrant's statement, conditioned on kms:ViaService, serves reads through S3")
	}
}

// keyGrants are the grants of the key the grant is about, if any.
func (p *planner) keyGrants() []KMSGrant {
	switch {
	case p.grantsAfter != nil:
		return p.grantsAfter
	case p.in.Key == nil:
		return nil
	}
	return p.in.Key.Grants
}

// withGrants adds to a layer's decision on a KMS request what the key's
// grants allow: a grant that surely allows makes the request allowed
// (denies are unchanged: they win over any allow), one that might is
// reported as a possible allow.
func withGrants(d eval.Decision, grants []KMSGrant, req eval.Request) eval.Decision {
	if d.Allowed == eval.Yes || !strings.HasPrefix(req.Action, "kms:") {
		return d
	}
	for _, g := range grants {
		switch grantAllows(g, req) {
		case eval.Yes:
			d.Allowed = eval.Yes
			d.AllowedBy = append([]eval.Ref{grantRef(g, eval.Yes)}, d.AllowedBy...)
			return d
		case eval.Maybe:
			d.Allowed = max(d.Allowed, eval.Maybe)
			d.AllowedBy = append(d.AllowedBy, grantRef(g, eval.Maybe))
		}
	}
	return d
}

// onlyFor reports whether a statement of an identity policy is about bucket
// alone: every S3 ARN it names, as a resource or as the encryption context
// it decrypts for, is the bucket's or under it, and it names one.
func onlyFor(st policy.Statement, bucket string) bool {
	values := slices.Clone(st.Resource.List)
	if c := scopeCondition(st); c >= 0 {
		values = append(values, st.Condition[c].Values.List...)
	}
	seen := false
	for _, v := range values {
		_, rest, isS3 := strings.Cut(v, ":s3:::")
		if !isS3 {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		if name != bucket {
			return false
		}
		seen = true
	}
	return seen
}
