package generate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Action is what a plan does to one target.
type Action string

// The actions of a change. Manual changes are for a person to make: the
// grantee is a whole account, whose IAM policies kmsgrant cannot write.
const (
	Create Action = "create"
	Update Action = "update"
	NoOp   Action = "no-op"
	Manual Action = "manual"
)

// Change is the planned change of one document.
type Change struct {
	Kind    string
	Account string
	Target  string
	// PolicyName names the inline policy of an iam_policy change.
	PolicyName string
	Action     Action
	// Before and After are the canonical pretty JSON of the document; ""
	// when there is none.
	Before string
	After  string
	// Reason says in words why the change is needed or not.
	Reason string
	// Policy is the document to write for policy changes.
	Policy *policy.Document
	// Encryption is the configuration to write for bucket_encryption.
	Encryption *Encryption
	// KeyGrants are, for key_grants, every grant of kmsgrant's the key is
	// to have: a write creates those it lacks and revokes its others.
	KeyGrants []KMSGrant
	// Grantee is the role or user an iam_policy change is written to.
	Grantee *arns.Principal
	// Size is the document's size after the change against AWS's limit,
	// counted the way AWS counts it; nil where no policy is written.
	Size *Size

	// base and added, while a plan is made, are the document as read and
	// the statements a grant adds to it: Policy holds them appended, which
	// is enough to evaluate later grants of a batch against, and finish
	// merges them into base once, at the end.
	base  *policy.Document
	added []policy.Statement
	// unchanged, when set, is the reason finish gives where the merged
	// document is the one read.
	unchanged string
	// foldsInto, on the change of an inline policy of one bucket from
	// before IAMPolicyName, names the policy its statements move into
	// (see foldLegacy).
	foldsInto string
}

// Size is how large a document is against the limit AWS sets for it.
type Size struct {
	Used  int `json:"used"`
	Limit int `json:"limit"`
	// Unit is "bytes", or "non-whitespace characters" for IAM, which
	// counts those; for inline policies, Used is every inline policy of
	// the role or user together, as IAM's limit is.
	Unit string `json:"unit"`
}

// Units of a Size.
const (
	UnitBytes = "bytes"
	UnitChars = "non-whitespace characters"
)

// Over reports whether the size is over its limit.
func (s *Size) Over() bool { return s != nil && s.Used > s.Limit }

// actionFor is the action that makes a document's text before into after
// ("" for no document).
func actionFor(before, after string) Action {
	switch {
	case after == before:
		return NoOp
	case before == "":
		return Create
	case after == "":
		return Delete
	}
	return Update
}

// Writes reports whether applying the change writes anything.
func (c Change) Writes() bool {
	return c.Action == Create || c.Action == Update || c.Action == Delete
}

// Reversed is the change that undoes c once it has been written: its Before
// becomes the document to write, and a policy that had none is deleted. A
// rollback writes it, so both backends turn a change around the same way.
func (c Change) Reversed() (Change, error) {
	back := c
	back.Before, back.After = c.After, c.Before
	back.Policy, back.Encryption, back.KeyGrants = nil, nil, nil
	switch {
	case c.Kind == KindKeyGrants:
		grants, err := ParseGrantsJSON(c.Before)
		if err != nil {
			return c, fmt.Errorf("restoring %s of %s: %w", c.Kind, c.Target, err)
		}
		back.Action, back.KeyGrants = Update, grants
		if c.Before == "" {
			back.Action = Delete
		}
	case c.Kind == KindBucketEncryption:
		var e Encryption
		if err := json.Unmarshal([]byte(c.Before), &e); err != nil {
			return c, fmt.Errorf("restoring %s of %s: %w", c.Kind, c.Target, err)
		}
		back.Action, back.Encryption = Update, &e
	case c.Before == "":
		back.Action = Delete
	default:
		doc, err := policy.Parse([]byte(c.Before))
		if err != nil {
			return c, fmt.Errorf("restoring %s of %s: %w", c.Kind, c.Target, err)
		}
		back.Action, back.Policy = Update, doc
	}
	return back, nil
}

