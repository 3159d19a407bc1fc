package generate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The request context carries what kmsgrant knows for certain: the account
// that owns each resource, and, on the KMS call S3 makes for the grantee,
// the forward access session keys (aws:ViaAWSService, aws:CalledVia).
func TestRequestContextDecides(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Inputs)
		// want is the action of each change, in plan order.
		want     []string
		blockers []codeTarget
	}{
		{
			name: "data perimeter on aws:ResourceAccount in the grantee's policy blocks",
			mod: func(in *Inputs) {
				in.Grantee.Inline = []NamedPolicy{{Name: "perimeter", Doc: docOf(
					`{"Sid": "OwnAccountOnly", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceAccount": "444455556666"}}}`)}}
			},
			blockers: []codeTarget{{CodeExplicitDeny, readerARN}},
		},
		{
			name: "a perimeter listing the owner account lets the grant through",
			mod: func(in *Inputs) {
				in.Grantee.Inline = []NamedPolicy{{Name: "perimeter", Doc: docOf(
					`{"Sid": "KnownAccounts", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceAccount": ["444455556666", "111122223333"]}}}`)}}
			},
			want: []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"},
		},
		{
			name: "a key policy allow for calls through AWS services counts",
			mod: func(in *Inputs) {
				in.Key.Policy = docOf(`{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}`,
					`{"Sid": "ViaServices", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"Bool": {"aws:ViaAWSService": "true"}, "ForAnyValue:StringEquals": {"aws:CalledVia": "s3.amazonaws.com"}}}`)
			},
			want: []string{"bucket_encryption update", "bucket_policy update", "key_policy no-op", "iam_policy create"},
		},
		{
			name: "a deny of direct KMS calls does not touch the call S3 makes",
			mod: func(in *Inputs) {
				in.Grantee.Inline = []NamedPolicy{{Name: "no-direct-kms", Doc: docOf(
					`{"Sid": "NoDirectKMS", "Effect": "Deny", "Action": "kms:*", "Resource": "*", "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}`)}}
			},
			want: []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			tt.mod(&in)
			r := plan(t, seedGrant(), in)
			if diff := cmp.Diff(tt.blockers, codeTargets(r.Blockers)); diff != "" {
				t.Errorf("blockers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, actions(r)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// Objects looked at (--check-objects, or listed in a state file) that are
// not encrypted with the granted key are reported, each kind by count.
func TestObjectEncryptionWarnings(t *testing.T) {
	in := seedInputs()
	in.Bucket.Objects = map[string]Object{
		"reports/a.csv": {Algorithm: "aws:kms", KMSKeyID: seedKeyARN, Owner: "111122223333"},
		"reports/b.csv": {Algorithm: "aws:kms", KMSKeyID: otherKeyARN},
		"reports/c.csv": {Algorithm: "AES256"},
		"reports/d.csv": {Algorithm: "aws:kms:dsse", KMSKeyID: otherKeyARN},
		"other/e.csv":   {Algorithm: "AES256"},
	}
	r := plan(t, seedGrant(), in)
	want := []codeTarget{{CodeObjectsOtherKey, seedBucketARN}, {CodeObjectsSSES3, seedBucketARN}}
	if diff := cmp.Diff(want, codeTargets(r.Warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if got := r.Warnings[0].Message; got != "2 object(s) under the prefix are encrypted with another key and stay unreadable: reports/b.csv ("+otherKeyARN+"), reports/d.csv ("+otherKeyARN+")" {
		t.Errorf("message = %q", got)
	}
}
