package generate

import (
	"fmt"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// ExampleChanges plans read access to reports/ in account 111122223333's
// bucket for a role of account 444455556666. The bucket's default
// encryption names the key by alias, the key policy only trusts its own
// account, and the role has no policies yet.
func ExampleChanges() {
	must := func(s string) *policy.Document {
		d, err := policy.Parse([]byte(s))
		if err != nil {
			panic(err)
		}
		return d
	}
	role, err := arns.ParsePrincipal("arn:aws:iam::444455556666:role/reader", "aws")
	if err != nil {
		panic(err)
	}
	keyARN := "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	in := Inputs{
		Bucket: &Bucket{
			Name: "doc-example-bucket", Account: "111122223333", Region: "us-west-2",
			Policy: must(`{"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}`),
			Encryption: &Encryption{Algorithm: "aws:kms", KMSMasterKeyID: "alias/app-data", BucketKeyEnabled: true},
			Ownership:  "BucketOwnerEnforced",
		},
		Key: &Key{
			ARN: keyARN, Account: "111122223333", Region: "us-west-2",
			Manager: KeyManagerCustomer, State: KeyStateEnabled, Aliases: []string{"alias/app-data"},
			Policy: must(`{"Version": "2012-10-17", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
				"Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}`),
		},
		Grantee: &Grantee{Principal: role},
	}
	access, err := ParseAccess("read")
	if err != nil {
		panic(err)
	}
	g := Grant{
		Bucket: "doc-example-bucket", Prefix: "reports/", Grantee: role, Access: access,
		IAMPolicyName: IAMPolicyName,
	}
	r, err := Changes(g, in)
	if err != nil {
		panic(err)
	}
	for _, c := range r.Changes {
		fmt.Printf("%-17s %-6s %s\n", c.Kind, c.Action, c.Target)
	}
	fmt.Println("blockers:", len(r.Blockers), "warnings:", len(r.Warnings))
	// Output:
	// bucket_encryption update arn:aws:s3:::doc-example-bucket
	// bucket_policy     update arn:aws:s3:::doc-example-bucket
	// key_policy        update arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
	// iam_policy        create arn:aws:iam::444455556666:role/reader
	// blockers: 0 warnings: 0
}