// Resolved is the grant with every name resolved to an ARN.
type Resolved struct {
	Bucket         string `json:"bucket"`
	BucketARN      string `json:"bucket_arn"`
	Prefix         string `json:"prefix"`
	ObjectsARN     string `json:"objects_arn"`
	Region         string `json:"region"`
	OwnerAccount   string `json:"owner_account"`
	KeyARN         string `json:"key_arn,omitempty"`
	Grantee        string `json:"grantee"`
	GranteeKind    string `json:"grantee_kind"`
	GranteeAccount string `json:"grantee_account"`
	// GranteeSession is the session of the grantee role that explain was
	// asked about, when it was given as a session ARN.
	GranteeSession string   `json:"grantee_session,omitempty"`
	Access         []string `json:"access"`
	IAMPolicyName  string   `json:"iam_policy_name"`
	// Via is "grant" for a grant whose key is granted by a KMS grant
	// (--via grant); empty for the key policy.
	Via string `json:"via,omitempty"`
}

// Result is a computed plan.
type Result struct {
	// Grant is the grant planned; for a batch, its first grant.
	Grant Resolved
	// Grants are a batch's grants, each resolved; empty for one grant.
	Grants []Resolved
	// Pruned are the grants kmsgrant wrote earlier that a batch takes
	// away (apply --prune), each resolved.
	Pruned   []Resolved
	Changes  []Change
	Blockers []Finding
	Warnings []Finding
	// NotChecked lists what takes part in the decision but is not visible
	// to kmsgrant.
	NotChecked []Finding
	// Operation is "grant" (the default when empty), "revoke" or
	// "restore".
	Operation string
}

// HasChanges reports whether applying the result would write anything.
func (r *Result) HasChanges() bool {
	for _, c := range r.Changes {
		if c.Writes() {
			return true
		}
	}
	return false
}

// writesAccess reports whether the result writes access anywhere: a change
// to write, other than naming the key by its full ARN in the bucket's
// default encryption (which grants nothing). Changes an administrator must
// make by hand are not counted: kmsgrant cannot see whether they are made.
func (r *Result) writesAccess() bool {
	for _, c := range r.Changes {
		if c.Writes() && c.Kind != KindBucketEncryption {
			return true
		}
	}
	return false
}

// Blocked returns a result that holds only one blocker, for problems found
// before anything could be read (a wildcard grantee, say).
func Blocked(f Finding) *Result {
	return &Result{Blockers: []Finding{f}}
}

// Changes computes the plan for a grant: the minimal change to each
// document, and what blocks the grant or deserves a warning.
func Changes(g Grant, in Inputs) (*Result, error) {
	p, err := planGrant(g, in, false)
	if err != nil {
		return nil, err
	}
	p.finish()
	if len(p.r.Blockers) > 0 {
		// A blocked plan writes nothing, so it shows nothing to write.
		p.r.Changes = nil
	}
	return p.r, nil
}

// planGrant plans a grant's statements without merging them: a batch
// plans many grants into the same documents and merges once (finish).
func planGrant(g Grant, in Inputs, inBatch bool) (*planner, error) {
	p := &planner{g: g, in: in, r: &Result{}, inBatch: inBatch}
	if err := p.run(); err != nil {
		return nil, err
	}
	return p, nil
}

// finish merges each change's statements into its document and sizes the
// documents against AWS's limits, with the grantee's inline policies as
// read.
func (p *planner) finish() {
	var inline map[string][]NamedPolicy
	if gr := p.in.Grantee; gr != nil {
		inline = map[string][]NamedPolicy{p.g.Grantee.ARN(): gr.Inline}
	}
	blockers, warnings := finish(p.r.Changes, inline)
	p.r.Blockers = append(p.r.Blockers, blockers...)
	p.r.Warnings = append(p.r.Warnings, warnings...)
}

