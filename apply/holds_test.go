package apply

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate"
)

// policyWith is a bucket policy with a statement the owner wrote and
// kmsgrant's read statement naming these principals (none: no such
// statement).
func policyWith(principals ...string) string {
	sts := []string{`{"Sid":"Theirs","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`}
	if len(principals) > 0 {
		sts = append(sts, fmt.Sprintf(`{"Sid":"KmsgrantGetObjectA","Effect":"Allow","Principal":{"AWS":["%s"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`,
			strings.Join(principals, `","`)))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`
}

func role(n int) string { return fmt.Sprintf("arn:aws:iam::444455556666:role/r%d", n) }

// holds follows kmsgrant's statements principal by principal, so that
// another writer's grantee beside kmsgrant's does not matter, and a
// revoked grantee put back by a writer that read before the revoke does.
func TestHolds(t *testing.T) {
	change := func(before, after string) generate.Change {
		return generate.Change{Kind: generate.KindBucketPolicy, Before: before, After: after}
	}
	tests := []struct {
		name   string
		change generate.Change
		now    string
		want   bool
	}{
		{"as written", change(policyWith(), policyWith(role(1))), policyWith(role(1)), true},
		{"another grantee joined since", change(policyWith(role(0)), policyWith(role(0), role(1))), policyWith(role(0), role(1), role(2)), true},
		{"another grantee left since", change(policyWith(role(0)), policyWith(role(0), role(1))), policyWith(role(1)), true},
		{"replaced by a writer that read before", change(policyWith(role(0)), policyWith(role(0), role(1))), policyWith(role(0), role(2)), false},
		{"kmsgrant's statement gone", change(policyWith(), policyWith(role(1))), policyWith(), false},
		{"revoked, and still revoked beside a new grantee", change(policyWith(role(1), role(4)), policyWith(role(1))), policyWith(role(1), role(6)), true},
		{"revoked, then put back by a writer that read before", change(policyWith(role(1), role(4)), policyWith(role(1))), policyWith(role(1), role(4), role(6)), false},
		{"the last grantee revoked, and put back", change(policyWith(role(4)), policyWith()), policyWith(role(4)), false},
		{"the last grantee revoked, another granted since", change(policyWith(role(4)), policyWith()), policyWith(role(5)), true},
		{"the owner's statement taken away", change(policyWith(), policyWith(role(1))),
			`{"Version":"2012-10-17","Statement":[{"Sid":"KmsgrantGetObjectA","Effect":"Allow","Principal":{"AWS":["` + role(1) + `"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, true},
		{"kmsgrant's statement reshaped by hand", change(policyWith(), policyWith(role(1))),
			strings.Replace(policyWith(role(1)), `"arn:aws:s3:::b/*"`, `"arn:aws:s3:::b/other/*"`, 1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := holds(tc.now, tc.change); got != tc.want {
				t.Errorf("holds = %v, want %v", got, tc.want)
			}
		})
	}
}
