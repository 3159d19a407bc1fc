package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// The Terraform and CloudFormation renderings are checked against the JSON
// plan: each is parsed back (HCL with hclparse/hclsyntax, CloudFormation as
// JSON) and its statements compared with what the JSON plan's changes add,
// worked out here from their before and after documents, not with the
// renderers' own helpers. So the renderings can never disagree with the
// plan.

// iacPlans are plans covering every shape a change takes.
func iacPlans(t *testing.T) map[string]*apply.Plan {
	t.Helper()
	plans := map[string]*apply.Plan{
		// Existing bucket and key policies, a new inline policy, the
		// default encryption.
		"role read": seedPlan(t, "arn:aws:iam::444455556666:role/reader"),
		// An account grantee: the IAM side is manual.
		"account read,list,write": seedPlan(t, "444455556666", "list", "read", "write"),
		// A user with a path.
		"user write": seedPlan(t, "arn:aws:iam::444455556666:user/team/alice", "read", "write"),
	}

	// No bucket policy yet: it is created.
	state := editedSeed(t, func(doc map[string]any) {
		delete(bucketOf(doc), "policy")
	})
	plans["no bucket policy"] = planState(t, state, "arn:aws:iam::444455556666:role/reader")

	// A second grantee with the same access joins kmsgrant's statements:
	// they change, and the Terraform merge replaces them by Sid.
	state, _ = seedWithReader(t)
	plans["second grantee"] = planState(t, state, "arn:aws:iam::444455556666:role/analyst")
	// The same again: nothing to do.
	plans["nothing to do"] = planState(t, state, "arn:aws:iam::444455556666:role/reader")
	return plans
}

// seedWithReader writes the seed state to a temporary file with the
// reader role's grant applied, and returns the file and that grant's plan.
func seedWithReader(t *testing.T) (string, *apply.Plan) {
	t.Helper()
	state := editedSeed(t, func(map[string]any) {})
	f, err := statefile.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	first := planState(t, state, "arn:aws:iam::444455556666:role/reader")
	if _, err := apply.Execute(context.Background(), f, first); err != nil {
		t.Fatal(err)
	}
	return state, first
}

func bucketOf(state map[string]any) map[string]any {
	return state["accounts"].(map[string]any)["111122223333"].(map[string]any)["buckets"].(map[string]any)["doc-example-bucket"].(map[string]any)
}