type planner struct {
	g  Grant
	in Inputs
	r  *Result
	sc scope
	// layers are the policy layers assessed, in order, for explain.
	layers []*Layer
	// object, when set, narrows the grant to that one object key: explain
	// asks about one object's read (of version, when set).
	object, version string
	// explaining goes on assessing a grantee of the bucket's own account,
	// which a plan refuses, for explain to show.
	explaining bool
	// grantsAfter, once a KMS grant is planned (--via grant), are the
	// key's grants with it: the IAM layer counts them.
	grantsAfter []KMSGrant
	// inBatch leaves the text of the documents a grant changes (Before)
	// to Batch, which shows each document as first read once: a batch's
	// later grants see documents that earlier ones added to.
	inBatch bool
}

func (p *planner) block(code, target, msg, fix string) {
	p.r.Blockers = append(p.r.Blockers, Finding{Code: code, Target: target, Message: msg, Fix: fix})
}

func (p *planner) warn(code, target, msg, fix string) {
	p.r.Warnings = append(p.r.Warnings, Finding{Code: code, Target: target, Message: msg, Fix: fix})
}

// resolve fills in the scope and the resolved grant from the bucket (which
// must exist) and the key: plan, revoke and explain all start here.
func (p *planner) resolve() {
	b := p.in.Bucket
	partition := arns.PartitionOf(b.Region)
	if p.g.Grantee.Partition == "" {
		// A bare account ID is in the bucket's partition.
		p.g.Grantee.Partition = partition
	}
	p.sc = scope{
		partition:  partition,
		bucketARN:  arns.BucketARN(partition, b.Name),
		objectsARN: arns.BucketARN(partition, b.Name) + "/" + p.g.Prefix,
		prefix:     p.g.Prefix,
		region:     b.Region,
		owner:      b.Account,
	}
	if p.in.Key != nil {
		p.sc.keyARN, p.sc.keyAccount = p.in.Key.ARN, p.in.Key.Account
	}
	if p.object != "" {
		p.sc.objectsARN, p.sc.exact, p.sc.version = arns.BucketARN(partition, b.Name)+"/"+p.object, true, p.version
	}
	p.r.Grant = Resolved{
		Bucket: b.Name, BucketARN: p.sc.bucketARN, Prefix: p.g.Prefix, ObjectsARN: p.sc.objectsARN + "*",
		Region: b.Region, OwnerAccount: b.Account, KeyARN: p.sc.keyARN,
		Grantee: p.g.Grantee.ARN(), GranteeKind: string(p.g.Grantee.Kind), GranteeAccount: p.g.Grantee.Account, GranteeSession: p.g.Grantee.SessionARN(),
		Access: p.g.Access, IAMPolicyName: p.g.IAMPolicyName,
	}
	if p.g.Via == ViaGrant {
		p.r.Grant.Via = ViaGrant
	}
}

// bucketNotFound says a bucket does not exist; for a legacy name, where
// alone it could.
func bucketNotFound(name string) string {
	if arns.IsLegacyBucketName(name) {
		return fmt.Sprintf("bucket %q does not exist (a legacy name like it can only be a bucket created in %s before March 2018)", name, arns.LegacyBucketRegion)
	}
	return fmt.Sprintf("bucket %q does not exist", name)
}

func (p *planner) run() error {
	b := p.in.Bucket
	if b == nil {
		p.block(CodeBucketNotFound, p.g.Bucket, bucketNotFound(p.g.Bucket)+didYouMean(p.in.NearBuckets),
			"check the bucket name, and that the owner account's credentials or state file hold it")
		return nil
	}
	p.resolve()
	partition := p.sc.partition
	granteeARN := p.g.Grantee.ARN()
	switch {
	case p.g.Grantee.Partition != partition:
		p.block(CodeNotCrossAccount, granteeARN,
			fmt.Sprintf("grantee is in partition %s but the bucket is in %s; access cannot cross partitions", p.g.Grantee.Partition, partition),
			"grant a principal of the bucket's partition")
		return nil
	case p.g.Grantee.Account == b.Account:
		p.block(CodeNotCrossAccount, granteeARN,
			fmt.Sprintf("grantee is in the bucket's own account %s; kmsgrant sets up cross-account access", b.Account),
			"in one account an IAM policy is enough: allow s3:GetObject and kms:Decrypt on the key in the principal's own policy")
		if !p.explaining {
			return nil
		}
	}

	keyUsable := p.checkKey()
	p.checkObjects()
	if err := p.bucketPolicy(); err != nil {
		return err
	}
	if keyUsable {
		if err := p.keyPolicy(); err != nil {
			return err
		}
	}
	if err := p.iamPolicy(keyUsable); err != nil {
		return err
	}
	p.r.NotChecked = uncheckedControls()
	return nil
}

