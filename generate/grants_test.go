package generate

import (
	"slices"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/eval"
)

func TestGrantAllows(t *testing.T) {
	const object = "arn:aws:s3:::doc-example-bucket/reports/q1.csv"
	reader := principal(readerARN)
	session := reader
	session.Session = "s1"
	account := arns.Principal{Kind: arns.Account, Partition: "aws", Account: granteeAccount}
	decrypt := func(p arns.Principal, ctx eval.Value) eval.Request {
		return eval.Request{Principal: p, Action: "kms:Decrypt", Context: map[string]eval.Value{"kms:encryptioncontext:aws:s3:arn": ctx}}
	}
	onObject := decrypt(reader, eval.Exactly(object))
	underPrefix := decrypt(reader, eval.StartingWith("arn:aws:s3:::doc-example-bucket/reports/"))
	tests := []struct {
		name  string
		grant KMSGrant
		req   eval.Request
		want  eval.Tri
	}{
		{"no constraints", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}}, underPrefix, eval.Yes},
		{"another operation", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Encrypt", "GenerateDataKey"}}, onObject, eval.No},
		{"another grantee", KMSGrant{GranteePrincipal: analystARN, Operations: []string{"Decrypt"}}, onObject, eval.No},
		{"a service principal", KMSGrant{GranteePrincipal: "s3.amazonaws.com", Operations: []string{"Decrypt"}}, onObject, eval.No},
		{"the object, exactly", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}, EncryptionContextEquals: map[string]string{"aws:s3:arn": object}}, onObject, eval.Yes},
		{"one object of a prefix", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}, EncryptionContextEquals: map[string]string{"aws:s3:arn": object}}, underPrefix, eval.Maybe},
		{"an object outside the prefix", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}, EncryptionContextSubset: map[string]string{"aws:s3:arn": "arn:aws:s3:::doc-example-bucket/other/x"}}, underPrefix, eval.No},
		{"the bucket (Bucket Keys)", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}, EncryptionContextSubset: map[string]string{"aws:s3:arn": "arn:aws:s3:::doc-example-bucket"}}, decrypt(reader, eval.Exactly("arn:aws:s3:::doc-example-bucket")), eval.Yes},
		{"a pair S3 does not send", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}, EncryptionContextSubset: map[string]string{"aws:s3:arn": object, "Department": "IT"}}, onObject, eval.No},
		{"a wildcard is a literal", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}, EncryptionContextEquals: map[string]string{"aws:s3:arn": "arn:aws:s3:::doc-example-bucket/*"}}, onObject, eval.No},
		{"the caller's session", KMSGrant{GranteePrincipal: "arn:aws:sts::444455556666:assumed-role/reader/s1", Operations: []string{"Decrypt"}}, decrypt(session, eval.Exactly(object)), eval.Yes},
		{"another session of the role", KMSGrant{GranteePrincipal: "arn:aws:sts::444455556666:assumed-role/reader/s2", Operations: []string{"Decrypt"}}, decrypt(session, eval.Exactly(object)), eval.No},
		{"a session of a role named like the caller, a user", KMSGrant{GranteePrincipal: "arn:aws:sts::444455556666:assumed-role/reader/s2", Operations: []string{"Decrypt"}}, decrypt(principal("arn:aws:iam::444455556666:user/reader"), eval.Exactly(object)), eval.No},
		{"a session of the role, caller's unknown", KMSGrant{GranteePrincipal: "arn:aws:sts::444455556666:assumed-role/reader/s2", Operations: []string{"Decrypt"}}, onObject, eval.Maybe},
		{"the grantee's account root", KMSGrant{GranteePrincipal: "arn:aws:iam::444455556666:root", Operations: []string{"Decrypt"}}, onObject, eval.Maybe},
		{"a role of an account grantee", KMSGrant{GranteePrincipal: readerARN, Operations: []string{"Decrypt"}}, decrypt(account, eval.Exactly(object)), eval.Maybe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := grantAllows(tc.grant, tc.req); got != tc.want {
				t.Errorf("grantAllows = %v, want %v", got, tc.want)
			}
		})
	}
}

// A grant that allows Decrypt makes the key policy statement and the IAM
// policy's KMS statement unnecessary; one limited to a single object does
// not cover a prefix; grants that could not be read are said so.
func TestChangesWithGrants(t *testing.T) {
	tests := []struct {
		name      string
		grants    []KMSGrant
		unread    bool
		keyAction Action
		iamKMS    bool // whether the IAM statements still grant kms:Decrypt
		warning   string
	}{
		{name: "no grant", keyAction: Update, iamKMS: true},
		{name: "a grant for Decrypt", grants: []KMSGrant{{ID: "g1", GranteePrincipal: readerARN, Operations: []string{"Decrypt", "DescribeKey"}}}, keyAction: NoOp},
		{name: "a grant for one object", grants: []KMSGrant{{ID: "g1", GranteePrincipal: readerARN, Operations: []string{"Decrypt"},
			EncryptionContextEquals: map[string]string{"aws:s3:arn": "arn:aws:s3:::doc-example-bucket/reports/q1.csv"}}}, keyAction: Update, iamKMS: true},
		{name: "grants not read", unread: true, keyAction: Update, iamKMS: true, warning: CodeGrantsUnread},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := seedInputs()
			in.Bucket.Encryption.BucketKeyEnabled = false
			in.Key.Grants, in.Key.GrantsUnread = tc.grants, tc.unread
			g := seedGrant()
			res, err := Changes(g, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := change(t, res, KindKeyPolicy).Action; got != tc.keyAction {
				t.Errorf("key policy change %s, want %s", got, tc.keyAction)
			}
			iam := change(t, res, KindIAMPolicy)
			if got := iam.Policy != nil && strings.Contains(string(iam.Policy.Compact()), "kms:Decrypt"); got != tc.iamKMS {
				t.Errorf("IAM statements grant kms:Decrypt = %v, want %v:\n%s", got, tc.iamKMS, iam.After)
			}
			var codes []string
			for _, w := range res.Warnings {
				codes = append(codes, w.Code)
			}
			if tc.warning != "" && !slices.Contains(codes, tc.warning) {
				t.Errorf("warnings %v lack %s", codes, tc.warning)
			}
		})
	}
}
