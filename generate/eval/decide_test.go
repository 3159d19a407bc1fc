package eval

import (
	"testing"

	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// Each case is one rule of AWS's evaluation logic, cross-account and within
// one account ("Policy evaluation logic", IAM User Guide; "Key policies in
// AWS KMS").
func TestDecide(t *testing.T) {
	const (
		owner  = "111122223333"
		keyARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	readerA := arns.Principal{Kind: arns.Role, Partition: "aws", Account: owner, Path: "/", Name: "Reader"}
	bobA := arns.Principal{Kind: arns.User, Partition: "aws", Account: owner, Path: "/", Name: "Bob"}
	allowGet := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`
	allowDecrypt := `{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`
	denyGet := `{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`
	// RCPs apply to every principal: their statements name "*".
	rcpDenyGet := `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}`
	resourceAllow := func(principal, action string) string {
		return `{"Effect":"Allow","Principal":` + principal + `,"Action":"` + action + `","Resource":"*"}`
	}
	policyOf := func(t *testing.T, name string, kind Kind, statements ...string) *Policy {
		if len(statements) == 0 {
			return nil
		}
		doc := `{"Version":"2012-10-17","Statement":[`
		for i, s := range statements {
			if i > 0 {
				doc += ","
			}
			doc += s
		}
		return &Policy{Name: name, Kind: kind, Doc: mustDoc(t, doc+"]}")}
	}
	tests := []struct {
		name                    string
		caller                  arns.Principal
		action                  string
		identity, boundary, res []string
		scp, rcp                []string
		kmsKey                  bool
		resourceAccount         string
		want                    string
	}{
		// Across accounts both sides must allow.
		{name: "cross-account: both allow", caller: reader, identity: []string{allowGet}, res: []string{resourceAllow(`{"AWS":"`+readerARN+`"}`, "s3:GetObject")}, want: "Allowed"},
		{name: "cross-account: the resource policy alone", caller: reader, res: []string{resourceAllow(`{"AWS":"`+readerARN+`"}`, "s3:GetObject")}, want: "ImplicitlyDenied"},
		{name: "cross-account: identity alone", caller: reader, identity: []string{allowGet}, want: "ImplicitlyDenied"},
		{name: "cross-account: the account is trusted", caller: reader, identity: []string{allowGet}, res: []string{resourceAllow(`{"AWS":"444455556666"}`, "s3:GetObject")}, want: "Allowed"},
		{name: "cross-account: the boundary must allow", caller: reader, identity: []string{allowGet}, boundary: []string{allowDecrypt}, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, want: "ImplicitlyDenied"},
		{name: "cross-account: an explicit deny wins", caller: reader, identity: []string{allowGet, denyGet}, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, want: "ExplicitlyDenied"},
		{name: "cross-account: the SCP must allow", caller: reader, identity: []string{allowGet}, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, scp: []string{allowDecrypt}, want: "ImplicitlyDenied"},
		{name: "cross-account: the RCP denies", caller: reader, identity: []string{allowGet}, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, rcp: []string{rcpDenyGet}, want: "ExplicitlyDenied"},
		{name: "cross-account: the SCP allows, the RCP does not deny", caller: reader, identity: []string{allowGet}, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, scp: []string{allowGet}, rcp: []string{`{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}`}, want: "Allowed"},

		// Within one account either side may allow.
		{name: "same account: identity alone", caller: readerA, identity: []string{allowGet}, want: "Allowed"},
		{name: "same account: the bucket policy names the role", caller: readerA, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:role/Reader"}`, "s3:GetObject")}, want: "Allowed"},
		{name: "same account: the bucket policy names everyone", caller: readerA, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, want: "Allowed"},
		{name: "same account: the bucket policy names only the account", caller: readerA, res: []string{resourceAllow(`{"AWS":"111122223333"}`, "s3:GetObject")}, want: "ImplicitlyDenied"},
		{name: "same account: a deny in the bucket policy wins", caller: readerA, identity: []string{allowGet}, res: []string{`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}`}, want: "ExplicitlyDenied"},
		// A boundary limits the identity policies, and a resource policy
		// naming a role, but not one naming a user.
		{name: "same account: the boundary limits identity", caller: readerA, identity: []string{allowGet}, boundary: []string{allowDecrypt}, want: "ImplicitlyDenied"},
		{name: "same account: the boundary limits a grant to the role ARN", caller: readerA, boundary: []string{allowDecrypt}, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:role/Reader"}`, "s3:GetObject")}, want: "ImplicitlyDenied"},
		{name: "same account: a grant to everyone passes the boundary", caller: readerA, boundary: []string{allowDecrypt}, res: []string{resourceAllow(`"*"`, "s3:GetObject")}, want: "Allowed"},
		{name: "same account: a grant to the user ARN passes the boundary", caller: bobA, boundary: []string{allowDecrypt}, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:user/Bob"}`, "s3:GetObject")}, want: "Allowed"},
		{name: "same account: boundary and resource policy both allow the role", caller: readerA, boundary: []string{allowGet}, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:role/Reader"}`, "s3:GetObject")}, want: "Allowed"},

		// KMS: the key policy must allow, directly or by trusting the account.
		{name: "key, same account: IAM allows, the key policy trusts the account", caller: readerA, action: "kms:Decrypt", kmsKey: true, identity: []string{allowDecrypt}, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:root"}`, "kms:*")}, want: "Allowed"},
		{name: "key, same account: IAM allows, the key policy does not trust the account", caller: readerA, action: "kms:Decrypt", kmsKey: true, identity: []string{allowDecrypt}, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:role/Admin"}`, "kms:*")}, want: "ImplicitlyDenied"},
		{name: "key, same account: the key policy names the role", caller: readerA, action: "kms:Decrypt", kmsKey: true, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:role/Reader"}`, "kms:Decrypt")}, want: "Allowed"},
		{name: "key, same account: trusting the account is not enough alone", caller: readerA, action: "kms:Decrypt", kmsKey: true, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::111122223333:root"}`, "kms:*")}, want: "ImplicitlyDenied"},
		{name: "key, cross-account: the key policy trusts the partner account", caller: reader, action: "kms:Decrypt", kmsKey: true, identity: []string{allowDecrypt}, res: []string{resourceAllow(`{"AWS":"arn:aws:iam::444455556666:root"}`, "kms:Decrypt")}, want: "Allowed"},
		{name: "key, cross-account: the key policy names the role, IAM silent", caller: reader, action: "kms:Decrypt", kmsKey: true, res: []string{resourceAllow(`{"AWS":"`+readerARN+`"}`, "kms:Decrypt")}, want: "ImplicitlyDenied"},

		// What kmsgrant cannot know stays undecided.
		{name: "an allow on an unknown condition", caller: readerA, identity: []string{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}`}, want: "Undecided"},
		{name: "a deny on an unknown condition", caller: readerA, identity: []string{allowGet, `{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}`}, want: "Undecided"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := request()
			req.Principal = tc.caller
			req.Action = "s3:GetObject"
			if tc.action != "" {
				req.Action = tc.action
				req.Resource = Exactly(keyARN)
			}
			l := Layers{
				Boundary: policyOf(t, "boundary", Identity, tc.boundary...),
				Resource: policyOf(t, "resource policy", Resource, tc.res...),
				SCP:      policyOf(t, "SCP", Identity, tc.scp...),
				RCP:      policyOf(t, "RCP", Resource, tc.rcp...),
				KMSKey:   tc.kmsKey, ResourceAccount: owner,
			}
			if id := policyOf(t, "identity", Identity, tc.identity...); id != nil {
				l.Identity = []Policy{*id}
			}
			v := Decide(l, req)
			if got := v.Result(); got != tc.want {
				t.Errorf("Decide = %s (allowed %v, denied %v), want %s", got, v.Allowed, v.Denied, tc.want)
			}
			if tc.want == "Allowed" && len(v.AllowedBy) == 0 {
				t.Error("allowed, but no statement reported as allowing")
			}
			if tc.want == "ExplicitlyDenied" && len(v.DeniedBy) == 0 {
				t.Error("denied, but no statement reported as denying")
			}
		})
	}
}