// uncheckedControls lists the policies that take part in the decision but
// that kmsgrant cannot read, so a plan never implies more than it knows.
func uncheckedControls() []Finding {
	return []Finding{
		{Code: CodeUncheckedControls, Target: "service control policies",
			Message: "SCPs of the grantee's organization can deny the read",
			Fix:     "ask the organization's administrators, or check with aws organizations list-policies-for-target"},
		{Code: CodeUncheckedControls, Target: "resource control policies",
			Message: "RCPs of the bucket owner's organization can deny the read",
			Fix:     "ask the owner organization's administrators"},
		{Code: CodeUncheckedControls, Target: "VPC endpoint policies",
			Message: "an S3 or KMS VPC endpoint policy on the grantee's network path can deny the read",
			Fix:     "check the endpoint policies of the VPCs the grantee reads from"},
		{Code: CodeUncheckedControls, Target: "session policies",
			Message: "a session policy passed when the grantee's role was assumed can narrow its access",
			Fix:     "check how the role is assumed (aws sts assume-role --policy)"},
	}
}

// checkKey checks the key and plans a bucket_encryption change where the
// default encryption names the key by alias or ID. It reports whether key
// statements should be planned.
func (p *planner) checkKey() bool {
	b, k := p.in.Bucket, p.in.Key
	if p.in.KeyErr != nil {
		p.keyNotResolved()
		return false
	}
	if k == nil {
		p.warn(CodeSSES3, p.sc.bucketARN,
			"the bucket's default encryption is SSE-S3 (or none), so reads need no KMS permission; no key policy change is planned",
			"pass --key if objects under the prefix are encrypted with a KMS key")
		return false
	}
	usable := true
	switch {
	case k.Manager == KeyManagerAWS:
		p.block(CodeAWSManagedKey, k.ARN, "the key is AWS managed (such as aws/s3); "+awsManagedKeyProblem, awsManagedKeyFix)
		usable = false
	case k.State != KeyStateEnabled:
		p.block(CodeKeyDisabled, k.ARN, fmt.Sprintf("the key's state is %s; nothing can decrypt with it", k.State),
			"enable the key (aws kms enable-key), or cancel its deletion first if it is pending deletion")
	}
	if k.Region != b.Region {
		p.block(CodeRegionMismatch, k.ARN,
			fmt.Sprintf("the key is in %s but the bucket is in %s; S3 only uses keys of the bucket's Region", k.Region, b.Region),
			"use a key in "+b.Region+" (a multi-Region replica there has its own key policy)")
		usable = false
	}
	switch e := b.Encryption; {
	case e == nil || e.Algorithm == "AES256":
		p.warn(CodeOtherKey, p.sc.bucketARN,
			fmt.Sprintf("the bucket's default encryption is SSE-S3, so objects written without naming a key are not encrypted with %s", k.ARN),
			"set the bucket's default encryption to SSE-KMS with the key's full ARN if new objects should use it")
	case e.KMSMasterKeyID == "":
		p.warn(CodeOtherKey, p.sc.bucketARN,
			fmt.Sprintf("the bucket's default encryption uses the AWS managed key aws/s3, which no other account can use; objects written without naming a key are not encrypted with %s", k.ARN),
			"set the bucket's default encryption to the customer managed key's full ARN")
	}
	if b.Encryption != nil && b.Encryption.KMSMasterKeyID != "" {
		id := b.Encryption.KMSMasterKeyID
		if names(k, id) {
			if !arns.IsFullKeyARN(id) {
				fixed := *b.Encryption
				fixed.KMSMasterKeyID = k.ARN
				p.r.Changes = append(p.r.Changes, encryptionChange(b, p.sc.bucketARN, &fixed))
			}
		} else {
			p.warn(CodeOtherKey, p.sc.bucketARN,
				fmt.Sprintf("the bucket's default encryption names %s, not %s; objects written without naming a key use that one", id, k.ARN),
				"check which key the objects are really encrypted with (aws s3api head-object)")
		}
	}
	return usable
}

