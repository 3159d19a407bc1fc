package generate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/eval"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Check statuses of an explanation.
const (
	Pass       = "PASS"
	Fail       = "FAIL"
	Warn       = "WARN"
	NotChecked = "NOT CHECKED"
)

// Check is one layer of the answer to "why is this read denied?".
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	// Policy and Statement name the deciding statement, when one decides.
	Policy    string `json:"policy,omitempty"`
	Statement string `json:"statement,omitempty"`
	Fix       string `json:"fix,omitempty"`
	// Cited marks the checks of the layer AWS named as the reason of a
	// denied call explain was given (see Cite).
	Cited bool `json:"cited,omitempty"`

	// lacksAllow marks a layer that fails only because nothing in it
	// allows: within one account another layer's allow may do instead.
	lacksAllow bool
	// actions are the actions a FAIL or WARN of a layer is about.
	actions []string
}

// Explanation walks every layer a cross-account read through KMS passes.
type Explanation struct {
	Grant  Resolved `json:"grant"`
	Object string   `json:"object,omitempty"`
	// VersionID is the object version explained, when one was asked.
	VersionID string  `json:"version_id,omitempty"`
	Checks    []Check `json:"checks"`
	Allowed   bool    `json:"allowed"`
	Verdict   string  `json:"verdict"`
	// Fixable is set when kmsgrant's plan of the same grant adds what is
	// missing and nothing blocks it, so that running it is the fix.
	Fixable bool `json:"fixable"`

	// Message is what AWS said of the denied call, when explain was
	// given its message or CloudTrail record.
	Message *Citation `json:"message,omitempty"`
}

// Target is what explain asks about within the grant's bucket: every
// object under the grant's prefix (Key ""), one object, or one version of
// one object.
type Target struct {
	Key       string
	VersionID string
}

// Controls are the policies kmsgrant cannot read by itself but a person can
// hand it: a service control policy of the grantee's organization, a
// resource control policy of the owner's, a VPC endpoint policy. Each that
// is given is evaluated; the others are listed as not checked.
type Controls struct {
	SCP, RCP, VPCEndpoint *policy.Document
}

