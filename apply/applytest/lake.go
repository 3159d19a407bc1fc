package applytest

import (
	"encoding/json"
	"fmt"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// Lake describes a data lake for batch tests and benchmarks: buckets in
// the owner account 111122223333 (us-west-2), each encrypted by full ARN
// with one of the keys, read by roles of two grantee accounts.
type Lake struct {
	Buckets, Keys int
	// RolesA and RolesB are the roles of accounts 444455556666 and
	// 777788889999.
	RolesA, RolesB int
	// Grants is how many distinct grants to make; Prefixes how many
	// prefixes each bucket's grants spread over.
	Grants, Prefixes int
}

// Owner is the lake's owner account.
const Owner = "111122223333"

// KeyARN is the ARN of the lake's key i.
func KeyARN(i int) string {
	return fmt.Sprintf("arn:aws:kms:us-west-2:%s:key/%08d-12ab-34cd-56ef-1234567890ab", Owner, i)
}

// State is the lake's account-state file: every policy kmsgrant does not
// write (a TLS-only Deny on each bucket, the default key policy) and no
// grant yet.
func (l Lake) State() []byte {
	owner := map[string]any{}
	buckets := map[string]any{}
	for b := range l.Buckets {
		name := bucketName(b)
		buckets[name] = map[string]any{
			"region": "us-west-2",
			"policy": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  []string{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"},
				"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
			}}},
			"default_encryption": map[string]any{"sse_algorithm": "aws:kms", "kms_master_key_id": KeyARN(b % l.Keys), "bucket_key_enabled": true},
			"object_ownership":   "BucketOwnerEnforced",
		}
	}
	keys := map[string]any{}
	for k := range l.Keys {
		keys[KeyARN(k)] = map[string]any{
			"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": []string{fmt.Sprintf("alias/lake-%02d", k)},
			"policy": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Sid": "Enable IAM User Permissions", "Effect": "Allow",
				"Principal": map[string]string{"AWS": "arn:aws:iam::" + Owner + ":root"}, "Action": "kms:*", "Resource": "*",
			}}},
		}
	}
	owner["buckets"], owner["kms_keys"] = buckets, keys
	roles := func(n int) map[string]any {
		out := map[string]any{}
		for r := range n {
			out[fmt.Sprintf("role-%03d", r)] = map[string]any{"path": "/", "inline_policies": map[string]any{}, "attached_policies": []string{}}
		}
		return out
	}
	state := map[string]any{
		"format_version": "1",
		"accounts": map[string]any{
			Owner:          owner,
			"444455556666": map[string]any{"iam_roles": roles(l.RolesA)},
			"777788889999": map[string]any{"iam_roles": roles(l.RolesB)},
		},
		"managed_policies": map[string]any{},
	}
	data, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(data, '\n')
}

func bucketName(b int) string { return fmt.Sprintf("lake-%03d", b) }

// GrantList is the lake's grants, distinct, in a fixed order: role i of
// all the roles reads (and one in four also lists, one in eight writes)
// a prefix of a bucket, spread so that every bucket and role has some.
func (l Lake) GrantList() []apply.Labelled {
	roles := l.RolesA + l.RolesB
	levels := [][]string{{"read"}, {"list", "read"}, {"read"}, {"read", "write"}}
	seen := map[string]bool{}
	var out []apply.Labelled
	for i := 0; len(out) < l.Grants; i++ {
		r := i % roles
		b := (i/roles*7 + i) % l.Buckets
		prefix := fmt.Sprintf("team-%02d/", (i/l.Buckets)%l.Prefixes)
		key := fmt.Sprint(r, b, prefix)
		if seen[key] {
			if i > 100*l.Grants {
				panic("applytest: the lake cannot hold that many distinct grants")
			}
			continue
		}
		seen[key] = true
		account, name := "444455556666", fmt.Sprintf("role-%03d", r)
		if r >= l.RolesA {
			account, name = "777788889999", fmt.Sprintf("role-%03d", r-l.RolesA)
		}
		p, err := arns.ParsePrincipal(fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name), "aws")
		if err != nil {
			panic(err)
		}
		out = append(out, apply.Labelled{
			Grant: generate.Grant{Bucket: bucketName(b), Prefix: prefix, Grantee: p, Access: levels[i%len(levels)],
				IAMPolicyName: generate.IAMPolicyName},
			Label: fmt.Sprintf("grant %d", len(out)+1),
		})
	}
	return out
}