// keyNotResolved reports a key reference that names nothing. Key IDs and
// alias names resolve in the bucket owner's account and Region; ARNs name
// their own.
func (p *planner) keyNotResolved() {
	b, ref := p.in.Bucket, p.in.KeyRef
	where := fmt.Sprintf("account %s, %s", b.Account, b.Region)
	parsed, _ := arns.ParseKeyRef(ref)
	if parsed.Region != "" {
		where = fmt.Sprintf("account %s, %s", parsed.Account, parsed.Region)
	}
	switch {
	case errors.Is(p.in.KeyErr, ErrAWSManagedAlias), errors.Is(p.in.KeyErr, ErrAliasNotFound) && strings.HasPrefix(parsed.ID, "alias/aws/"):
		// alias/aws/* names are reserved for AWS managed keys, which exist
		// in every account once a service first uses them.
		p.block(CodeAWSManagedKey, ref, parsed.ID+" is an AWS managed key; "+awsManagedKeyProblem, awsManagedKeyFix)
	case errors.Is(p.in.KeyErr, ErrAliasNotFound):
		p.block(CodeAliasNotFound, ref,
			fmt.Sprintf("alias %s does not exist in %s (aliases resolve in the bucket owner's account and Region)%s", parsed.ID, where, didYouMean(p.in.NearKeys)),
			"name the key by its full key ARN, or create the alias in the bucket owner's account")
	default:
		p.block(CodeKeyNotFound, ref, fmt.Sprintf("key %s does not exist in %s", ref, where),
			"check the key ARN; key IDs resolve in the bucket owner's account and Region")
	}
}

const (
	awsManagedKeyProblem = "its key policy cannot be changed, so no other account can ever use it"
	awsManagedKeyFix     = "create a customer managed key, set it as the bucket's default encryption by ARN, and re-encrypt existing objects with it"
)

// names reports whether a key reference, as the bucket's default encryption
// holds it, names key k when resolved in the bucket owner's account.
func names(k *Key, ref string) bool {
	if ref == k.ARN {
		return true
	}
	parsed, err := arns.ParseKeyRef(ref)
	if err != nil {
		return false
	}
	switch parsed.Form {
	case arns.KeyID:
		return strings.HasSuffix(k.ARN, "key/"+ref)
	case arns.AliasName, arns.AliasARN:
		if parsed.Form == arns.AliasARN && (parsed.Account != k.Account || parsed.Region != k.Region) {
			return false
		}
		return slices.Contains(k.Aliases, parsed.ID)
	}
	return false
}

func encryptionChange(b *Bucket, target string, after *Encryption) Change {
	return Change{
		Kind: KindBucketEncryption, Account: b.Account, Target: target, Action: Update,
		Before:     EncryptionJSON(b.Encryption),
		After:      EncryptionJSON(after),
		Encryption: after,
		Reason: fmt.Sprintf("default encryption names the key as %q, which resolves in the caller's account: writers in other accounts would encrypt with their own key of that name",
			b.Encryption.KMSMasterKeyID),
	}
}