// editedSeed writes the seed state, changed by edit, to a temporary file.
func editedSeed(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile("../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// planState plans a read (or the given access) of reports/ in
// doc-example-bucket of the state file at path for grantee.
func planState(t testing.TB, path, grantee string, access ...string) *apply.Plan {
	t.Helper()
	f, err := statefile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := arns.ParsePrincipal(grantee, "aws")
	if err != nil {
		t.Fatal(err)
	}
	if len(access) == 0 {
		access = []string{"read"}
	}
	g := generate.Grant{Bucket: "doc-example-bucket", Prefix: "reports/", Grantee: p, Access: access, IAMPolicyName: "kmsgrant-doc-example-bucket"}
	plan, err := apply.NewPlan(context.Background(), f, g)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// jsonPlan is the JSON plan as a program reads it.
type jsonPlan struct {
	Changes []struct {
		Kind       string          `json:"kind"`
		Target     string          `json:"target"`
		PolicyName string          `json:"policy_name"`
		Action     string          `json:"action"`
		Before     json.RawMessage `json:"before"`
		After      json.RawMessage `json:"after"`
	} `json:"changes"`
}

func readJSONPlan(t *testing.T, p *apply.Plan) jsonPlan {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var jp jsonPlan
	if err := json.Unmarshal(b.Bytes(), &jp); err != nil {
		t.Fatal(err)
	}
	return jp
}

// expectation is what a rendering must carry for one policy change of the
// JSON plan.
type expectation struct {
	kind, target, policyName, action string
	// whole: the rendering carries the whole document (none before, or
	// manual); otherwise only the statements after holds and before
	// does not.
	whole      bool
	statements []any
	after      any
}

func expectations(t *testing.T, jp jsonPlan) []expectation {
	t.Helper()
	var out []expectation
	for _, c := range jp.Changes {
		if c.Kind == generate.KindBucketEncryption || (c.Action != "create" && c.Action != "update" && c.Action != "manual") {
			continue
		}
		e := expectation{kind: c.Kind, target: c.Target, policyName: c.PolicyName, action: c.Action,
			whole: string(c.Before) == "null" || c.Action == "manual"}
		after := documentStatements(t, c.After)
		if err := json.Unmarshal(c.After, &e.after); err != nil {
			t.Fatal(err)
		}
		held := map[string]int{}
		if !e.whole {
			for _, s := range documentStatements(t, c.Before) {
				held[canonicalJSON(t, s)]++
			}
		}
		for _, s := range after {
			if k := canonicalJSON(t, s); held[k] > 0 {
				held[k]--
				continue
			}
			e.statements = append(e.statements, normalized(s))
		}
		out = append(out, e)
	}
	return out
}

// documentStatements returns a document's statements, Statement being a
// list or one object.
func documentStatements(t *testing.T, raw json.RawMessage) []any {
	t.Helper()
	var doc struct {
		Statement any `json:"Statement"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if list, ok := doc.Statement.([]any); ok {
		return list
	}
	return []any{doc.Statement}
}

func canonicalJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// normalized turns every element AWS takes as a string or a list of
// strings into a list, so that statements are compared by meaning.
func normalized(statement any) any {
	s := statement.(map[string]any)
	out := map[string]any{}
	for k, v := range s {
		switch k {
		case "Action", "NotAction", "Resource", "NotResource":
			out[k] = asList(v)
		case "Principal", "NotPrincipal":
			if m, ok := v.(map[string]any); ok {
				p := map[string]any{}
				for typ, ids := range m {
					p[typ] = asList(ids)
				}
				v = p
			}
			out[k] = v
		case "Condition":
			c := map[string]any{}
			for op, keys := range v.(map[string]any) {
				ks := map[string]any{}
				for key, vals := range keys.(map[string]any) {
					ks[key] = asList(vals)
				}
				c[op] = ks
			}
			out[k] = c
		default:
			out[k] = v
		}
	}
	return out
}

func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

// terraform is a Terraform rendering parsed back.
type terraform struct {
	// docs are the data "aws_iam_policy_document" blocks by name.
	docs map[string]tfDoc
	// resources are "TYPE.NAME" to their attributes (strings, or the
	// policy's reference as text) and nested blocks flattened as
	// "rule.apply_server_side_encryption_by_default.kms_master_key_id".
	resources map[string]map[string]string
}

type tfDoc struct {
	version, id string
	statements  []any
	// source and override name the documents of source_policy_documents
	// and override_policy_documents.
	source, override []string
}

func parseTerraform(t *testing.T, src []byte) terraform {
	t.Helper()
	file, diags := hclparse.NewParser().ParseHCL(src, "plan.tf")
	if diags.HasErrors() {
		t.Fatalf("the Terraform output does not parse: %v\n%s", diags, src)
	}
	out := terraform{docs: map[string]tfDoc{}, resources: map[string]map[string]string{}}
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		switch {
		case b.Type == "provider":
		case b.Type == "data" && len(b.Labels) == 2 && b.Labels[0] == "aws_iam_policy_document":
			d := tfDoc{version: attrString(t, b.Body, "version"), id: attrString(t, b.Body, "policy_id"),
				source: documentRefs(t, b.Body, "source_policy_documents"), override: documentRefs(t, b.Body, "override_policy_documents")}
			for name := range b.Body.Attributes {
				switch name {
				case "version", "policy_id", "source_policy_documents", "override_policy_documents":
				default:
					t.Fatalf("data %s: attribute %q", b.Labels[1], name)
				}
			}
			for _, st := range b.Body.Blocks {
				if st.Type != "statement" {
					t.Fatalf("data %s: block %q, want statement blocks only", b.Labels[1], st.Type)
				}
				d.statements = append(d.statements, statementOf(t, st.Body))
			}
			out.docs[b.Labels[1]] = d
		case b.Type == "resource" && len(b.Labels) == 2:
			attrs := map[string]string{}
			flatten(t, b.Body, "", attrs)
			out.resources[b.Labels[0]+"."+b.Labels[1]] = attrs
		default:
			t.Fatalf("unexpected block %s %v", b.Type, b.Labels)
		}
	}
	return out
}

// documentRefs reads a list of data.aws_iam_policy_document.NAME.json
// references and returns the names.
func documentRefs(t *testing.T, body *hclsyntax.Body, name string) []string {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		return nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		t.Fatalf("%s: %v", name, diags)
	}
	var out []string
	for _, e := range exprs {
		trav, diags := hcl.AbsTraversalForExpr(e)
		if diags.HasErrors() || len(trav) != 4 || trav.RootName() != "data" {
			t.Fatalf("%s: want data.aws_iam_policy_document.NAME.json references", name)
		}
		out = append(out, trav[2].(hcl.TraverseAttr).Name)
	}
	return out
}

// merged is what the AWS provider makes of a document, as its
// documentation describes aws_iam_policy_document: the statements of
// source_policy_documents, then its own, then those of
// override_policy_documents, each replacing the statement of the same
// non-blank Sid or else added at the end. Without overrides, the document
// as it was before kmsgrant's statements were merged in.
func (tf terraform) merged(t *testing.T, name string, overrides bool) []any {
	t.Helper()
	d, ok := tf.docs[name]
	if !ok {
		t.Fatalf("no data.aws_iam_policy_document.%s", name)
	}
	var out []any
	for _, src := range d.source {
		out = append(out, tf.merged(t, src, overrides)...)
	}
	add := func(statements []any) {
		for _, st := range statements {
			sid, _ := st.(map[string]any)["Sid"].(string)
			replaced := false
			for i, have := range out {
				if sid != "" && have.(map[string]any)["Sid"] == sid {
					out[i], replaced = st, true
				}
			}
			if !replaced {
				out = append(out, st)
			}
		}
	}
	add(d.statements)
	if overrides {
		for _, o := range d.override {
			add(tf.merged(t, o, overrides))
		}
	}
	return out
}

// statementOf turns a statement block back into IAM's JSON, normalized.
func statementOf(t *testing.T, body *hclsyntax.Body) any {
	t.Helper()
	s := map[string]any{}
	for name, a := range body.Attributes {
		v := value(t, a.Expr)
		key := map[string]string{"sid": "Sid", "effect": "Effect", "actions": "Action", "not_actions": "NotAction",
			"resources": "Resource", "not_resources": "NotResource"}[name]
		if key == "" {
			t.Fatalf("statement attribute %q", name)
		}
		s[key] = v
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "principals", "not_principals":
			key := map[string]string{"principals": "Principal", "not_principals": "NotPrincipal"}[b.Type]
			typ := attrString(t, b.Body, "type")
			ids := value(t, b.Body.Attributes["identifiers"].Expr)
			if typ == "*" {
				s[key] = "*"
				continue
			}
			p, _ := s[key].(map[string]any)
			if p == nil {
				p = map[string]any{}
				s[key] = p
			}
			p[typ] = ids
		case "condition":
			c, _ := s["Condition"].(map[string]any)
			if c == nil {
				c = map[string]any{}
				s["Condition"] = c
			}
			op := attrString(t, b.Body, "test")
			keys, _ := c[op].(map[string]any)
			if keys == nil {
				keys = map[string]any{}
				c[op] = keys
			}
			keys[attrString(t, b.Body, "variable")] = value(t, b.Body.Attributes["values"].Expr)
		default:
			t.Fatalf("statement block %q", b.Type)
		}
	}
	if _, ok := s["Effect"]; !ok {
		s["Effect"] = "Allow" // the provider's default
	}
	return s
}

// value evaluates a literal expression, as Terraform would, into a string
// or a list of strings.
func value(t *testing.T, expr hclsyntax.Expression) any {
	t.Helper()
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("evaluating %T: %v", expr, diags)
	}
	if v.Type() == cty.String {
		return v.AsString()
	}
	if v.Type() == cty.Bool {
		return fmt.Sprint(v.True())
	}
	var list []any
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		list = append(list, e.AsString())
	}
	return list
}

func attrString(t *testing.T, body *hclsyntax.Body, name string) string {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		return ""
	}
	if trav, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() {
		var parts []string
		for _, step := range trav {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				parts = append(parts, s.Name)
			case hcl.TraverseAttr:
				parts = append(parts, s.Name)
			}
		}
		return strings.Join(parts, ".")
	}
	return value(t, a.Expr).(string)
}

func flatten(t *testing.T, body *hclsyntax.Body, prefix string, into map[string]string) {
	t.Helper()
	for name := range body.Attributes {
		into[prefix+name] = attrString(t, body, name)
	}
	for _, b := range body.Blocks {
		flatten(t, b.Body, prefix+b.Type+".", into)
	}
}

// resourceFor names the resource type a whole document is attached with,
// and the attributes it must have besides its policy.
func resourceFor(e expectation) (string, map[string]string) {
	switch e.kind {
	case generate.KindBucketPolicy:
		return "aws_s3_bucket_policy", map[string]string{"bucket": strings.TrimPrefix(e.target, "arn:aws:s3:::")}
	case generate.KindKeyPolicy:
		return "aws_kms_key_policy", map[string]string{"key_id": e.target}
	}
	p, _ := arns.ParsePrincipal(e.target, "")
	switch p.Kind {
	case arns.Role:
		return "aws_iam_role_policy", map[string]string{"name": e.policyName, "role": p.Name}
	case arns.User:
		return "aws_iam_user_policy", map[string]string{"name": e.policyName, "user": p.Name}
	}
	return "aws_iam_policy", map[string]string{"name": e.policyName}
}

func TestTerraformAgreesWithJSONPlan(t *testing.T) {
	for name, p := range iacPlans(t) {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := p.WriteTerraform(&out); err != nil {
				t.Fatal(err)
			}
			tf := parseTerraform(t, out.Bytes())
			jp := readJSONPlan(t, p)
			left := map[string]tfDoc{}
			for k, d := range tf.docs {
				left[k] = d
			}
			attached := map[string]bool{}
			for _, e := range expectations(t, jp) {
				var name string
				for n, d := range left {
					if cmp.Equal(e.statements, d.statements) {
						name = n
						break
					}
				}
				if name == "" {
					t.Errorf("%s %s: no aws_iam_policy_document holds the statements the JSON plan adds:\n%s\nrendered:\n%s", e.kind, e.target, canonicalJSON(t, e.statements), out.String())
					continue
				}
				d := left[name]
				delete(left, name)
				ref := "data.aws_iam_policy_document." + name + ".json"
				var attaching []string
				for r, attrs := range tf.resources {
					if attrs["policy"] == ref {
						attaching = append(attaching, r)
					}
				}
				if !e.whole {
					// Only the added statements, to merge in: nothing
					// attaches them alone, which would replace the
					// document.
					if len(attaching) > 0 || d.version != "" {
						t.Errorf("%s: statements to merge, but %v attaches them (version %q)", name, attaching, d.version)
					}
					continue
				}
				typ, want := resourceFor(e)
				if len(attaching) != 1 || !strings.HasPrefix(attaching[0], typ+".") {
					t.Errorf("%s: attached by %v, want one %s", name, attaching, typ)
					continue
				}
				attached[attaching[0]] = true
				got := tf.resources[attaching[0]]
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s.%s = %q, want %q", attaching[0], k, got[k], v)
					}
				}
				after := e.after.(map[string]any)
				if d.version != after["Version"] || d.id != fmt.Sprint(orEmpty(after["Id"])) {
					t.Errorf("%s: version %q, id %q; want the document's %v, %v", name, d.version, d.id, after["Version"], after["Id"])
				}
			}
			if len(left) > 0 {
				t.Errorf("documents the plan does not hold: %v", left)
			}
			checkTerraformEncryption(t, jp, tf, attached)
		})
	}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// checkTerraformEncryption checks the default encryption resource against
// the JSON plan's bucket_encryption change, and that no other resource is
// rendered.
func checkTerraformEncryption(t *testing.T, jp jsonPlan, tf terraform, attached map[string]bool) {
	t.Helper()
	for _, c := range jp.Changes {
		if c.Kind != generate.KindBucketEncryption || c.Action != "update" {
			continue
		}
		var after struct {
			Algorithm string `json:"sse_algorithm"`
			KeyID     string `json:"kms_master_key_id"`
			BucketKey bool   `json:"bucket_key_enabled"`
		}
		if err := json.Unmarshal(c.After, &after); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"bucket": strings.TrimPrefix(c.Target, "arn:aws:s3:::"),
			"rule.apply_server_side_encryption_by_default.sse_algorithm":     after.Algorithm,
			"rule.apply_server_side_encryption_by_default.kms_master_key_id": after.KeyID,
			"rule.bucket_key_enabled":                                        fmt.Sprint(after.BucketKey),
		}
		found := false
		for r, attrs := range tf.resources {
			if strings.HasPrefix(r, "aws_s3_bucket_server_side_encryption_configuration.") {
				found = true
				attached[r] = true
				if diff := cmp.Diff(want, attrs); diff != "" {
					t.Errorf("%s (-want +got):\n%s", r, diff)
				}
			}
		}
		if !found {
			t.Error("no aws_s3_bucket_server_side_encryption_configuration for the bucket_encryption change")
		}
	}
	for r := range tf.resources {
		if !attached[r] {
			t.Errorf("resource %s is for no change of the plan", r)
		}
	}
}

// The CloudFormation fragments, read back as JSON, hold exactly what the
// JSON plan adds: the statements to append to an existing document, the
// whole document of a new one.
func TestCloudFormationAgreesWithJSONPlan(t *testing.T) {
	for name, p := range iacPlans(t) {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := p.WriteCloudFormation(&out); err != nil {
				t.Fatal(err)
			}
			var cf struct {
				Changes []struct {
					Kind      string `json:"kind"`
					Target    string `json:"target"`
					Action    string `json:"action"`
					Merge     string `json:"merge"`
					Resources map[string]struct {
						Type       string         `json:"Type"`
						Properties map[string]any `json:"Properties"`
					} `json:"resources"`
				} `json:"changes"`
			}
			if err := json.Unmarshal(out.Bytes(), &cf); err != nil {
				t.Fatalf("the CloudFormation output is not JSON: %v", err)
			}
			jp := readJSONPlan(t, p)
			if len(cf.Changes) != len(jp.Changes) {
				t.Fatalf("%d changes, the JSON plan has %d", len(cf.Changes), len(jp.Changes))
			}
			exp := map[string]expectation{}
			for _, e := range expectations(t, jp) {
				exp[e.kind] = e
			}
			for i, c := range cf.Changes {
				jc := jp.Changes[i]
				if c.Kind != jc.Kind || c.Target != jc.Target || c.Action != jc.Action {
					t.Errorf("change %d is %s %s %s, the JSON plan's %s %s %s", i, c.Action, c.Kind, c.Target, jc.Action, jc.Kind, jc.Target)
				}
				e, policyChange := exp[c.Kind]
				switch {
				case c.Kind == generate.KindBucketEncryption && c.Action == "update":
					checkCloudFormationEncryption(t, jc.After, c.Resources["KmsgrantBucketEncryptionDocExampleBucket"].Properties)
					continue
				case !policyChange:
					if len(c.Resources) != 0 || c.Merge != apply.MergeNone {
						t.Errorf("%s %s: merge %q with %d resources for a change with nothing to add", c.Action, c.Kind, c.Merge, len(c.Resources))
					}
					continue
				}
				if len(c.Resources) != 1 {
					t.Fatalf("%s: %d resources, want 1", c.Kind, len(c.Resources))
				}
				for _, r := range c.Resources {
					typ, docProperty, want := cloudFormationFor(e)
					if r.Type != typ {
						t.Errorf("%s: type %s, want %s", c.Kind, r.Type, typ)
					}
					for k, v := range want {
						if r.Properties[k] != v {
							t.Errorf("%s: %s = %v, want %v", c.Kind, k, r.Properties[k], v)
						}
					}
					doc, _ := r.Properties[docProperty].(map[string]any)
					if e.whole {
						if c.Merge != apply.MergeResource || !cmp.Equal(e.after, doc) {
							t.Errorf("%s: merge %q, document %s; want resource, the plan's after %s", c.Kind, c.Merge, canonicalJSON(t, doc), canonicalJSON(t, e.after))
						}
						continue
					}
					var got []any
					for _, s := range asList(doc["Statement"]) {
						got = append(got, normalized(s))
					}
					if c.Merge != apply.MergeAppend || len(doc) != 1 {
						t.Errorf("%s: merge %q with document keys %v, want append of Statement only", c.Kind, c.Merge, doc)
					}
					if diff := cmp.Diff(e.statements, got); diff != "" {
						t.Errorf("%s: statements (-JSON plan +CloudFormation):\n%s", c.Kind, diff)
					}
				}
			}
		})
	}
}

func cloudFormationFor(e expectation) (typ, docProperty string, props map[string]any) {
	switch e.kind {
	case generate.KindBucketPolicy:
		return "AWS::S3::BucketPolicy", "PolicyDocument", map[string]any{"Bucket": strings.TrimPrefix(e.target, "arn:aws:s3:::")}
	case generate.KindKeyPolicy:
		return "AWS::KMS::Key", "KeyPolicy", nil
	}
	p, _ := arns.ParsePrincipal(e.target, "")
	switch p.Kind {
	case arns.Role:
		return "AWS::IAM::RolePolicy", "PolicyDocument", map[string]any{"PolicyName": e.policyName, "RoleName": p.Name}
	case arns.User:
		return "AWS::IAM::UserPolicy", "PolicyDocument", map[string]any{"PolicyName": e.policyName, "UserName": p.Name}
	}
	return "AWS::IAM::ManagedPolicy", "PolicyDocument", map[string]any{"ManagedPolicyName": e.policyName}
}

func checkCloudFormationEncryption(t *testing.T, after json.RawMessage, props map[string]any) {
	t.Helper()
	var a struct {
		Algorithm string `json:"sse_algorithm"`
		KeyID     string `json:"kms_master_key_id"`
		BucketKey bool   `json:"bucket_key_enabled"`
	}
	if err := json.Unmarshal(after, &a); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
		"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": a.Algorithm, "KMSMasterKeyID": a.KeyID},
		"BucketKeyEnabled":              a.BucketKey,
	}}}}
	if diff := cmp.Diff(want, props); diff != "" {
		t.Errorf("AWS::S3::Bucket properties (-want +got):\n%s", diff)
	}
}

// Statements of every shape survive the Terraform rendering: a wildcard
// principal, principal types other than AWS, NotPrincipal, NotAction,
// NotResource, several conditions under one operator, and policy
// variables, which HCL would otherwise take for its own interpolation.
func TestTerraformStatementShapes(t *testing.T) {
	before := `{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	added := []string{
		`{"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1","aws:SourceVpce":["vpce-1","vpce-2"]}}}`,
		`{"Sid":"Services","Effect":"Allow","Principal":{"Service":["logging.s3.amazonaws.com"],"AWS":"arn:aws:iam::444455556666:root"},"NotAction":["s3:Delete*"],"NotResource":"arn:aws:s3:::b/private/*"}`,
		`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:role/admin"]},"Action":"s3:*","Resource":"arn:aws:s3:::b/home/${aws:username}/*","Condition":{"StringNotLike":{"s3:prefix":["%{x}","$${y}"]},"Null":{"aws:TokenIssueTime":"true"}}}`,
	}
	var after bytes.Buffer
	after.WriteString(strings.TrimSuffix(before, "]}"))
	for _, s := range added {
		after.WriteString("," + s)
	}
	after.WriteString("]}")
	doc, err := policy.Parse(after.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	prev, err := policy.Parse([]byte(before))
	if err != nil {
		t.Fatal(err)
	}
	res := &generate.Result{
		Grant: generate.Resolved{Bucket: "b", Grantee: "arn:aws:iam::444455556666:role/reader", GranteeAccount: "444455556666"},
		Changes: []generate.Change{{Kind: generate.KindBucketPolicy, Account: "111122223333", Target: "arn:aws:s3:::b",
			Action: generate.Update, Before: prev.Pretty(), After: doc.Pretty(), Policy: doc}},
	}
	p := apply.FromResult(res)
	var out bytes.Buffer
	if err := p.WriteTerraform(&out); err != nil {
		t.Fatal(err)
	}
	tf := parseTerraform(t, out.Bytes())
	var want []any
	for _, s := range added {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		want = append(want, normalized(v))
	}
	if len(tf.docs) != 1 {
		t.Fatalf("%d documents, want 1:\n%s", len(tf.docs), out.String())
	}
	for _, d := range tf.docs {
		if diff := cmp.Diff(want, d.statements); diff != "" {
			t.Errorf("statements (-want +got):\n%s\n%s", diff, out.String())
		}
	}
}

// Rendered output is stable: goldens, reviewed like code.
func TestIaCGolden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		grantee string
		access  []string
	}{
		{"seed_role_read", "arn:aws:iam::444455556666:role/reader", nil},
		{"seed_account_read_list_write", "444455556666", []string{"list", "read", "write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := seedPlan(t, tc.grantee, tc.access...)
			var tf, cf bytes.Buffer
			if err := p.WriteTerraform(&tf); err != nil {
				t.Fatal(err)
			}
			if err := p.WriteCloudFormation(&cf); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".tf", tf.Bytes())
			golden(t, tc.name+".cfn.json", cf.Bytes())
		})
	}
}

// The worked example of the README, examples/terraform: the seed accounts
// as a team keeps them in Terraform, with what plan --output terraform
// prints for the reader role merged in. What the provider makes of it is
// exactly what kmsgrant would write, and without the merge exactly what the
// accounts hold now.
func TestTerraformExample(t *testing.T) {
	p := seedPlan(t, "arn:aws:iam::444455556666:role/reader")
	var out bytes.Buffer
	if err := p.WriteTerraform(&out); err != nil {
		t.Fatal(err)
	}
	printed := parseTerraform(t, out.Bytes())
	read := func(name string) terraform {
		data, err := os.ReadFile(filepath.Join("../examples/terraform", name, "main.tf"))
		if err != nil {
			t.Fatal(err)
		}
		return parseTerraform(t, data)
	}
	owner, grantee := read("owner"), read("grantee")

	// What was printed is there as printed.
	for name, d := range printed.docs {
		in := owner
		if strings.HasPrefix(name, "kmsgrant_iam_policy") {
			in = grantee
		}
		if diff := cmp.Diff(d.statements, in.docs[name].statements); diff != "" {
			t.Errorf("data.aws_iam_policy_document.%s (-printed +example):\n%s", name, diff)
		}
	}
	for name, attrs := range printed.resources {
		typ, _, _ := strings.Cut(name, ".")
		in := owner
		if strings.HasPrefix(typ, "aws_iam_") {
			in = grantee
		}
		var found bool
		for have, haveAttrs := range in.resources {
			if strings.HasPrefix(have, typ+".") && cmp.Equal(attrs, haveAttrs) {
				found = true
			}
		}
		if !found {
			t.Errorf("the example has no %s with %v", typ, attrs)
		}
	}

	// What Terraform would make of the owner's policies.
	jp := readJSONPlan(t, p)
	for _, c := range jp.Changes {
		var typ, key string
		switch c.Kind {
		case generate.KindBucketPolicy:
			typ, key = "aws_s3_bucket_policy", "bucket"
		case generate.KindKeyPolicy:
			typ, key = "aws_kms_key_policy", "key_id"
		default:
			continue
		}
		var doc string
		for name, attrs := range owner.resources {
			if strings.HasPrefix(name, typ+".") && (attrs[key] == c.Target || "arn:aws:s3:::"+attrs[key] == c.Target) {
				doc = strings.TrimSuffix(strings.TrimPrefix(attrs["policy"], "data.aws_iam_policy_document."), ".json")
			}
		}
		if doc == "" {
			t.Errorf("no %s for %s in the example", typ, c.Target)
			continue
		}
		for _, tc := range []struct {
			overrides bool
			want      json.RawMessage
		}{{true, c.After}, {false, c.Before}} {
			var want []string
			for _, s := range documentStatements(t, tc.want) {
				want = append(want, canonicalJSON(t, normalized(s)))
			}
			var got []string
			for _, s := range owner.merged(t, doc, tc.overrides) {
				got = append(got, canonicalJSON(t, s))
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s, overrides %v (-JSON plan +Terraform):\n%s", c.Kind, tc.overrides, diff)
			}
		}
		var after struct {
			ID string `json:"Id"`
		}
		if err := json.Unmarshal(c.After, &after); err != nil {
			t.Fatal(err)
		}
		if owner.docs[doc].id != after.ID {
			t.Errorf("%s: policy_id %q, the document's Id %q", c.Kind, owner.docs[doc].id, after.ID)
		}
	}
}

// A batch's Terraform and CloudFormation outputs name every document once,
// a role with inline policies for two buckets (named by flag) by role and
// policy name.
func TestIaCOfABatchNamesEachDocumentOnce(t *testing.T) {
	data, err := os.ReadFile("../examples/data-lake/state.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := statefile.Parse("state.json", data)
	if err != nil {
		t.Fatal(err)
	}
	var grants []apply.Labelled
	for _, bucket := range []string{"lake-curated", "lake-reports"} {
		for _, role := range []string{"analyst-01", "analyst-02"} {
			p, err := arns.ParsePrincipal("arn:aws:iam::444455556666:role/"+role, "aws")
			if err != nil {
				t.Fatal(err)
			}
			grants = append(grants, apply.Labelled{Grant: generate.Grant{Bucket: bucket, Prefix: "x/", Grantee: p, Access: []string{"read"}, IAMPolicyName: "kmsgrant-" + bucket}})
		}
	}
	p, err := apply.PlanBatch(context.Background(), f, grants, generate.OpGrant)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := p.CloudFormation()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, part := range cf.Changes {
		for id := range part.Resources {
			if ids[id] {
				t.Errorf("logical ID %s given twice", id)
			}
			ids[id] = true
		}
	}
	if !ids["KmsgrantIamPolicyAnalyst01KmsgrantLakeCurated"] {
		t.Errorf("no logical ID names analyst-01's policy for lake-curated: %v", ids)
	}
	var tf bytes.Buffer
	if err := p.WriteTerraform(&tf); err != nil {
		t.Fatal(err)
	}
	parsed := parseTerraform(t, tf.Bytes())
	if len(parsed.docs) != len(p.View.Changes) {
		t.Errorf("%d policy documents in the Terraform output for %d changes", len(parsed.docs), len(p.View.Changes))
	}
}

// A second prefix of the same grantee puts its grant together with the
// first one's: the renderings say to take the first statement out.
func TestIaCSaysWhichStatementsGo(t *testing.T) {
	state, first := seedWithReader(t)
	var old string
	for _, c := range first.Result.Changes {
		if c.Kind == generate.KindBucketPolicy {
			for _, st := range c.Policy.Statements {
				if st.HasSidPrefix(generate.SidPrefix) {
					old = st.Sid
				}
			}
		}
	}
	f, err := statefile.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	p, err := arns.ParsePrincipal("arn:aws:iam::444455556666:role/reader", "aws")
	if err != nil {
		t.Fatal(err)
	}
	second, err := apply.NewPlan(context.Background(), f, generate.Grant{Bucket: "doc-example-bucket", Prefix: "logs/", Grantee: p, Access: []string{"read"}, IAMPolicyName: "kmsgrant-doc-example-bucket"})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := second.CloudFormation()
	if err != nil {
		t.Fatal(err)
	}
	var removes []string
	for _, part := range cf.Changes {
		if part.Kind == generate.KindBucketPolicy {
			removes = part.Removes
		}
	}
	if !slices.Contains(removes, old) {
		t.Errorf("CloudFormation removes %v, want the first grant's statement %s", removes, old)
	}
	var tf bytes.Buffer
	if err := second.WriteTerraform(&tf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tf.String(), "Take "+old+" out of the document that holds it now") {
		t.Errorf("the Terraform output does not say to take %s out:\n%s", old, tf.String())
	}
}
