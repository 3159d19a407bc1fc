package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// CloudFormationView is the plan as CloudFormation template fragments
// (plan --output cloudformation; see docs/json-plan.md): per change, the
// resources or statements to put in the template that manages the
// document.
type CloudFormationView struct {
	FormatVersion string             `json:"format_version"`
	Grant         *generate.Resolved `json:"grant"`
	// Grants are a batch's grants (see View.Grants).
	Grants     []generate.Resolved  `json:"grants,omitempty"`
	Changes    []CloudFormationPart `json:"changes"`
	Blockers   []generate.Finding   `json:"blockers"`
	Warnings   []generate.Finding   `json:"warnings"`
	NotChecked []generate.Finding   `json:"not_checked"`
	Validation []DocumentCheck      `json:"validation,omitempty"`
}

// How a CloudFormationPart goes into a template.
const (
	// MergeNone: nothing to add.
	MergeNone = "none"
	// MergeAppend: the document exists; append the Statement entries of
	// the fragment to the Statement list of the resource that manages
	// it. The fragment alone is not a whole document.
	MergeAppend = "append"
	// MergeResource: the resources are complete; add them to a template
	// of the account.
	MergeResource = "resource"
	// MergeProperty: set the property the fragment shows on the
	// resource that manages the target.
	MergeProperty = "property"
	// MergeOutside: CloudFormation cannot make the change (KMS grants
	// have no resource); the instructions say how to make it.
	MergeOutside = "outside"
)

// CloudFormationPart is one change of the plan as a CloudFormation
// fragment.
type CloudFormationPart struct {
	Kind       string          `json:"kind"`
	Account    string          `json:"account"`
	Target     string          `json:"target"`
	PolicyName string          `json:"policy_name,omitempty"`
	Action     generate.Action `json:"action"`
	Reason     string          `json:"reason"`
	// Merge is MergeNone, MergeAppend, MergeResource, MergeProperty or
	// MergeOutside.
	Merge        string `json:"merge"`
	Instructions string `json:"instructions"`
	// Replaces lists the Sids of appended statements that the document
	// holds already in another form: the appended one replaces it.
	Replaces []string `json:"replaces,omitempty"`
	// Removes lists the Sids of kmsgrant statements to take out of the
	// document: what they grant is in an appended statement now.
	Removes []string `json:"removes,omitempty"`
	// Resources maps logical IDs to resources, as a template's Resources
	// section does.
	Resources map[string]CloudFormationResource `json:"resources,omitempty"`
}

// CloudFormationResource is one resource of a template fragment.
type CloudFormationResource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// CloudFormation derives the CloudFormation fragments from the plan's
// changes.
func (p *Plan) CloudFormation() (*CloudFormationView, error) {
	changes, err := iacChanges(p.View)
	if err != nil {
		return nil, fmt.Errorf("rendering the plan for CloudFormation: %w", err)
	}
	v := p.View
	out := &CloudFormationView{
		FormatVersion: FormatVersion, Grant: v.Grant, Grants: v.Grants, Changes: []CloudFormationPart{},
		Blockers: v.Blockers, Warnings: v.Warnings, NotChecked: v.NotChecked, Validation: v.Validation,
	}
	labels := changeLabels(v, changes)
	for i, c := range changes {
		part := CloudFormationPart{Kind: c.Kind, Account: c.Account, Target: c.Target, PolicyName: c.PolicyName,
			Action: c.Action, Reason: c.Reason, Merge: MergeNone}
		cloudFormationChange(&part, c, labels[i])
		out.Changes = append(out.Changes, part)
	}
	return out, nil
}

// WriteCloudFormation writes the plan as CloudFormation fragments, one
// indented JSON document.
func (p *Plan) WriteCloudFormation(w io.Writer) error {
	v, err := p.CloudFormation()
	if err != nil {
		return err
	}
	return writeIndentedJSON(w, v)
}