// Explain decides, layer by layer, whether the grantee can do what the
// grant describes (a read of object, or of every object under the prefix),
// and names the statement that decides each layer. It is made from the
// same evaluation as the plan of the grant (each Layer the planner
// assesses), so explain and plan cannot disagree: the read is allowed
// exactly when the plan has nothing to add and nothing blocks it, and every
// Deny the plan reports is shown.
func Explain(g Grant, in Inputs, target Target, controls Controls) (*Explanation, error) {
	object := target.Key
	x := &Explanation{Object: object, VersionID: target.VersionID}
	add := func(c ...Check) { x.Checks = append(x.Checks, c...) }
	if in.Bucket == nil {
		add(Check{Name: "bucket", Status: Fail, Detail: bucketNotFound(g.Bucket) + didYouMean(in.NearBuckets), Fix: "check the bucket name"})
		return x.finish(), nil
	}
	p := &planner{g: g, in: in, r: &Result{}, object: object, version: target.VersionID, explaining: true}
	if err := p.run(); err != nil {
		return nil, err
	}
	p.finish()
	x.Grant = p.r.Grant
	if object != "" {
		x.Grant.ObjectsARN = strings.TrimSuffix(x.Grant.ObjectsARN, "*")
	}
	x.Fixable = len(p.r.Blockers) == 0 && p.r.writesAccess()
	if p.g.Grantee.Partition != p.sc.partition {
		add(Check{Name: "grantee", Status: Fail, Detail: p.r.Blockers[0].Message, Fix: p.r.Blockers[0].Fix})
		return x.finish(), nil
	}

	// 1. The object, or the objects under the prefix.
	if object != "" {
		add(p.objectCheck(object))
	} else {
		add(p.objectsChecks()...)
	}
	// 2. The key.
	keyChecked := in.Key != nil && in.KeyErr == nil
	add(p.keyCheck())
	// 3. to 5. The owner's resource policies, the grantee's own policies
	// and its boundary, as the plan assessed them.
	for _, l := range p.layers {
		add(p.layerChecks(l)...)
	}
	if !p.assessed("IAM policies") {
		add(Check{Name: "IAM policies", Status: NotChecked,
			Detail: "the grantee's IAM policies could not be read (or the grantee is a whole account)",
			Fix:    "read them with credentials of account " + p.g.Grantee.Account})
	}
	add(p.warningChecks()...)
	// 6. The default encryption trap.
	add(p.encryptionCheck())
	// 7. The organization's and the network's controls, where given;
	// what kmsgrant cannot see otherwise.
	needs := s3Needs(p.g, p.sc)
	if keyChecked {
		needs = append(needs, kmsNeeds(p.g, p.sc, p.bucketKey())...)
	}
	given := map[string]eval.Policy{}
	if controls.SCP != nil {
		// SCPs limit the grantee's own calls, as identity policies do.
		given["service control policies"] = eval.Policy{Name: "service control policy", Kind: eval.Identity, Doc: controls.SCP}
	}
	if controls.RCP != nil {
		given["resource control policies"] = eval.Policy{Name: "resource control policy", Kind: eval.Resource, Doc: controls.RCP}
	}
	if controls.VPCEndpoint != nil {
		given["VPC endpoint policies"] = eval.Policy{Name: "VPC endpoint policy", Kind: eval.Resource, Doc: controls.VPCEndpoint}
	}
	for _, f := range uncheckedControls() {
		pol, ok := given[f.Target]
		if !ok {
			add(Check{Name: f.Target, Status: NotChecked, Detail: f.Message, Fix: f.Fix})
			continue
		}
		layerNeeds := needs
		if f.Target == "VPC endpoint policies" {
			// The reader's VPC endpoint sees its own calls to S3; the
			// Decrypt S3 makes for it goes from S3 to KMS, not through
			// the reader's network ("Forward access sessions", IAM User
			// Guide).
			layerNeeds = s3Needs(p.g, p.sc)
		}
		l := p.assess(f.Target, f.Target, []eval.Policy{pol}, layerNeeds, nil)
		checks := p.layerChecks(l)
		if f.Target == "resource control policies" && (checks[0].lacksAllow || checks[0].Status == Pass) {
			// RCPs only deny: AWS attaches RCPFullAWSAccess, which
			// allows everything, wherever RCPs apply.
			checks[0] = Check{Name: f.Target, Status: Pass, Detail: "no statement of the resource control policy denies the read (RCPFullAWSAccess allows the rest)"}
		}
		add(checks...)
	}
	if p.g.Grantee.Account == in.Bucket.Account {
		p.sameAccount(x, controls, keyChecked)
	}
	return x.finish(), nil
}

// assessed reports whether the plan assessed a layer of that name.
func (p *planner) assessed(name string) bool {
	return slices.ContainsFunc(p.layers, func(l *Layer) bool { return l.Name == name })
}

// layerFixes say how to fix a layer that lacks an Allow.
var layerFixes = map[string]string{
	"bucket policy":        "kmsgrant plan adds the missing bucket policy statement",
	"key policy":           "kmsgrant plan adds the missing key policy statement",
	"IAM policies":         "kmsgrant plan adds the missing IAM statements",
	"permissions boundary": "extend the boundary to allow these actions on the bucket and key, or ask whoever owns it; no identity policy can go beyond it",
}

