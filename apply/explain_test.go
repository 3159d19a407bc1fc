package apply_test

import (
	"bytes"
	"testing"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

const (
	explainKey    = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	explainReader = "arn:aws:iam::444455556666:role/reader"
	explainLocal  = "arn:aws:iam::111122223333:role/local-reader"
)

func mustPolicy(t *testing.T, statements ...string) *policy.Document {
	t.Helper()
	doc := `{"Version": "2012-10-17", "Statement": [`
	for i, s := range statements {
		if i > 0 {
			doc += ", "
		}
		doc += s
	}
	d, err := policy.Parse([]byte(doc + "]}"))
	if err != nil {
		t.Fatalf("policy.Parse: %v", err)
	}
	return d
}

// allowedInputs are the seed bucket and key with every layer allowing
// grantee's read of reports/q1.csv; each case of TestExplainChecks takes
// one layer away.
func allowedInputs(t *testing.T, grantee string) generate.Inputs {
	bucketAllow := `{"Sid": "ReaderReads", "Effect": "Allow", "Principal": {"AWS": "` + grantee + `"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}`
	keyAllow := `{"Sid": "ReaderDecrypts", "Effect": "Allow", "Principal": {"AWS": "` + grantee + `"}, "Action": "kms:Decrypt", "Resource": "*"}`
	p, err := arns.ParsePrincipal(grantee, "aws")
	if err != nil {
		t.Fatal(err)
	}
	return generate.Inputs{
		Bucket: &generate.Bucket{
			Name: "doc-example-bucket", Account: "111122223333", Region: "us-west-2",
			Policy:     mustPolicy(t, bucketAllow),
			Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: explainKey, BucketKeyEnabled: true},
			Ownership:  "BucketOwnerEnforced",
			Objects: map[string]generate.Object{
				"reports/q1.csv": {Algorithm: "aws:kms", KMSKeyID: explainKey, Owner: "111122223333"},
			},
		},
		Key: &generate.Key{
			ARN: explainKey, Account: "111122223333", Region: "us-west-2",
			Manager: generate.KeyManagerCustomer, State: generate.KeyStateEnabled,
			Policy: mustPolicy(t, `{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}`, keyAllow),
		},
		KeyRef: explainKey,
		Grantee: &generate.Grantee{Principal: p, Inline: []generate.NamedPolicy{{Name: "reads", Doc: mustPolicy(t,
			`{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}`,
			`{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "`+explainKey+`"}`)}}},
	}
}

