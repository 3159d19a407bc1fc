package arns

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		name             string
		in               string
		defaultPartition string
		want             Principal
		wantARN          string
	}{
		{
			name:             "role without path",
			in:               "arn:aws:iam::444455556666:role/Reader",
			defaultPartition: "aws",
			want:             Principal{Kind: Role, Partition: "aws", Account: "444455556666", Path: "/", Name: "Reader"},
			wantARN:          "arn:aws:iam::444455556666:role/Reader",
		},
		{
			name:             "user without path",
			in:               "arn:aws:iam::444455556666:user/Bob",
			defaultPartition: "aws",
			want:             Principal{Kind: User, Partition: "aws", Account: "444455556666", Path: "/", Name: "Bob"},
			wantARN:          "arn:aws:iam::444455556666:user/Bob",
		},
		{
			// As AccessDenied messages name a caller: the role, its path
			// unknown until it is read, and the session.
			name:             "assumed-role session",
			in:               "arn:aws:sts::444455556666:assumed-role/reader/botocore-session-1700000000",
			defaultPartition: "aws",
			want:             Principal{Kind: Role, Partition: "aws", Account: "444455556666", Name: "reader", Session: "botocore-session-1700000000"},
			wantARN:          "arn:aws:iam::444455556666:role/reader",
		},
		{
			name:             "role with one-level path",
			in:               "arn:aws:iam::444455556666:role/service-role/Reader",
			defaultPartition: "aws",
			want:             Principal{Kind: Role, Partition: "aws", Account: "444455556666", Path: "/service-role/", Name: "Reader"},
			wantARN:          "arn:aws:iam::444455556666:role/service-role/Reader",
		},
		{
			name:             "user with multi-level path",
			in:               "arn:aws:iam::444455556666:user/division_abc/subdivision_xyz/Bob",
			defaultPartition: "aws",
			want:             Principal{Kind: User, Partition: "aws", Account: "444455556666", Path: "/division_abc/subdivision_xyz/", Name: "Bob"},
			wantARN:          "arn:aws:iam::444455556666:user/division_abc/subdivision_xyz/Bob",
		},
		{
			name:             "role name with every allowed punctuation character",
			in:               "arn:aws:iam::444455556666:role/a+b=c,d.e@f-g_h",
			defaultPartition: "aws",
			want:             Principal{Kind: Role, Partition: "aws", Account: "444455556666", Path: "/", Name: "a+b=c,d.e@f-g_h"},
			wantARN:          "arn:aws:iam::444455556666:role/a+b=c,d.e@f-g_h",
		},
		{
			name:             "role name of 64 characters",
			in:               "arn:aws:iam::444455556666:role/" + strings.Repeat("r", 64),
			defaultPartition: "aws",
			want:             Principal{Kind: Role, Partition: "aws", Account: "444455556666", Path: "/", Name: strings.Repeat("r", 64)},
			wantARN:          "arn:aws:iam::444455556666:role/" + strings.Repeat("r", 64),
		},
		{
			name:             "account ID takes the default partition",
			in:               "444455556666",
			defaultPartition: "aws",
			want:             Principal{Kind: Account, Partition: "aws", Account: "444455556666"},
			wantARN:          "arn:aws:iam::444455556666:root",
		},
		{
			name:             "account ID in the China partition",
			in:               "444455556666",
			defaultPartition: "aws-cn",
			want:             Principal{Kind: Account, Partition: "aws-cn", Account: "444455556666"},
			wantARN:          "arn:aws-cn:iam::444455556666:root",
		},
		{
			name:             "root ARN is an account",
			in:               "arn:aws:iam::444455556666:root",
			defaultPartition: "aws",
			want:             Principal{Kind: Account, Partition: "aws", Account: "444455556666"},
			wantARN:          "arn:aws:iam::444455556666:root",
		},
		{
			name:             "root ARN keeps its own partition over the default",
			in:               "arn:aws-us-gov:iam::444455556666:root",
			defaultPartition: "aws",
			want:             Principal{Kind: Account, Partition: "aws-us-gov", Account: "444455556666"},
			wantARN:          "arn:aws-us-gov:iam::444455556666:root",
		},
		{
			name:             "role in aws-cn",
			in:               "arn:aws-cn:iam::444455556666:role/Reader",
			defaultPartition: "aws",
			want:             Principal{Kind: Role, Partition: "aws-cn", Account: "444455556666", Path: "/", Name: "Reader"},
			wantARN:          "arn:aws-cn:iam::444455556666:role/Reader",
		},
		{
			name:             "user with path in aws-us-gov",
			in:               "arn:aws-us-gov:iam::444455556666:user/team/Bob",
			defaultPartition: "aws",
			want:             Principal{Kind: User, Partition: "aws-us-gov", Account: "444455556666", Path: "/team/", Name: "Bob"},
			wantARN:          "arn:aws-us-gov:iam::444455556666:user/team/Bob",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrincipal(tc.in, tc.defaultPartition)
			if err != nil {
				t.Fatalf("ParsePrincipal(%q) error: %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePrincipal(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			if diff := cmp.Diff(tc.wantARN, got.ARN()); diff != "" {
				t.Errorf("ARN() mismatch (-want +got):\n%s", diff)
			}
			wantRoot := "arn:" + tc.want.Partition + ":iam::" + tc.want.Account + ":root"
			if diff := cmp.Diff(wantRoot, got.RootARN()); diff != "" {
				t.Errorf("RootARN() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePrincipalRejects(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		wantWildcard bool
		// wantMsg is a substring the error message must contain.
		wantMsg string
	}{
		{name: "bare wildcard", in: "*", wantWildcard: true},
		{name: "wildcard role name", in: "arn:aws:iam::444455556666:role/*", wantWildcard: true},
		{name: "wildcard account", in: "arn:aws:iam::*:root", wantWildcard: true},
		{name: "single-character wildcard", in: "arn:aws:iam::444455556666:role/Read?r", wantWildcard: true},
		{name: "empty string", in: "", wantMsg: "is not an IAM role ARN, user ARN, session ARN or 12-digit account ID"},
		{name: "garbage", in: "hello", wantMsg: "is not an IAM role ARN, user ARN, session ARN or 12-digit account ID"},
		{name: "11-digit account ID", in: "44445555666", wantMsg: "has 11 digits, and an AWS account ID has 12"},
		{name: "13-digit account ID", in: "4444555566667", wantMsg: "has 13 digits, and an AWS account ID has 12"},
		{name: "sts federated user ARN", in: "arn:aws:sts::444455556666:federated-user/Bob", wantMsg: "is not an assumed-role session ARN (want arn:aws:sts::ACCOUNT_ID:assumed-role/ROLE/SESSION)"},
		{name: "session ARN without a session", in: "arn:aws:sts::444455556666:assumed-role/Reader", wantMsg: "is not an assumed-role session ARN"},
		{name: "session ARN with a bad role name", in: "arn:aws:sts::444455556666:assumed-role/Re der/s", wantMsg: `"Re der" is not a valid IAM role name`},
		{name: "session ARN in an unknown partition", in: "arn:aws-xx:sts::444455556666:assumed-role/Reader/s", wantMsg: `unsupported partition "aws-xx"`},
		{name: "S3 bucket ARN", in: "arn:aws:s3:::bucket", wantMsg: "is not an IAM role or user ARN"},
		{name: "IAM ARN with a Region", in: "arn:aws:iam:us-east-1:444455556666:role/Reader", wantMsg: `names Region "us-east-1", and IAM ARNs have none`},
		{name: "IAM ARN with a non-numeric account", in: "arn:aws:iam::account:role/Reader", wantMsg: "is not an IAM role or user ARN"},
		{name: "unknown partition", in: "arn:aws-xx:iam::444455556666:role/Reader", wantMsg: `unsupported partition "aws-xx"`},
		{name: "ISO partition is unsupported", in: "arn:aws-iso:iam::444455556666:role/Reader", wantMsg: `unsupported partition "aws-iso"`},
		{name: "group ARN", in: "arn:aws:iam::444455556666:group/Readers", wantMsg: "want …:role/NAME or …:user/NAME"},
		{name: "policy ARN", in: "arn:aws:iam::444455556666:policy/P", wantMsg: "want …:role/NAME or …:user/NAME"},
		{name: "role without a slash", in: "arn:aws:iam::444455556666:role", wantMsg: "want …:role/NAME or …:user/NAME"},
		{name: "role with empty name", in: "arn:aws:iam::444455556666:role/", wantMsg: `"" is not a valid IAM role name`},
		{name: "role path without name", in: "arn:aws:iam::444455556666:role/team/", wantMsg: `"" is not a valid IAM role name`},
		{name: "role name with a space", in: "arn:aws:iam::444455556666:role/My Role", wantMsg: `"My Role" is not a valid IAM role name`},
		{name: "role name longer than 64", in: "arn:aws:iam::444455556666:role/" + strings.Repeat("r", 65), wantMsg: "is not a valid IAM role name"},
		{name: "user name with a colon", in: "arn:aws:iam::444455556666:user/a:b", wantMsg: `"a:b" is not a valid IAM user name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrincipal(tc.in, "aws")
			if err == nil {
				t.Fatalf("ParsePrincipal(%q) = %+v, want an error", tc.in, got)
			}
			if diff := cmp.Diff(Principal{}, got); diff != "" {
				t.Errorf("ParsePrincipal(%q) returned a non-zero principal with its error (-want +got):\n%s", tc.in, diff)
			}
			if gotWildcard := errors.Is(err, ErrWildcard); gotWildcard != tc.wantWildcard {
				t.Errorf("errors.Is(%v, ErrWildcard) = %v, want %v", err, gotWildcard, tc.wantWildcard)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestParseKeyRef(t *testing.T) {
	const (
		uuid = "1234abcd-12ab-34cd-56ef-1234567890ab"
		mrk  = "mrk-1234abcd12ab34cd56ef1234567890ab"
	)
	tests := []struct {
		name string
		in   string
		want KeyRef
	}{
		{name: "key ID", in: uuid, want: KeyRef{Form: KeyID, ID: uuid}},
		{name: "multi-Region key ID", in: mrk, want: KeyRef{Form: KeyID, ID: mrk}},
		{
			name: "key ARN",
			in:   "arn:aws:kms:us-west-2:111122223333:key/" + uuid,
			want: KeyRef{Form: KeyARN, Partition: "aws", Region: "us-west-2", Account: "111122223333", ID: uuid},
		},
		{
			name: "multi-Region key ARN",
			in:   "arn:aws:kms:eu-west-1:111122223333:key/" + mrk,
			want: KeyRef{Form: KeyARN, Partition: "aws", Region: "eu-west-1", Account: "111122223333", ID: mrk},
		},
		{
			name: "key ARN in aws-cn",
			in:   "arn:aws-cn:kms:cn-north-1:111122223333:key/" + uuid,
			want: KeyRef{Form: KeyARN, Partition: "aws-cn", Region: "cn-north-1", Account: "111122223333", ID: uuid},
		},
		{
			name: "key ARN in aws-us-gov",
			in:   "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/" + uuid,
			want: KeyRef{Form: KeyARN, Partition: "aws-us-gov", Region: "us-gov-west-1", Account: "111122223333", ID: uuid},
		},
		{name: "alias name", in: "alias/ExampleAlias", want: KeyRef{Form: AliasName, ID: "alias/ExampleAlias"}},
		{name: "alias name with slashes, underscores and hyphens", in: "alias/team/my_key-1", want: KeyRef{Form: AliasName, ID: "alias/team/my_key-1"}},
		{name: "AWS managed alias name", in: "alias/aws/s3", want: KeyRef{Form: AliasName, ID: "alias/aws/s3"}},
		{name: "alias name of 256 characters", in: "alias/" + strings.Repeat("a", 250), want: KeyRef{Form: AliasName, ID: "alias/" + strings.Repeat("a", 250)}},
		{
			name: "alias ARN",
			in:   "arn:aws:kms:us-west-2:111122223333:alias/ExampleAlias",
			want: KeyRef{Form: AliasARN, Partition: "aws", Region: "us-west-2", Account: "111122223333", ID: "alias/ExampleAlias"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKeyRef(tc.in)
			if err != nil {
				t.Fatalf("ParseKeyRef(%q) error: %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseKeyRef(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			if diff := cmp.Diff(tc.want.Form == KeyARN, IsFullKeyARN(tc.in)); diff != "" {
				t.Errorf("IsFullKeyARN(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseKeyRefRejects(t *testing.T) {
	const uuid = "1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{name: "empty", in: "", wantMsg: "is not a key ID, key ARN, alias name (alias/NAME) or alias ARN"},
		{name: "garbage", in: "my-key", wantMsg: "is not a key ID, key ARN, alias name (alias/NAME) or alias ARN"},
		{name: "upper-case key ID", in: strings.ToUpper(uuid), wantMsg: "is not a key ID"},
		{name: "key ID one digit short", in: uuid[:len(uuid)-1], wantMsg: "is not a key ID"},
		{name: "mrk key ID too short", in: "mrk-1234", wantMsg: "is not a key ID"},
		{name: "empty alias name", in: "alias/", wantMsg: "is not a valid alias name"},
		{name: "alias name with a space", in: "alias/my key", wantMsg: "is not a valid alias name"},
		{name: "alias name longer than 256", in: "alias/" + strings.Repeat("a", 251), wantMsg: "is not a valid alias name"},
		{name: "key ARN without Region", in: "arn:aws:kms::111122223333:key/" + uuid, wantMsg: "is not a KMS key or alias ARN"},
		{name: "key ARN without account", in: "arn:aws:kms:us-west-2::key/" + uuid, wantMsg: "is not a KMS key or alias ARN"},
		{name: "key ARN with a bad key ID", in: "arn:aws:kms:us-west-2:111122223333:key/not-a-key", wantMsg: "is not a KMS key or alias ARN"},
		{name: "ARN of another service", in: "arn:aws:s3:::bucket", wantMsg: "is not a KMS key or alias ARN"},
		{name: "KMS ARN of another resource type", in: "arn:aws:kms:us-west-2:111122223333:grant/" + uuid, wantMsg: "is not a KMS key or alias ARN"},
		{name: "alias ARN with a bad alias", in: "arn:aws:kms:us-west-2:111122223333:alias/", wantMsg: "is not a KMS key or alias ARN"},
		{name: "truncated ARN", in: "arn:aws:kms", wantMsg: "is not a KMS key or alias ARN"},
		{name: "unknown partition", in: "arn:aws-xx:kms:us-west-2:111122223333:key/" + uuid, wantMsg: `unsupported partition "aws-xx"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKeyRef(tc.in)
			if err == nil {
				t.Fatalf("ParseKeyRef(%q) = %+v, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			if IsFullKeyARN(tc.in) {
				t.Errorf("IsFullKeyARN(%q) = true, want false", tc.in)
			}
		})
	}
}

func TestParseKeyARN(t *testing.T) {
	const uuid = "1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name    string
		in      string
		want    KeyRef
		wantErr string
	}{
		{
			name: "key ARN",
			in:   "arn:aws:kms:us-west-2:111122223333:key/" + uuid,
			want: KeyRef{Form: KeyARN, Partition: "aws", Region: "us-west-2", Account: "111122223333", ID: uuid},
		},
		{name: "key ID is not a key ARN", in: uuid, wantErr: "is not a key ARN (it is the key ID form)"},
		{name: "alias name is not a key ARN", in: "alias/x", wantErr: "is not a key ARN (it is the alias name form)"},
		{name: "alias ARN is not a key ARN", in: "arn:aws:kms:us-west-2:111122223333:alias/x", wantErr: "is not a key ARN (it is the alias ARN form)"},
		{name: "garbage", in: "x", wantErr: "is not a key ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKeyARN(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseKeyARN(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeyARN(%q) error: %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseKeyARN(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestKeyARNOf(t *testing.T) {
	tests := []struct {
		region, account, keyID string
		want                   string
	}{
		{"us-west-2", "111122223333", "k", "arn:aws:kms:us-west-2:111122223333:key/k"},
		{"cn-north-1", "111122223333", "k", "arn:aws-cn:kms:cn-north-1:111122223333:key/k"},
		{"us-gov-east-1", "111122223333", "k", "arn:aws-us-gov:kms:us-gov-east-1:111122223333:key/k"},
	}
	for _, tc := range tests {
		t.Run(tc.region, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, KeyARNOf(tc.region, tc.account, tc.keyID)); diff != "" {
				t.Errorf("KeyARNOf mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPartitionOf(t *testing.T) {
	tests := []struct {
		region string
		want   string
	}{
		{"us-east-1", "aws"},
		{"eu-west-1", "aws"},
		{"ap-southeast-2", "aws"},
		{"", "aws"},
		{"cn-north-1", "aws-cn"},
		{"cn-northwest-1", "aws-cn"},
		{"us-gov-west-1", "aws-us-gov"},
		{"us-gov-east-1", "aws-us-gov"},
	}
	for _, tc := range tests {
		t.Run("region="+tc.region, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PartitionOf(tc.region)); diff != "" {
				t.Errorf("PartitionOf(%q) mismatch (-want +got):\n%s", tc.region, diff)
			}
		})
	}
}

func TestServiceHost(t *testing.T) {
	tests := []struct {
		service, region string
		want            string
	}{
		{"s3", "us-west-2", "s3.us-west-2.amazonaws.com"},
		{"s3", "us-east-1", "s3.us-east-1.amazonaws.com"},
		{"kms", "eu-central-1", "kms.eu-central-1.amazonaws.com"},
		{"s3", "cn-north-1", "s3.cn-north-1.amazonaws.com.cn"},
		{"s3", "cn-northwest-1", "s3.cn-northwest-1.amazonaws.com.cn"},
		{"s3", "us-gov-west-1", "s3.us-gov-west-1.amazonaws.com"},
	}
	for _, tc := range tests {
		t.Run(tc.service+"/"+tc.region, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ServiceHost(tc.service, tc.region)); diff != "" {
				t.Errorf("ServiceHost(%q, %q) mismatch (-want +got):\n%s", tc.service, tc.region, diff)
			}
		})
	}
}

func TestValidateBucketName(t *testing.T) {
	tests := []struct {
		name    string
		bucket  string
		legacy  bool // valid only under us-east-1's rules before March 2018
		wantErr bool
	}{
		{name: "simple", bucket: "my-bucket"},
		{name: "dots", bucket: "my.bucket.example"},
		{name: "digits", bucket: "123bucket456"},
		{name: "minimum length 3", bucket: "abc"},
		{name: "maximum length 63", bucket: strings.Repeat("a", 63)},
		{name: "too short", bucket: "ab", wantErr: true},
		{name: "empty", bucket: "", wantErr: true},
		{name: "starts with hyphen", bucket: "-bucket", wantErr: true},
		{name: "starts with dot", bucket: ".bucket", wantErr: true},
		{name: "starts with underscore", bucket: "_bucket", wantErr: true},
		{name: "slash", bucket: "my/bucket", wantErr: true},
		{name: "colon", bucket: "my:bucket", wantErr: true},
		{name: "space", bucket: "my bucket", wantErr: true},
		{name: "wildcard", bucket: "my-*", wantErr: true},
		{name: "too long even for legacy rules", bucket: strings.Repeat("a", 256), wantErr: true},
		// Legacy names: S3's rules of us-east-1 before March 2018.
		{name: "upper case", bucket: "My-Bucket", legacy: true},
		{name: "underscore", bucket: "my_bucket", legacy: true},
		{name: "64 characters", bucket: strings.Repeat("a", 64), legacy: true},
		{name: "255 characters", bucket: "A" + strings.Repeat("_b", 127), legacy: true},
		{name: "ends with hyphen", bucket: "bucket-", legacy: true},
		{name: "ends with dot", bucket: "bucket.", legacy: true},
		{name: "adjacent dots", bucket: "my..bucket", legacy: true},
		{name: "short upper case", bucket: "ABC", legacy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateBucketName(tc.bucket)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("ValidateBucketName(%q) = %v, want error: %v", tc.bucket, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "is not a valid S3 bucket name") {
				t.Errorf("error %q does not say the name is invalid", err)
			}
			if got := IsLegacyBucketName(tc.bucket); got != tc.legacy {
				t.Errorf("IsLegacyBucketName(%q) = %v, want %v", tc.bucket, got, tc.legacy)
			}
		})
	}
}

func TestCheckBucketRegion(t *testing.T) {
	for _, tc := range []struct {
		bucket, region, wantErr string
	}{
		{"doc-example-bucket", "us-west-2", ""},
		{"doc-example-bucket", "us-east-1", ""},
		{"Legacy_Bucket", "us-east-1", ""},
		{"Legacy_Bucket", "us-west-2", `"Legacy_Bucket" is a legacy bucket name, which S3 allowed only in us-east-1 (before March 2018), but the bucket is in us-west-2`},
		{"legacy..bucket", "eu-west-1", `"legacy..bucket" is a legacy bucket name, which S3 allowed only in us-east-1 (before March 2018), but the bucket is in eu-west-1`},
	} {
		err := CheckBucketRegion(tc.bucket, tc.region)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff(tc.wantErr, got); diff != "" {
			t.Errorf("CheckBucketRegion(%q, %q) error (-want +got):\n%s", tc.bucket, tc.region, diff)
		}
	}
}

func TestBucketAndObjectARNs(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"bucket", BucketARN("aws", "b"), "arn:aws:s3:::b"},
		{"bucket in China", BucketARN("aws-cn", "b"), "arn:aws-cn:s3:::b"},
		{"objects without prefix", ObjectsARN("aws", "b", ""), "arn:aws:s3:::b/*"},
		{"objects under prefix", ObjectsARN("aws", "b", "reports/"), "arn:aws:s3:::b/reports/*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A role or user ARN parsed and rebuilt is the same ARN.
func TestRoleAndUserARNRoundTrip(t *testing.T) {
	for _, in := range []string{
		"arn:aws:iam::444455556666:role/Reader",
		"arn:aws:iam::444455556666:role/service-role/Reader",
		"arn:aws-cn:iam::444455556666:user/a/b/Bob",
		"arn:aws-us-gov:iam::444455556666:user/Bob",
	} {
		t.Run(in, func(t *testing.T) {
			p, err := ParsePrincipal(in, "aws")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(in, p.ARN()); diff != "" {
				t.Errorf("rebuilt ARN mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsAccountID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"444455556666", true},
		{"000000000000", true},
		{"44445555666", false},
		{"4444555566667", false},
		{"44445555666a", false},
		{" 444455556666", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := IsAccountID(tc.in); got != tc.want {
				t.Errorf("IsAccountID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestIsAccountPrincipal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"account ID", "444455556666", true},
		{"root ARN", "arn:aws:iam::444455556666:root", true},
		{"root ARN in aws-cn", "arn:aws-cn:iam::444455556666:root", true},
		{"root ARN in aws-us-gov", "arn:aws-us-gov:iam::444455556666:root", true},
		{"role ARN", "arn:aws:iam::444455556666:role/Reader", false},
		{"user ARN", "arn:aws:iam::444455556666:user/Bob", false},
		{"sts assumed-role ARN", "arn:aws:sts::444455556666:assumed-role/Reader/s", false},
		{"root resource of a non-IAM ARN", "arn:aws:sts::444455556666:root", false},
		{"root ARN without account", "arn:aws:iam:::root", false},
		{"wildcard", "*", false},
		{"service principal", "s3.amazonaws.com", false},
		{"unique role ID", "AROAEXAMPLEID1234567", false},
		{"11-digit number", "44445555666", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsAccountPrincipal(tc.in); got != tc.want {
				t.Errorf("IsAccountPrincipal(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestAccountOfPrincipal(t *testing.T) {
	type result struct {
		Account string
		OK      bool
	}
	tests := []struct {
		name string
		in   string
		want result
	}{
		{"account ID", "444455556666", result{"444455556666", true}},
		{"root ARN", "arn:aws:iam::444455556666:root", result{"444455556666", true}},
		{"role ARN", "arn:aws:iam::444455556666:role/Reader", result{"444455556666", true}},
		{"role ARN with path", "arn:aws:iam::444455556666:role/a/b/Reader", result{"444455556666", true}},
		{"user ARN in aws-cn", "arn:aws-cn:iam::444455556666:user/Bob", result{"444455556666", true}},
		{"sts assumed-role ARN", "arn:aws:sts::444455556666:assumed-role/Reader/s", result{"444455556666", true}},
		{"wildcard", "*", result{"", false}},
		{"service principal", "s3.amazonaws.com", result{"", false}},
		{"unique role ID", "AROAEXAMPLEID1234567", result{"", false}},
		{"S3 ARN has no account", "arn:aws:s3:::bucket", result{"", false}},
		{"ARN with non-numeric account", "arn:aws:iam::acct:role/R", result{"", false}},
		{"empty", "", result{"", false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acct, ok := AccountOfPrincipal(tc.in)
			if diff := cmp.Diff(tc.want, result{acct, ok}); diff != "" {
				t.Errorf("AccountOfPrincipal(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// Slips made copying a grantee by hand are named exactly, with the value
// meant where only one can have been.
func TestParsePrincipalSlips(t *testing.T) {
	for _, tc := range []struct {
		in, wantProblem, wantSuggestion string
	}{
		{in: "arn:aws:iam:444455556666:role/reader", wantProblem: "lacks a colon: IAM ARNs have an empty Region field, arn:aws:iam::ACCOUNT:…", wantSuggestion: "arn:aws:iam::444455556666:role/reader"},
		{in: "arn:aws-cn:sts:444455556666:assumed-role/r/s", wantProblem: "lacks a colon: STS ARNs have an empty Region field, arn:aws-cn:sts::ACCOUNT:…", wantSuggestion: "arn:aws-cn:sts::444455556666:assumed-role/r/s"},
		{in: "arn:aws:iam:us-east-1:444455556666:user/bob", wantProblem: `names Region "us-east-1", and IAM ARNs have none: arn:aws:iam::ACCOUNT:…`, wantSuggestion: "arn:aws:iam::444455556666:user/bob"},
		{in: "4444-5555-6666", wantProblem: "is written in groups, as the AWS console shows account IDs; give the 12 digits alone", wantSuggestion: "444455556666"},
		{in: "4444 5555 6666", wantProblem: "is written in groups, as the AWS console shows account IDs; give the 12 digits alone", wantSuggestion: "444455556666"},
		{in: "arn:aws:iam::4444-5555-6666:role/reader", wantProblem: "names account 4444-5555-6666, which is written in groups, as the AWS console shows account IDs; give the 12 digits alone", wantSuggestion: "arn:aws:iam::444455556666:role/reader"},
		{in: "44445555666", wantProblem: "has 11 digits, and an AWS account ID has 12 (if a spreadsheet or a number type dropped a leading zero, it is 044445555666)"},
		{in: "4444555566667", wantProblem: "has 13 digits, and an AWS account ID has 12"},
		{in: "arn:aws:iam::44445555666:role/reader", wantProblem: "names account 44445555666, which has 11 digits, and an AWS account ID has 12 (if a spreadsheet or a number type dropped a leading zero, it is 044445555666)"},
		{in: " arn:aws:iam::444455556666:role/reader\n", wantProblem: "has spaces around it", wantSuggestion: "arn:aws:iam::444455556666:role/reader"},
		{in: "  444455556666", wantProblem: "has spaces around it", wantSuggestion: "444455556666"},
		{in: "arn:aws:iam::444455556666:Role/reader", wantProblem: `spells "Role" with capitals; ARNs write it "role"`, wantSuggestion: "arn:aws:iam::444455556666:role/reader"},
		{in: "arn:aws:iam:4444-5555-6666:role/reader", wantProblem: "lacks a colon: IAM ARNs have an empty Region field, arn:aws:iam::ACCOUNT:…; and it names account 4444-5555-6666, which is written in groups, as the AWS console shows account IDs; give the 12 digits alone", wantSuggestion: "arn:aws:iam::444455556666:role/reader"},
		{in: " arn:aws:iam:444455556666:role/reader", wantProblem: "has spaces around it; and it lacks a colon: IAM ARNs have an empty Region field, arn:aws:iam::ACCOUNT:…", wantSuggestion: "arn:aws:iam::444455556666:role/reader"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParsePrincipal(tc.in, "aws")
			var pe *PrincipalError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PrincipalError", err)
			}
			if pe.Problem != tc.wantProblem || pe.Suggestion != tc.wantSuggestion {
				t.Errorf("problem %q, suggestion %q;\nwant %q, %q", pe.Problem, pe.Suggestion, tc.wantProblem, tc.wantSuggestion)
			}
		})
	}
	// Other mistakes keep their own messages.
	for _, in := range []string{"arn:aws:iam::444455556666:group/g", "arn:aws:s3:::bucket", "reader"} {
		if _, err := ParsePrincipal(in, "aws"); err == nil || errors.As(err, new(*PrincipalError)) {
			t.Errorf("ParsePrincipal(%q) = %v, want its ordinary error", in, err)
		}
	}
}