// layerChecks shows a layer as checks: FAIL for each Deny that surely
// applies, or else FAIL naming every request nothing surely allows, or
// else PASS with the statement that allows; and WARN for each Deny that
// might apply, whatever else the layer says, since plan reports those too.
func (p *planner) layerChecks(l *Layer) []Check {
	grantee := p.g.Grantee.ARN()
	var checks []Check
	for _, d := range l.Denies {
		if d.Sure() {
			checks = append(checks, Check{Name: l.Name, Status: Fail, Policy: d.Ref.Policy, Statement: d.Ref.Statement, actions: []string{d.Action},
				Detail: fmt.Sprintf("%s of the %s denies %s to %s", d.Ref.Label, d.Ref.Policy, d.Action, grantee),
				Fix:    "an Allow cannot override a Deny: narrow or remove that statement, or exempt the grantee from it"})
		}
	}
	switch {
	case len(checks) > 0:
	case len(l.Missing) > 0:
		fix, ok := layerFixes[l.Name]
		if !ok {
			fix = "ask whoever owns that policy to allow these actions"
		}
		c := Check{Name: l.Name, Status: Fail, Fix: fix, lacksAllow: true, actions: l.missingActions(),
			Detail: fmt.Sprintf("no statement of the %s allows %s to %s", l.Name, describeGaps(l.Missing), grantee)}
		if slices.ContainsFunc(l.Missing, func(g Gap) bool { return g.Maybe }) {
			c.Detail += " for certain (a statement might, on conditions kmsgrant cannot check)"
		}
		checks = append(checks, c)
	default:
		c := Check{Name: l.Name, Status: Pass, Detail: "allowed by " + strings.Join(l.grantedBy(), "; ")}
		if len(l.AllowedBy) > 0 {
			c.Policy, c.Statement = l.AllowedBy[0].Policy, l.AllowedBy[0].Statement
		}
		checks = append(checks, c)
	}
	for _, d := range l.Denies {
		if !d.Sure() {
			checks = append(checks, Check{Name: l.Name, Status: Warn, Policy: d.Ref.Policy, Statement: d.Ref.Statement, actions: []string{d.Action},
				Detail: fmt.Sprintf("%s of the %s may deny %s, on conditions kmsgrant cannot check or on part of the prefix", d.Ref.Label, d.Ref.Policy, d.Action),
				Fix:    "check that its conditions do not hold for the grantee's requests"})
		}
	}
	return checks
}

// describeGaps names the requests of gaps: each action with the resource
// it is on, resources shared by several actions said once.
func describeGaps(gaps []Gap) string {
	var order []string
	byResource := map[string][]string{}
	for _, g := range gaps {
		r := g.req.Resource.String()
		if _, ok := byResource[r]; !ok {
			order = append(order, r)
		}
		if !slices.Contains(byResource[r], g.req.Action) {
			byResource[r] = append(byResource[r], g.req.Action)
		}
	}
	var parts []string
	for _, r := range order {
		parts = append(parts, strings.Join(byResource[r], " and ")+" on "+r)
	}
	return strings.Join(parts, ", ")
}

// objectsChecks shows what the plan found of the objects under the prefix
// (another key, another owner, SSE-S3), as warnings.
func (p *planner) objectsChecks() []Check {
	var checks []Check
	for _, w := range p.r.Warnings {
		switch w.Code {
		case CodeObjectsOtherKey, CodeObjectsSSES3:
			checks = append(checks, Check{Name: "objects", Status: Warn, Detail: w.Message, Fix: w.Fix})
		case CodeObjectOwnership:
			checks = append(checks, Check{Name: "object ownership", Status: Warn, Detail: w.Message, Fix: w.Fix})
		}
	}
	return checks
}

// warningChecks shows the plan's warnings about a layer that its verdict
// does not say: the grantee's policies that could not be read (any could
// deny, and a boundary must allow too; within one account it limits what
// the resource policies grant a role as well), key policy Allows that hold
// only for a network S3's Decrypt does not come from, and grants that could
// not be read (one could allow what the key policy does not: not checked,
// never "denied").
func (p *planner) warningChecks() []Check {
	layerOf := map[string]Check{
		CodePolicyUnreadable: {Name: "IAM policies", Status: Warn},
		CodeNetworkCondition: {Name: "key policy", Status: Warn},
		CodeGrantsUnread:     {Name: "key grants", Status: NotChecked},
	}
	var checks []Check
	for _, w := range p.r.Warnings {
		if c, ok := layerOf[w.Code]; ok {
			c.Detail, c.Fix = w.Message, w.Fix
			checks = append(checks, c)
		}
	}
	return checks
}