// TestExplainChecks renders explain's answer for a PASS and a FAIL (or
// WARN, or NOT CHECKED) of every check, and compares it with
// testdata/explain/NAME.txt.
func TestExplainChecks(t *testing.T) {
	deny := func(action string) string {
		return `{"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "` + action + `", "Resource": "*"}`
	}
	tests := []struct {
		name     string
		grantee  string
		object   string
		change   func(t *testing.T, in *generate.Inputs)
		controls func(t *testing.T) generate.Controls
	}{
		{name: "all_pass"},

		{name: "object_other_key", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Objects["reports/q1.csv"] = generate.Object{Algorithm: "aws:kms", KMSKeyID: "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321", Owner: "111122223333"}
		}},
		{name: "object_other_owner", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Ownership = "ObjectWriter"
			in.Bucket.Objects["reports/q1.csv"] = generate.Object{Algorithm: "aws:kms", KMSKeyID: explainKey, Owner: "444455556666"}
		}},
		{name: "object_unknown", object: "reports/q2.csv"},
		{name: "object_dsse_kms", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Objects["reports/q1.csv"] = generate.Object{Algorithm: "aws:kms:dsse", KMSKeyID: explainKey, Owner: "111122223333"}
		}},

		{name: "key_disabled", change: func(t *testing.T, in *generate.Inputs) { in.Key.State = "Disabled" }},
		{name: "key_aws_managed", change: func(t *testing.T, in *generate.Inputs) { in.Key.Manager = generate.KeyManagerAWS }},
		{name: "key_other_region", change: func(t *testing.T, in *generate.Inputs) { in.Key.Region = "eu-west-1" }},

		{name: "bucket_policy_missing", change: func(t *testing.T, in *generate.Inputs) { in.Bucket.Policy = nil }},
		{name: "bucket_policy_denies", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Policy.Statements = append(in.Bucket.Policy.Statements, mustPolicy(t, deny("s3:*")).Statements...)
		}},
		{name: "bucket_policy_may_deny", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Policy.Statements = append(in.Bucket.Policy.Statements, mustPolicy(t,
				`{"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}`).Statements...)
		}},

		{name: "key_policy_missing_grantee", change: func(t *testing.T, in *generate.Inputs) {
			in.Key.Policy.Statements = in.Key.Policy.Statements[:1]
		}},
		{name: "key_policy_denies", change: func(t *testing.T, in *generate.Inputs) {
			in.Key.Policy.Statements = append(in.Key.Policy.Statements, mustPolicy(t, deny("kms:Decrypt")).Statements...)
		}},

		{name: "key_policy_network_condition", change: func(t *testing.T, in *generate.Inputs) {
			in.Key.Policy = mustPolicy(t, `{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}`,
				`{"Sid": "ReaderDecryptsFromItsVPC", "Effect": "Allow", "Principal": {"AWS": "`+explainReader+`"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}`)
		}},
		{name: "bucket_policy_denies_on_a_key_reads_never_carry", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Policy.Statements = append(in.Bucket.Policy.Statements, mustPolicy(t,
				`{"Sid": "HomeOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"StringNotLike": {"s3:prefix": "home/*"}}}`).Statements...)
		}},
		{name: "bucket_policy_allows_direct_calls", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Policy = mustPolicy(t, `{"Sid": "ReaderReadsDirectly", "Effect": "Allow", "Principal": {"AWS": "`+explainReader+`"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/*", "Condition": {"BoolIfExists": {"aws:ViaAWSService": "false"}}}`)
		}},

		{name: "key_grant_allows", change: func(t *testing.T, in *generate.Inputs) {
			// A grant (as AWS Data Exchange gives subscribers) in place of
			// the key policy statement and the IAM policy's KMS statement.
			in.Key.Policy.Statements = in.Key.Policy.Statements[:1]
			in.Key.Grants = []generate.KMSGrant{{ID: "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a", GranteePrincipal: explainReader,
				Operations: []string{"Decrypt", "DescribeKey"}}}
			in.Grantee.Inline[0].Doc.Statements = in.Grantee.Inline[0].Doc.Statements[:1]
		}},
		{name: "key_grants_unread", change: func(t *testing.T, in *generate.Inputs) {
			in.Key.Policy.Statements = in.Key.Policy.Statements[:1]
			in.Key.GrantsUnread = true
		}},

		{name: "iam_missing", change: func(t *testing.T, in *generate.Inputs) { in.Grantee.Inline = nil }},
		{name: "iam_denies", change: func(t *testing.T, in *generate.Inputs) {
			in.Grantee.Inline = append(in.Grantee.Inline, generate.NamedPolicy{Name: "guardrail", Doc: mustPolicy(t, `{"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}`)})
		}},
		{name: "iam_boundary_limits", change: func(t *testing.T, in *generate.Inputs) {
			in.Grantee.Boundary = &generate.NamedPolicy{Name: "arn:aws:iam::444455556666:policy/ec2-only", Doc: mustPolicy(t, `{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}`)}
		}},
		// With a boundary, a NotPrincipal Deny applies whatever it lists.
		{name: "not_principal_deny_with_boundary", change: func(t *testing.T, in *generate.Inputs) {
			in.Grantee.Boundary = &generate.NamedPolicy{Name: "arn:aws:iam::444455556666:policy/data-boundary", Doc: mustPolicy(t, `{"Effect": "Allow", "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"}`)}
			in.Bucket.Policy.Statements = append(in.Bucket.Policy.Statements, mustPolicy(t,
				`{"Sid": "OnlyReader", "Effect": "Deny", "NotPrincipal": {"AWS": ["`+explainReader+`", "arn:aws:iam::444455556666:root"]}, "Action": "s3:*", "Resource": "*"}`).Statements...)
		}},
		{name: "iam_not_readable", change: func(t *testing.T, in *generate.Inputs) { in.Grantee = nil }},

		{name: "encryption_alias", change: func(t *testing.T, in *generate.Inputs) { in.Bucket.Encryption.KMSMasterKeyID = "alias/app-data" }},
		{name: "object_kms_in_sse_s3_bucket", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Encryption = &generate.Encryption{Algorithm: "AES256"}
			in.Key, in.KeyRef = nil, ""
		}},
		{name: "encryption_key_id", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Encryption.KMSMasterKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
		}},
		{name: "encryption_aws_managed", change: func(t *testing.T, in *generate.Inputs) { in.Bucket.Encryption.KMSMasterKeyID = "" }},
		{name: "encryption_sse_s3", change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Encryption = &generate.Encryption{Algorithm: "AES256"}
			in.Bucket.Objects["reports/q1.csv"] = generate.Object{Algorithm: "AES256", Owner: "111122223333"}
			in.Key, in.KeyRef = nil, ""
		}},

		{name: "controls_allow", controls: func(t *testing.T) generate.Controls {
			all := mustPolicy(t, `{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}`)
			vpce := mustPolicy(t, `{"Sid": "Everything", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}`)
			// RCPs hold only denies.
			rcp := mustPolicy(t, `{"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["111122223333", "444455556666"]}}}`)
			return generate.Controls{SCP: all, RCP: rcp, VPCEndpoint: vpce}
		}},
		{name: "controls_deny", controls: func(t *testing.T) generate.Controls {
			return generate.Controls{
				SCP:         mustPolicy(t, `{"Sid": "NoKMS", "Effect": "Deny", "Action": "kms:*", "Resource": "*"}`, `{"Effect": "Allow", "Action": "*", "Resource": "*"}`),
				RCP:         mustPolicy(t, `{"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}}`),
				VPCEndpoint: mustPolicy(t, `{"Sid": "OtherBucket", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other-bucket/*"}`),
			}
		}},

		// Within one account, either the identity policies or the resource
		// policy may allow; a KMS key policy must allow in any case.
		{name: "same_account_iam_alone", grantee: explainLocal, change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Policy = nil
			in.Key.Policy.Statements = in.Key.Policy.Statements[:1]
		}},
		{name: "same_account_resource_policies_alone", grantee: explainLocal, change: func(t *testing.T, in *generate.Inputs) { in.Grantee.Inline = nil }},
		{name: "same_account_key_policy_names_the_role", grantee: explainLocal, change: func(t *testing.T, in *generate.Inputs) {
			in.Key.Policy.Statements = in.Key.Policy.Statements[1:]
			in.Grantee.Inline = in.Grantee.Inline[:0]
			in.Grantee.Inline = append(in.Grantee.Inline, generate.NamedPolicy{Name: "reads", Doc: mustPolicy(t,
				`{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}`)})
		}},
		{name: "same_account_key_policy_ignores_iam", grantee: explainLocal, change: func(t *testing.T, in *generate.Inputs) {
			in.Key.Policy = mustPolicy(t, `{"Sid": "KeyAdmins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"}, "Action": "kms:*", "Resource": "*"}`)
		}},
		// A boundary kmsgrant could not read may limit the resource
		// policies' grants too: a warning, as across accounts.
		{name: "same_account_boundary_unreadable", grantee: explainLocal, change: func(t *testing.T, in *generate.Inputs) {
			in.Grantee.Inline = nil
			in.Grantee.Boundary = &generate.NamedPolicy{Name: "arn:aws:iam::111122223333:policy/boundary"}
		}},
		{name: "boundary_unreadable", change: func(t *testing.T, in *generate.Inputs) {
			in.Grantee.Boundary = &generate.NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary"}
		}},
		{name: "same_account_nothing_allows", grantee: explainLocal, change: func(t *testing.T, in *generate.Inputs) {
			in.Bucket.Policy = nil
			in.Grantee.Inline = nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			grantee := explainReader
			if tc.grantee != "" {
				grantee = tc.grantee
			}
			in := allowedInputs(t, grantee)
			if tc.change != nil {
				tc.change(t, &in)
			}
			var controls generate.Controls
			if tc.controls != nil {
				controls = tc.controls(t)
			}
			object := "reports/q1.csv"
			if tc.object != "" {
				object = tc.object
			}
			p, err := arns.ParsePrincipal(grantee, "aws")
			if err != nil {
				t.Fatal(err)
			}
			g := generate.Grant{Bucket: "doc-example-bucket", Prefix: object, Grantee: p, Access: []string{"read"}}
			x, err := generate.Explain(g, in, generate.Target{Key: object}, controls)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := apply.WriteExplanationText(&out, apply.ExplanationView{Explanation: x}, false); err != nil {
				t.Fatal(err)
			}
			golden(t, "explain/"+tc.name+".txt", out.Bytes())
		})
	}
}
