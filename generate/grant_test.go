package generate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAccess(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string // a substring of the error
	}{
		{in: "read", want: []string{"read"}},
		{in: "", want: []string{"read"}},
		{in: "   ", want: []string{"read"}},
		{in: "read,list", want: []string{"list", "read"}},
		{in: "list", want: []string{"list", "read"}},
		{in: "write", want: []string{"read", "write"}},
		{in: "list,read,write", want: []string{"list", "read", "write"}},
		{in: "write,list", want: []string{"list", "read", "write"}},
		{in: "read,read,list,list", want: []string{"list", "read"}},
		{in: " Read , LIST ", want: []string{"list", "read"}},
		{in: "WRITE", want: []string{"read", "write"}},
		{in: "\tread,\nwrite ", want: []string{"read", "write"}},
		{in: "delete", wantErr: `unknown access level "delete"`},
		{in: "read,admin", wantErr: `unknown access level "admin"`},
		{in: "read,,list", wantErr: `unknown access level ""`},
		{in: "read;list", wantErr: `unknown access level "read;list"`},
		{in: "*", wantErr: `unknown access level "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAccess(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseAccess(%q) = %v, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				}
				// The error lists the levels there are.
				for _, level := range []string{"list", "read", "write"} {
					if !strings.Contains(err.Error(), level) {
						t.Errorf("error %q does not list %q", err, level)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAccess(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAccess(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestValidatePrefix(t *testing.T) {
	const bucket = "doc-example-bucket"
	tests := []struct {
		in      string
		wantErr string // "" when the prefix is valid
	}{
		{"", ""},
		{"reports/", ""},
		{"reports/2024-", ""},
		{"s3/reports/", ""},
		{"arn/", ""},
		{"/reports/", `prefix "/reports/" starts with "/"; S3 keys have no leading slash`},
		{"reports/*", `prefix "reports/*" contains a wildcard; give the literal start of the object keys`},
		{"rep?rts/", `prefix "rep?rts/" contains a wildcard; give the literal start of the object keys`},
		{"home/${aws:username}/", `prefix "home/${aws:username}/" contains a policy variable`},
		{strings.Repeat("a", 1024), ""},
		{strings.Repeat("a", 1025), "prefix is longer than S3's 1024-byte key limit"},
		// An S3 URL or ARN names the bucket too: the key prefix is what
		// is wanted.
		{"s3://doc-example-bucket/reports/", `prefix "s3://doc-example-bucket/reports/" is an S3 URL, not a key prefix; give the key prefix alone: reports/`},
		{"S3://doc-example-bucket/reports/", `prefix "S3://doc-example-bucket/reports/" is an S3 URL, not a key prefix; give the key prefix alone: reports/`},
		{"s3a://doc-example-bucket/reports/2024/", `prefix "s3a://doc-example-bucket/reports/2024/" is an S3 URL, not a key prefix; give the key prefix alone: reports/2024/`},
		{"s3://doc-example-bucket/", `prefix "s3://doc-example-bucket/" is an S3 URL, not a key prefix; give the key prefix alone, or none for the whole bucket`},
		{"s3://doc-example-bucket", `prefix "s3://doc-example-bucket" is an S3 URL, not a key prefix; give the key prefix alone, or none for the whole bucket`},
		{"s3://other-bucket/reports/", `prefix "s3://other-bucket/reports/" is an S3 URL of bucket other-bucket, but the grant is on bucket doc-example-bucket; give the key prefix alone: reports/`},
		{"arn:aws:s3:::doc-example-bucket/reports/", `prefix "arn:aws:s3:::doc-example-bucket/reports/" is an S3 ARN, not a key prefix; give the key prefix alone: reports/`},
		{"arn:aws-cn:s3:::doc-example-bucket/reports/*", `prefix "arn:aws-cn:s3:::doc-example-bucket/reports/*" is an S3 ARN, not a key prefix; give the key prefix alone: reports/`},
		{"arn:aws:s3:::other-bucket/reports/", `prefix "arn:aws:s3:::other-bucket/reports/" is an S3 ARN of bucket other-bucket, but the grant is on bucket doc-example-bucket; give the key prefix alone: reports/`},
		{"arn:aws:s3:::doc-example-bucket", `prefix "arn:aws:s3:::doc-example-bucket" is an S3 ARN, not a key prefix; give the key prefix alone, or none for the whole bucket`},
		{"arn:aws:s3:us-west-2:111122223333:accesspoint/ap/object/reports/", `prefix "arn:aws:s3:us-west-2:111122223333:accesspoint/ap/object/reports/" is an S3 ARN, not a key prefix; give the key prefix alone: reports/`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40s", tt.in), func(t *testing.T) {
			err := ValidatePrefix(bucket, tt.in)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("ValidatePrefix(%q, %.40q) error (-want +got):\n%s", bucket, tt.in, diff)
			}
		})
	}
}

func TestLegacyIAMPolicyName(t *testing.T) {
	long := "Legacy_" + strings.Repeat("b", 248) // 255 characters
	longToo := "Legacy_" + strings.Repeat("b", 247) + "c"
	for _, tc := range []struct {
		bucket, want string
	}{
		{"doc-example-bucket", "kmsgrant-doc-example-bucket"},
		{"Legacy_Bucket", "kmsgrant-Legacy_Bucket"},
		// 119 characters make exactly 128.
		{strings.Repeat("B", 119), "kmsgrant-" + strings.Repeat("B", 119)},
		{strings.Repeat("B", 120), "kmsgrant-" + strings.Repeat("B", 110) + "-c2444823"},
		{long, "kmsgrant-Legacy_" + strings.Repeat("b", 103) + "-1e95dcf3"},
		{longToo, "kmsgrant-Legacy_" + strings.Repeat("b", 103) + "-c455f107"},
	} {
		got := LegacyIAMPolicyName(tc.bucket)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("LegacyIAMPolicyName(%.20q…) (-want +got):\n%s", tc.bucket, diff)
		}
		if len(got) > 128 || strings.Trim(got, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-") != "" {
			t.Errorf("LegacyIAMPolicyName(%.20q…) = %q is not a valid IAM policy name", tc.bucket, got)
		}
	}
}