// sameAccount revisits the checks of a grantee in the bucket's own account.
// There AWS allows a request when the identity policies or the resource
// policy allow it, rather than both; a KMS key policy must still allow,
// itself or by trusting the account ("Policy evaluation for requests within
// a single account", "Key policies in AWS KMS"). A layer that fails only for
// want of an allow passes when eval.Decide finds every request of it
// allowed through the other. kmsgrant's plan sets up cross-account access
// only, so fixes name the IAM policy instead.
func (p *planner) sameAccount(x *Explanation, controls Controls, keyChecked bool) {
	s3OK, kmsOK := p.allowedThroughAnyLayer(controls, keyChecked)
	// For each layer: why it is not needed when the other allows, and how
	// to fix it when nothing allows (kmsgrant plans cross-account access
	// only).
	type remedy struct{ notNeeded, fix string }
	remedies := map[string]remedy{
		"bucket policy": {fix: "within one account, allow these actions in the grantee's IAM policy, or name the grantee in the bucket policy"},
		"key policy": {fix: fmt.Sprintf("name the grantee in the key policy, or let it trust the account (Principal arn:%s:iam::%s:root) so that IAM policies count",
			p.sc.partition, p.sc.keyAccount)},
		"IAM policies": {fix: "within one account, allow these actions in the grantee's IAM policy"},
	}
	if s3OK {
		remedies["bucket policy"] = remedy{notNeeded: "not needed in the bucket's own account: the grantee's IAM policies allow the S3 requests"}
	}
	if s3OK && kmsOK {
		remedies["IAM policies"] = remedy{notNeeded: "not needed in the bucket's own account: what they do not allow, the bucket policy or the key policy allows by naming the grantee"}
	}
	for i, c := range x.Checks {
		r, layer := remedies[c.Name]
		switch {
		case !layer || c.Status != Fail || !c.lacksAllow:
		case r.notNeeded != "":
			x.Checks[i] = Check{Name: c.Name, Status: Pass, Detail: r.notNeeded}
		default:
			x.Checks[i].Fix = r.fix
		}
	}
}

// allowedThroughAnyLayer decides, with eval.Decide over every layer, whether
// each S3 request and each KMS request of the grant is allowed. Without the
// grantee's IAM side nothing is.
func (p *planner) allowedThroughAnyLayer(controls Controls, keyChecked bool) (s3OK, kmsOK bool) {
	gr := p.in.Grantee
	if gr == nil {
		return false, false
	}
	layers := eval.Layers{ResourceAccount: p.in.Bucket.Account, Identity: p.identityPolicies(gr)}
	if gr.Boundary != nil && gr.Boundary.Doc != nil {
		layers.Boundary = &eval.Policy{Name: "permissions boundary " + gr.Boundary.Name, Kind: eval.Identity, Doc: gr.Boundary.Doc}
	}
	if controls.SCP != nil {
		layers.SCP = &eval.Policy{Name: "service control policy", Kind: eval.Identity, Doc: controls.SCP}
	}
	if controls.RCP != nil {
		layers.RCP = &eval.Policy{Name: "resource control policy", Kind: eval.Resource, Doc: controls.RCP}
	}
	allowed := func(l eval.Layers, needs []need) bool {
		for _, n := range needs {
			if eval.Decide(l, n.req).Result() != "Allowed" {
				return false
			}
		}
		return true
	}
	s3 := layers
	s3.Resource = &eval.Policy{Name: "bucket policy", Kind: eval.Resource, Doc: p.in.Bucket.Policy}
	s3OK, kmsOK = allowed(s3, s3Needs(p.g, p.sc)), true
	if keyChecked {
		k := layers
		k.Resource = &eval.Policy{Name: "key policy", Kind: eval.Resource, Doc: p.in.Key.Policy}
		k.KMSKey, k.ResourceAccount = true, p.in.Key.Account
		kmsOK = allowed(k, kmsNeeds(p.g, p.sc, p.bucketKey()))
	}
	return s3OK, kmsOK
}

func (x *Explanation) finish() *Explanation {
	x.Allowed = true
	var failed []string
	for _, c := range x.Checks {
		if c.Status == Fail {
			x.Allowed = false
			failed = append(failed, c.Name)
		}
	}
	if x.Allowed {
		x.Verdict = "allowed, as far as kmsgrant can see (it cannot see what is listed as NOT CHECKED)"
	} else {
		x.Verdict = "denied by: " + strings.Join(failed, ", ")
	}
	return x
}

