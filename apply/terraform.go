package apply

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// WriteTerraform renders the plan as what to put in a Terraform
// configuration (HCL, for the AWS provider), one section per change:
//
//   - for a document that exists, a data "aws_iam_policy_document" holding
//     exactly the statements kmsgrant adds, to be merged into the
//     document that makes the policy through override_policy_documents
//     (a comment names the resource it belongs to);
//   - for a document that does not exist yet, the document and the
//     resource that attaches it (aws_s3_bucket_policy, aws_iam_role_policy,
//     aws_iam_user_policy);
//   - for the bucket's default encryption, the
//     aws_s3_bucket_server_side_encryption_configuration rule naming the
//     key by its full ARN;
//   - for a manual change, what the grantee account's administrator adds.
//
// Findings of the plan (blockers, warnings, what was not checked) are
// comments at the top.
func (p *Plan) WriteTerraform(w io.Writer) error {
	changes, err := iacChanges(p.View)
	if err != nil {
		return fmt.Errorf("rendering the plan for Terraform: %w", err)
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	v := p.View
	comment(body, p.headline()...)
	comment(body, "Derived from the same plan as 'kmsgrant plan --output json'; kmsgrant writes none of it.")
	for _, fd := range v.Blockers {
		comment(body, fmt.Sprintf("Blocked: %s: %s", fd.Code, fd.Message))
	}
	for _, fd := range v.Warnings {
		comment(body, fmt.Sprintf("Warning: %s: %s", fd.Code, fd.Message))
	}
	for _, fd := range v.NotChecked {
		comment(body, fmt.Sprintf("Not checked: %s: %s", fd.Target, fd.Message))
	}
	for _, vd := range v.Validation {
		comment(body, "IAM Access Analyzer: "+vd.line())
	}
	if p.Blocked() {
		comment(body, "", fmt.Sprintf("Plan blocked by %d %s; nothing to add.", len(v.Blockers), plural(len(v.Blockers), "problem", "problems")))
	}
	names := terraformNames{used: map[string]bool{}}
	labels := changeLabels(v, changes)
	for i, c := range changes {
		body.AppendNewline()
		m := actionMarks[c.Action]
		comment(body, fmt.Sprintf("%s %s %s %s (account %s)", m.mark, c.Action, c.Kind, c.Target, c.Account))
		if c.Reason != "" {
			comment(body, "  "+c.Reason)
		}
		terraformChange(body, c, labels[i], &names)
	}
	_, err = w.Write(hclwrite.Format(f.Bytes()))
	return err
}

// headline is the grant in one or two lines, as the text plan starts.
func (p *Plan) headline() []string {
	g := p.View.Grant
	if n := len(p.View.Grants); n > 0 {
		return []string{fmt.Sprintf("kmsgrant plan: %d grants", n)}
	}
	if g == nil {
		return []string{"kmsgrant plan"}
	}
	lines := []string{fmt.Sprintf("kmsgrant plan: grant %s %s access to s3://%s/%s*", g.Grantee, strings.Join(g.Access, ","), g.Bucket, g.Prefix)}
	if g.KeyARN != "" {
		lines = append(lines, "  "+throughKey(g))
	}
	return lines
}

// terraformChange renders one change.
func terraformChange(body *hclwrite.Body, c iacChange, grantee string, names *terraformNames) {
	switch {
	case c.Action == generate.NoOp:
		comment(body, "  Nothing to add.")
		return
	case c.Kind == generate.KindKeyGrants:
		terraformGrants(body, c, names)
		return
	case c.Action == generate.Delete:
		comment(body, "  Remove the resource that attaches "+policyLabel(c.ChangeView)+".")
		return
	case c.Kind == generate.KindBucketEncryption && c.Encryption != nil:
		bucket := bucketOf(c.Target)
		comment(body, "  The default encryption of bucket "+bucket+": set the rule of its",
			"  aws_s3_bucket_server_side_encryption_configuration to this one.")
		r := body.AppendNewBlock("resource", []string{"aws_s3_bucket_server_side_encryption_configuration", names.name("kmsgrant", bucket)}).Body()
		r.SetAttributeValue("bucket", cty.StringVal(bucket))
		rule := r.AppendNewBlock("rule", nil).Body()
		def := rule.AppendNewBlock("apply_server_side_encryption_by_default", nil).Body()
		def.SetAttributeValue("sse_algorithm", cty.StringVal(c.Encryption.Algorithm))
		if c.Encryption.KMSMasterKeyID != "" {
			def.SetAttributeValue("kms_master_key_id", cty.StringVal(c.Encryption.KMSMasterKeyID))
		}
		rule.SetAttributeValue("bucket_key_enabled", cty.BoolVal(c.Encryption.BucketKeyEnabled))
		return
	case c.Doc == nil:
		return
	}
	docName := names.name("kmsgrant", c.Kind, grantee)
	ref := hcl.Traversal{hcl.TraverseRoot{Name: "data"}, hcl.TraverseAttr{Name: "aws_iam_policy_document"}, hcl.TraverseAttr{Name: docName}, hcl.TraverseAttr{Name: "json"}}
	resource, attach := terraformResource(c)
	if c.Action == generate.Manual {
		comment(body, "  For the administrator of account "+c.Account+" to add, with a provider for that account.")
	}
	switch {
	case c.Whole && resource == "aws_iam_policy":
		comment(body, "  The whole document, as an aws_iam_policy to attach to each role or user that",
			"  reads the bucket (aws_iam_role_policy_attachment, aws_iam_user_policy_attachment).")
	case c.Whole:
		comment(body, "  The whole document, and the "+resource+" that attaches it.")
	default:
		holder := resource
		if c.Kind == generate.KindKeyPolicy {
			holder += " (or the policy of its aws_kms_key)"
		}
		comment(body,
			"  The statements kmsgrant adds to "+policyLabel(c.ChangeView)+".",
			"  Merge them into the policy of its "+holder+", account "+c.Account+":",
			"  list this document in override_policy_documents of the aws_iam_policy_document",
			"  that makes that policy (for a policy written as JSON, make one with the JSON in",
			"  its source_policy_documents):",
			"    override_policy_documents = ["+string(hclwrite.TokensForTraversal(ref).Bytes())+"]")
		if len(c.Replaced) > 0 {
			comment(body, "  The policy holds "+strings.Join(c.Replaced, ", ")+" already: here the grantee joins it, and listed",
				"  after the document that holds it now, this one replaces it (same Sid).")
		}
		if len(c.Removed) > 0 {
			comment(body, "  Take "+strings.Join(c.Removed, ", ")+" out of the document that holds it now: kmsgrant's",
				"  plan no longer has it (what it granted that stays is in the statements below).")
		}
	}
	d := body.AppendNewBlock("data", []string{"aws_iam_policy_document", docName}).Body()
	if c.Whole {
		if c.Doc.Version != "" {
			d.SetAttributeValue("version", cty.StringVal(c.Doc.Version))
		}
		if c.Doc.ID != "" {
			d.SetAttributeValue("policy_id", cty.StringVal(c.Doc.ID))
		}
	}
	for _, s := range c.Statements {
		terraformStatement(d, s)
	}
	if !c.Whole {
		return
	}
	body.AppendNewline()
	// Blocks of different types may share a name: the resource takes its
	// document's.
	r := body.AppendNewBlock("resource", []string{resource, docName}).Body()
	for _, a := range attach {
		r.SetAttributeValue(a[0], cty.StringVal(a[1]))
	}
	r.SetAttributeTraversal("policy", ref)
}

// terraformResource names the resource that attaches a change's document
// and its arguments other than the policy.
func terraformResource(c iacChange) (string, [][2]string) {
	switch c.Kind {
	case generate.KindBucketPolicy:
		return "aws_s3_bucket_policy", [][2]string{{"bucket", bucketOf(c.Target)}}
	case generate.KindKeyPolicy:
		return "aws_kms_key_policy", [][2]string{{"key_id", c.Target}}
	}
	p := c.Principal
	switch {
	case p == nil || p.Kind == arns.Account:
		// An account grantee's administrator attaches a managed
		// policy to whichever roles or users read the bucket.
		return "aws_iam_policy", [][2]string{{"name", c.PolicyName}}
	case p.Kind == arns.User:
		return "aws_iam_user_policy", [][2]string{{"name", c.PolicyName}, {"user", p.Name}}
	}
	return "aws_iam_role_policy", [][2]string{{"name", c.PolicyName}, {"role", p.Name}}
}

// terraformStatement appends a statement block of aws_iam_policy_document.
func terraformStatement(d *hclwrite.Body, s policy.Statement) {
	st := d.AppendNewBlock("statement", nil).Body()
	if s.Sid != "" {
		st.SetAttributeValue("sid", cty.StringVal(s.Sid))
	}
	st.SetAttributeValue("effect", cty.StringVal(string(s.Effect)))
	for _, e := range []struct {
		name string
		v    policy.Values
	}{{"actions", s.Action}, {"not_actions", s.NotAction}, {"resources", s.Resource}, {"not_resources", s.NotResource}} {
		if e.v.IsSet() {
			st.SetAttributeValue(e.name, stringList(e.v.List))
		}
	}
	terraformPrincipals(st, "principals", s.Principal)
	terraformPrincipals(st, "not_principals", s.NotPrincipal)
	for _, c := range s.Condition {
		cb := st.AppendNewBlock("condition", nil).Body()
		cb.SetAttributeValue("test", cty.StringVal(c.Operator))
		cb.SetAttributeValue("variable", cty.StringVal(c.Key))
		cb.SetAttributeValue("values", stringList(c.Values.List))
	}
}

// terraformPrincipals appends one principals (or not_principals) block per
// principal type; "*" is type "*", as the provider documents for
// "Principal": "*".
func terraformPrincipals(st *hclwrite.Body, name string, p *policy.Principal) {
	if p == nil {
		return
	}
	if p.Wildcard {
		b := st.AppendNewBlock(name, nil).Body()
		b.SetAttributeValue("type", cty.StringVal("*"))
		b.SetAttributeValue("identifiers", stringList([]string{"*"}))
		return
	}
	for _, t := range principalTypes(p) {
		b := st.AppendNewBlock(name, nil).Body()
		b.SetAttributeValue("type", cty.StringVal(t))
		b.SetAttributeValue("identifiers", stringList(p.Types[t].List))
	}
}

// principalTypes orders a principal's types as policies write them: AWS,
// Service, Federated, CanonicalUser, then any other by name.
func principalTypes(p *policy.Principal) []string {
	order := []string{"AWS", "Service", "Federated", "CanonicalUser"}
	var out, rest []string
	for _, t := range order {
		if _, ok := p.Types[t]; ok {
			out = append(out, t)
		}
	}
	for t := range p.Types {
		if !slices.Contains(order, t) {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// comment appends "# line" comments, one per line; "" is an empty
// comment line.
func comment(body *hclwrite.Body, lines ...string) {
	var ts hclwrite.Tokens
	for _, l := range lines {
		text := "#"
		if l != "" {
			text += " " + l
		}
		ts = append(ts, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte(text + "\n")})
	}
	body.AppendUnstructuredTokens(ts)
}

// terraformNames hands out block names, each once: lower-case words of
// letters and digits joined by "_".
type terraformNames struct {
	used map[string]bool
}

func (n *terraformNames) name(parts ...string) string {
	var words []string
	for _, p := range parts {
		for _, w := range nameParts(p) {
			words = append(words, strings.ToLower(w))
		}
	}
	base := strings.Join(words, "_")
	name := base
	for i := 2; n.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	n.used[name] = true
	return name
}

// terraformGrants renders a key_grants change: an aws_kms_grant for each
// grant it makes, and the grants it revokes, to take out.
func terraformGrants(body *hclwrite.Body, c iacChange, names *terraformNames) {
	for _, g := range c.GrantsRevoked {
		comment(body, fmt.Sprintf("  Remove the aws_kms_grant %s of %s: kmsgrant's plan no longer has it.", g.Name, g.GranteePrincipal))
	}
	for _, g := range c.GrantsAdded {
		grantee := g.GranteePrincipal
		if p, err := arns.ParsePrincipal(grantee, ""); err == nil {
			grantee = p.Name
		}
		r := body.AppendNewBlock("resource", []string{"aws_kms_grant", names.name(g.Name, grantee)}).Body()
		r.SetAttributeValue("name", cty.StringVal(g.Name))
		r.SetAttributeValue("key_id", cty.StringVal(c.Target))
		r.SetAttributeValue("grantee_principal", cty.StringVal(g.GranteePrincipal))
		ops := make([]cty.Value, len(g.Operations))
		for i, op := range g.Operations {
			ops[i] = cty.StringVal(op)
		}
		r.SetAttributeValue("operations", cty.ListVal(ops))
	}
}