// checkObjects warns about known objects under the prefix that the grant
// will not make readable: other keys, other owners.
func (p *planner) checkObjects() {
	b := p.in.Bucket
	if b.Ownership != "BucketOwnerEnforced" {
		setting := b.Ownership
		if setting == "" {
			setting = "not configured"
		}
		p.warn(CodeObjectOwnership, p.sc.bucketARN,
			fmt.Sprintf("object ownership is %s, so ACLs are enabled: objects uploaded by other accounts belong to the uploader and the bucket policy does not cover them", setting),
			"set object ownership to BucketOwnerEnforced (aws s3api put-bucket-ownership-controls)")
	}
	var otherKey, otherKeyIDs, otherOwner, sseS3 []string
	keys := make([]string, 0, len(b.Objects))
	for k := range b.Objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, name := range keys {
		if !strings.HasPrefix(name, p.g.Prefix) {
			continue
		}
		o := b.Objects[name]
		if strings.HasPrefix(o.Algorithm, "aws:kms") && (p.in.Key == nil || o.KMSKeyID != p.in.Key.ARN) {
			keyID := o.KMSKeyID
			if keyID == "" {
				keyID = "aws/s3"
			}
			otherKey = append(otherKey, name+" ("+keyID+")")
			otherKeyIDs = append(otherKeyIDs, keyID)
		}
		if p.in.Key != nil && o.Algorithm == "AES256" {
			sseS3 = append(sseS3, name)
		}
		if o.Owner != "" && o.Owner != b.Account && b.Ownership != "BucketOwnerEnforced" {
			otherOwner = append(otherOwner, name)
		}
	}
	if len(otherKey) > 0 {
		p.warn(CodeObjectsOtherKey, p.sc.bucketARN,
			fmt.Sprintf("%d object(s) under the prefix are encrypted with another key and stay unreadable: %s", len(otherKey), examples(otherKey)),
			otherKeyFix(otherKeyIDs, b.Account, "the objects onto themselves"))
	}
	if len(sseS3) > 0 {
		p.warn(CodeObjectsSSES3, p.sc.bucketARN,
			fmt.Sprintf("%d object(s) under the prefix are encrypted with SSE-S3, not with the key: readable without it, and not protected by its policy: %s", len(sseS3), examples(sseS3)),
			"copy them onto themselves with SSE-KMS and the key's ARN if they should be")
	}
	if len(otherOwner) > 0 {
		p.warn(CodeObjectOwnership, p.sc.bucketARN,
			fmt.Sprintf("%d object(s) under the prefix belong to another account: %s", len(otherOwner), examples(otherOwner)),
			"set object ownership to BucketOwnerEnforced so the bucket owner owns every object")
	}
}

func examples(list []string) string {
	if len(list) > 3 {
		return strings.Join(list[:3], ", ") + fmt.Sprintf(" and %d more", len(list)-3)
	}
	return strings.Join(list, ", ")
}

// EncryptionJSON is the canonical text of a default encryption setting, as
// plans show and compare it; "" for none.
func EncryptionJSON(e *Encryption) string {
	if e == nil {
		return ""
	}
	// The struct's field order and tags give the state file's shape.
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("generate: marshalling an encryption setting: %v", err))
	}
	return string(b) + "\n"
}

// otherKeyFix says how objects encrypted with other keys become readable.
// kmsgrant can grant only keys of the bucket owner's account: a key of
// another account is its owner's to share.
func otherKeyFix(keyIDs []string, owner, copyWhat string) string {
	var foreign []string
	for _, id := range keyIDs {
		ref, err := arns.ParseKeyRef(id)
		if err == nil && ref.Account != "" && ref.Account != owner && !slices.Contains(foreign, ref.Account) {
			foreign = append(foreign, ref.Account)
		}
	}
	copyFix := "copy " + copyWhat + " with the bucket's key"
	if len(foreign) > 0 {
		return fmt.Sprintf("copy %s with the bucket's key; a key of account %s can only be shared by that account, in its own key policy (kmsgrant grants keys of the bucket owner's account)", copyWhat, strings.Join(foreign, ", "))
	}
	if len(keyIDs) == 1 && arns.IsFullKeyARN(keyIDs[0]) {
		return "grant that key too (--key " + keyIDs[0] + "), or " + copyFix
	}
	return "grant those keys too (--key), or " + copyFix
}