func (p *planner) objectCheck(object string) Check {
	c := Check{Name: "object"}
	o, ok := p.in.Bucket.Objects[object]
	if p.version != "" {
		// Each version keeps the encryption it was written with.
		o, ok = o.Versions[p.version]
		object += " version " + p.version
	}
	switch {
	case !ok:
		c.Status, c.Detail = NotChecked, fmt.Sprintf("nothing is known of %s (with live AWS, --check-objects reads it)", object)
	case strings.HasPrefix(o.Algorithm, "aws:kms") && p.in.Key == nil && p.in.KeyErr == nil:
		c.Status, c.Detail = Warn, fmt.Sprintf("%s is encrypted with %s, but the grant names no KMS key, so whether the grantee may use that key is not checked", object, encryptionOf(o))
		c.Fix = "explain again with --key " + o.KMSKeyID
	case strings.HasPrefix(o.Algorithm, "aws:kms") && p.in.Key != nil && o.KMSKeyID != p.in.Key.ARN:
		c.Status, c.Detail = Fail, fmt.Sprintf("%s is encrypted with %s, not %s", object, o.KMSKeyID, p.in.Key.ARN)
		c.Fix = otherKeyFix([]string{o.KMSKeyID}, p.in.Bucket.Account, "the object onto itself")
	case o.Owner != "" && o.Owner != p.in.Bucket.Account && p.in.Bucket.Ownership != "BucketOwnerEnforced":
		c.Status, c.Detail = Fail, fmt.Sprintf("%s belongs to another account (%s); the bucket policy does not cover it", object, o.Owner)
		c.Fix = "set object ownership to BucketOwnerEnforced"
	default:
		c.Status, c.Detail = Pass, fmt.Sprintf("%s exists, is the bucket owner's, and is encrypted with %s", object, encryptionOf(o))
	}
	return c
}

// encryptionOf names an object's encryption the way S3's documentation
// does.
func encryptionOf(o Object) string {
	switch o.Algorithm {
	case "AES256":
		return "SSE-S3"
	case "aws:kms":
		return "SSE-KMS, key " + o.KMSKeyID
	case "aws:kms:dsse":
		return "DSSE-KMS, key " + o.KMSKeyID
	}
	return cmp.Or(o.Algorithm, "no encryption reported")
}

func (p *planner) keyCheck() Check {
	c := Check{Name: "key"}
	for _, b := range p.r.Blockers {
		switch b.Code {
		case CodeAWSManagedKey, CodeKeyDisabled, CodeRegionMismatch, CodeKeyNotFound, CodeAliasNotFound:
			c.Status, c.Detail, c.Fix = Fail, b.Message, b.Fix
			return c
		}
	}
	if p.in.Key == nil {
		c.Status, c.Detail = Pass, "the bucket uses SSE-S3: reads need no KMS permission"
		return c
	}
	c.Status, c.Detail = Pass, fmt.Sprintf("%s is a customer managed key, enabled, in %s", p.in.Key.ARN, p.in.Key.Region)
	return c
}

func (p *planner) encryptionCheck() Check {
	c := Check{Name: "default encryption"}
	e := p.in.Bucket.Encryption
	switch {
	case e == nil || e.Algorithm == "AES256":
		c.Status, c.Detail = Pass, "SSE-S3: new objects need no KMS permission to read"
	case e.KMSMasterKeyID == "":
		c.Status, c.Detail = Warn, "aws:kms without a key: new objects use the AWS managed key aws/s3, which no other account can use"
		c.Fix = "set the bucket's default encryption to a customer managed key's full ARN"
	case !arns.IsFullKeyARN(e.KMSMasterKeyID):
		c.Status, c.Detail = Warn, fmt.Sprintf("names the key as %q, which resolves in the caller's account: objects other accounts write get their own key of that name", e.KMSMasterKeyID)
		c.Fix = "kmsgrant plan changes it to the full key ARN"
	default:
		c.Status, c.Detail = Pass, "names the key by its full ARN"
	}
	return c
}