func cloudFormationChange(part *CloudFormationPart, c iacChange, grantee string) {
	switch {
	case c.Action == generate.NoOp:
		part.Instructions = "Nothing to add."
		return
	case c.Kind == generate.KindKeyGrants:
		// CloudFormation has no resource for a KMS grant.
		var steps []string
		for _, g := range c.GrantsAdded {
			steps = append(steps, fmt.Sprintf("aws kms create-grant --key-id %s --grantee-principal %s --operations %s --name %s",
				c.Target, g.GranteePrincipal, strings.Join(g.Operations, " "), g.Name))
		}
		for _, g := range c.GrantsRevoked {
			steps = append(steps, fmt.Sprintf("revoke grant %s of %s (aws kms list-grants --key-id %s gives its ID; aws kms revoke-grant)", g.Name, g.GranteePrincipal, c.Target))
		}
		part.Merge = MergeOutside
		part.Instructions = "CloudFormation has no resource for KMS grants: make them with the AWS CLI, or with kmsgrant apply: " + strings.Join(steps, "; ") + "."
		return
	case c.Action == generate.Delete:
		part.Instructions = "Remove the resource that attaches " + policyLabel(c.ChangeView) + "."
		return
	case c.Kind == generate.KindBucketEncryption && c.Encryption != nil:
		part.Merge = MergeProperty
		part.Instructions = "Set BucketEncryption of the AWS::S3::Bucket " + bucketOf(c.Target) + " to this."
		def := map[string]any{"SSEAlgorithm": c.Encryption.Algorithm}
		if c.Encryption.KMSMasterKeyID != "" {
			def["KMSMasterKeyID"] = c.Encryption.KMSMasterKeyID
		}
		part.Resources = map[string]CloudFormationResource{
			logicalID("Kmsgrant", "bucket encryption", bucketOf(c.Target)): {Type: "AWS::S3::Bucket", Properties: map[string]any{
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"ServerSideEncryptionByDefault": def,
					"BucketKeyEnabled":              c.Encryption.BucketKeyEnabled,
				}}},
			}},
		}
		return
	case c.Doc == nil:
		return
	}
	statements := make([]json.RawMessage, len(c.Statements))
	for i, s := range c.Statements {
		statements[i] = json.RawMessage(s.String())
	}
	var doc any = map[string]any{"Statement": statements}
	if c.Whole {
		doc = c.After
	}
	typ, docProperty, props := cloudFormationResource(c)
	props[docProperty] = doc
	part.Resources = map[string]CloudFormationResource{
		logicalID("Kmsgrant", c.Kind, grantee): {Type: typ, Properties: props},
	}
	where := ""
	if c.Action == generate.Manual {
		where = " For the administrator of account " + c.Account + "."
	}
	if c.Whole {
		part.Merge = MergeResource
		part.Instructions = fmt.Sprintf("Add this %s to a template of account %s.%s", typ, c.Account, where)
		if typ == "AWS::IAM::ManagedPolicy" {
			part.Instructions += " Attach it to each role or user that reads the bucket (its Roles or Users)."
		}
		return
	}
	part.Merge = MergeAppend
	part.Replaces, part.Removes = c.Replaced, c.Removed
	if len(c.Statements) > 0 {
		part.Instructions = fmt.Sprintf("Append these statements to the Statement list of the %s of the %s that manages %s; "+
			"a statement whose Sid is there already replaces it. Not a whole document: do not deploy it on its own.", docProperty, typ, policyLabel(c.ChangeView))
	}
	if len(c.Removed) > 0 {
		part.Instructions = strings.TrimSpace(part.Instructions + fmt.Sprintf(" Take the statements listed in removes out of the Statement list of the %s of the %s that manages %s: kmsgrant's plan no longer has them (what they granted that stays is in the appended statements).", docProperty, typ, policyLabel(c.ChangeView)))
	}
}

// cloudFormationResource returns the resource type that manages a change's
// document, the property that holds the document, and its other
// properties.
func cloudFormationResource(c iacChange) (typ, docProperty string, props map[string]any) {
	switch c.Kind {
	case generate.KindBucketPolicy:
		return "AWS::S3::BucketPolicy", "PolicyDocument", map[string]any{"Bucket": bucketOf(c.Target)}
	case generate.KindKeyPolicy:
		return "AWS::KMS::Key", "KeyPolicy", map[string]any{}
	}
	p := c.Principal
	switch {
	case p == nil || p.Kind == arns.Account:
		return "AWS::IAM::ManagedPolicy", "PolicyDocument", map[string]any{"ManagedPolicyName": c.PolicyName}
	case p.Kind == arns.User:
		return "AWS::IAM::UserPolicy", "PolicyDocument", map[string]any{"PolicyName": c.PolicyName, "UserName": p.Name}
	}
	return "AWS::IAM::RolePolicy", "PolicyDocument", map[string]any{"PolicyName": c.PolicyName, "RoleName": p.Name}
}

// logicalID makes a CloudFormation logical ID (letters and digits only)
// from words: "Kmsgrant", "bucket_policy", "reader" give
// KmsgrantBucketPolicyReader.
func logicalID(words ...string) string {
	var b strings.Builder
	for _, w := range words {
		for _, part := range nameParts(w) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
