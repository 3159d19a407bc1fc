package denial

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	session = "arn:aws:sts::444455556666:assumed-role/reader/botocore-session-1700000000"
	object  = "arn:aws:s3:::doc-example-bucket/reports/q1.csv"
	key     = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// s3Read is what a message of a denied GetObject of object by session
// says, but for the layer.
func s3Read(l *Layer) *Denial {
	return &Denial{Source: FromMessage, Caller: session, Action: "s3:GetObject", Resource: object,
		Bucket: "doc-example-bucket", Object: "reports/q1.csv", Layer: l}
}

func TestParseMessage(t *testing.T) {
	body := "User: " + session + ` is not authorized to perform: s3:GetObject on resource: "` + object + `" `
	kmsBody := "User: " + session + " is not authorized to perform: kms:Decrypt on resource: " + key + " "
	withCLI := func(d *Denial, code, op string) *Denial { d.Code, d.Operation = code, op; return d }
	kms := func(l *Layer) *Denial {
		return &Denial{Source: FromMessage, Caller: session, Action: "kms:Decrypt", Resource: key, Key: key, Layer: l}
	}
	tests := []struct {
		name string
		text string
		want *Denial
	}{
		// AWS's text alone, with each policy type the S3 and IAM guides show.
		{"no resource-based policy allows", body + "because no resource-based policy allows the s3:GetObject action",
			s3Read(&Layer{Type: ResourceBased})},
		{"explicit deny in a resource-based policy", body + "with an explicit deny in a resource-based policy",
			s3Read(&Layer{Type: ResourceBased, Explicit: true})},
		{"explicit deny in an identity-based policy", body + "with an explicit deny in an identity-based policy",
			s3Read(&Layer{Type: IdentityBased, Explicit: true})},
		{"no identity-based policy allows", body + "because no identity-based policy allows the s3:GetObject action",
			s3Read(&Layer{Type: IdentityBased})},
		{"explicit deny in a service control policy", body + "with an explicit deny in a service control policy",
			s3Read(&Layer{Type: SCP, Explicit: true})},
		{"no service control policy allows", body + "because no service control policy allows the s3:GetObject action",
			s3Read(&Layer{Type: SCP})},
		{"explicit deny in a permissions boundary", body + "with an explicit deny in a permissions boundary",
			s3Read(&Layer{Type: Boundary, Explicit: true})},
		{"no permissions boundary allows", body + "because no permissions boundary allows the s3:GetObject action",
			s3Read(&Layer{Type: Boundary})},
		{"no session policy allows", body + "because no session policy allows the s3:GetObject action",
			s3Read(&Layer{Type: Session})},
		{"explicit deny in a session policy", body + "with an explicit deny in a session policy",
			s3Read(&Layer{Type: Session, Explicit: true})},
		{"explicit deny in a resource control policy", body + "with an explicit deny in a resource control policy",
			s3Read(&Layer{Type: RCP, Explicit: true})},
		{"explicit deny in a VPC endpoint policy", body + "with an explicit deny in a VPC endpoint policy",
			s3Read(&Layer{Type: VPCEndpoint, Explicit: true})},
		{"a policy type AWS may add", body + "because no bucket ACL policy allows the s3:GetObject action",
			s3Read(&Layer{Type: "bucket ACL policy"})},
		{"a bare explicit deny", body + "with an explicit deny", s3Read(&Layer{Explicit: true})},
		// The policy's ARN, which AWS adds within one account or organization.
		{"explicit deny naming the SCP", body + "with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4",
			s3Read(&Layer{Type: SCP, Explicit: true, Policy: "arn:aws:organizations::987654321098:policy/o-a1b2c3d4e5/service_control_policy/p-a1b2c3d4"})},
		{"explicit deny naming the policy and an authorization link", body + "with an explicit deny in an identity-based policy: arn:aws:iam::444455556666:policy/DenyReports. Go to https://us-east-1.console.aws.amazon.com/iam/home#/authorization-details/EXAMPLE",
			s3Read(&Layer{Type: IdentityBased, Explicit: true, Policy: "arn:aws:iam::444455556666:policy/DenyReports"})},

		// Wrapped by the AWS CLI and the SDKs.
		{"AWS CLI", "An error occurred (AccessDenied) when calling the GetObject operation: " + body + "because no resource-based policy allows the s3:GetObject action",
			withCLI(s3Read(&Layer{Type: ResourceBased}), "AccessDenied", "GetObject")},
		{"aws s3 cp", "download failed: s3://doc-example-bucket/reports/q1.csv to ./q1.csv An error occurred (AccessDenied) when calling the GetObject operation: " + body + "with an explicit deny in a resource-based policy",
			withCLI(s3Read(&Layer{Type: ResourceBased, Explicit: true}), "AccessDenied", "GetObject")},
		{"AWS CLI after retries", "An error occurred (AccessDenied) when calling the GetObject operation (reached max retries: 2): " + body + "because no identity-based policy allows the s3:GetObject action",
			withCLI(s3Read(&Layer{Type: IdentityBased}), "AccessDenied", "GetObject")},
		{"Go SDK", "operation error S3: GetObject, https response error StatusCode: 403, RequestID: 4QWX2Y0EXAMPLE, HostID: bWVhbmluZ2xlc3MgaG9zdCBpZA==, api error AccessDenied: " + body + "because no resource-based policy allows the s3:GetObject action",
			func() *Denial {
				d := withCLI(s3Read(&Layer{Type: ResourceBased}), "AccessDenied", "GetObject")
				d.Service = "S3"
				return d
			}()},
		{"Java SDK trailer", "software.amazon.awssdk.services.s3.model.S3Exception: " + body + "because no session policy allows the s3:GetObject action (Service: S3, Status Code: 403, Request ID: 4QWX2Y0EXAMPLE, Extended Request ID: bWVhbmluZ2xlc3M=)",
			s3Read(&Layer{Type: Session})},

		// KMS, directly and relayed by S3 for a read.
		{"KMS alone", kmsBody + "because no resource-based policy allows the kms:Decrypt action",
			kms(&Layer{Type: ResourceBased})},
		{"KMS through the CLI's Decrypt", "An error occurred (AccessDeniedException) when calling the Decrypt operation: " + kmsBody + "because no identity-based policy allows the kms:Decrypt action",
			withCLI(kms(&Layer{Type: IdentityBased}), "AccessDeniedException", "Decrypt")},
		{"KMS relayed by S3's GetObject", "An error occurred (AccessDenied) when calling the GetObject operation: " + kmsBody + "because no resource-based policy allows the kms:Decrypt action",
			func() *Denial {
				d := withCLI(kms(&Layer{Type: ResourceBased}), "AccessDenied", "GetObject")
				d.ViaS3 = true
				return d
			}()},
		{"KMS through the Go SDK", "operation error KMS: Decrypt, https response error StatusCode: 400, RequestID: 9a473643-0000-4000-8000-000000000000, api error AccessDeniedException: " + kmsBody + "because no resource-based policy allows the kms:Decrypt action",
			func() *Denial {
				d := withCLI(kms(&Layer{Type: ResourceBased}), "AccessDeniedException", "Decrypt")
				d.Service = "KMS"
				return d
			}()},
		{"KMS naming no key", "User: " + session + " is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because no identity-based policy allows the kms:Decrypt action",
			&Denial{Source: FromMessage, Caller: session, Action: "kms:Decrypt", Layer: &Layer{Type: IdentityBased}}},
		{"KMS's raw JSON body", `{"__type":"com.amazonaws.kms#AccessDeniedException","message":"` + kmsBody + `because no resource-based policy allows the kms:Decrypt action"}`,
			func() *Denial {
				d := kms(&Layer{Type: ResourceBased})
				d.Code = "AccessDeniedException"
				return d
			}()},
		{"KMS without a reason, as before 2021", kmsBody, kms(nil)},

		// S3's short message, which says nothing more.
		{"short", "Access Denied", &Denial{Source: FromMessage}},
		{"short with a full stop", "Access Denied.", &Denial{Source: FromMessage}},
		{"short through the CLI", "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
			&Denial{Source: FromMessage, Code: "AccessDenied", Operation: "GetObject", Action: "s3:GetObject", ActionFromOperation: true}},
		{"HEAD through the CLI", "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden",
			&Denial{Source: FromMessage, Code: "403", Operation: "HeadObject", Action: "s3:GetObject", ActionFromOperation: true}},
		{"short through the Go SDK", "operation error S3: GetObject, https response error StatusCode: 403, RequestID: 4QWX2Y0EXAMPLE, HostID: aG9zdA==, api error AccessDenied: Access Denied",
			&Denial{Source: FromMessage, Service: "S3", Code: "AccessDenied", Operation: "GetObject", Action: "s3:GetObject", ActionFromOperation: true}},
		{"short from the Go SDK v1", "AccessDenied: Access Denied\n\tstatus code: 403, request id: 4QWX2Y0EXAMPLE, host id: aG9zdA==",
			&Denial{Source: FromMessage, Code: "AccessDenied"}},
		{"the code alone", "AccessDenied", &Denial{Source: FromMessage, Code: "AccessDenied"}},
		{"short from the Java SDK v1", "com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 4QWX2Y0EXAMPLE; S3 Extended Request ID: aG9zdA==; Proxy: null)",
			&Denial{Source: FromMessage, Code: "AccessDenied"}},
		{"short from the JavaScript SDK", "AccessDenied: Access Denied", &Denial{Source: FromMessage, Code: "AccessDenied"}},
		{"S3's raw XML body", `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4QWX2Y0EXAMPLE</RequestId></Error>`,
			&Denial{Source: FromMessage, Code: "AccessDenied"}},
		{"another reason S3 gives", "User: " + session + ` is not authorized to perform: s3:GetObject on resource: "` + object + `" because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access.`,
			func() *Denial {
				d := s3Read(nil)
				d.Reason = "because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access"
				return d
			}()},

		// As people paste them.
		{"line breaks and indentation", "An error occurred (AccessDenied) when calling the GetObject operation:\n  User: " + session + "\n  is not authorized to perform: s3:GetObject\n  on resource: \"" + object + "\"\n  because no resource-based policy allows the s3:GetObject action\n",
			withCLI(s3Read(&Layer{Type: ResourceBased}), "AccessDenied", "GetObject")},
		{"quoted as a whole", `"` + body + `because no resource-based policy allows the s3:GetObject action"`,
			s3Read(&Layer{Type: ResourceBased})},
		{"escaped quotes from a JSON log", strings.ReplaceAll(body, `"`, `\"`) + "because no resource-based policy allows the s3:GetObject action",
			s3Read(&Layer{Type: ResourceBased})},
		{"a trailing full stop", body + "with an explicit deny in a resource-based policy.",
			s3Read(&Layer{Type: ResourceBased, Explicit: true})},
		{"a quoted caller", `User: "` + session + `" is not authorized to perform: s3:GetObject on resource: "` + object + `" because no resource-based policy allows the s3:GetObject action`,
			s3Read(&Layer{Type: ResourceBased})},
		{"resource without a colon", "User: " + session + ` is not authorized to perform: s3:GetObject on resource "` + object + `" with an explicit deny in a resource-based policy`,
			s3Read(&Layer{Type: ResourceBased, Explicit: true})},
		{"no resource, as S3's examples show", "User: arn:aws:iam::444455556666:user/MaryMajor is not authorized to perform: s3:GetObject because no VPC endpoint policy allows the s3:GetObject action",
			&Denial{Source: FromMessage, Caller: "arn:aws:iam::444455556666:user/MaryMajor", Action: "s3:GetObject", Layer: &Layer{Type: VPCEndpoint}}},
		{"a key with spaces", "User: " + session + ` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::doc-example-bucket/reports/q1 final.csv" because no resource-based policy allows the s3:GetObject action`,
			&Denial{Source: FromMessage, Caller: session, Action: "s3:GetObject", Resource: "arn:aws:s3:::doc-example-bucket/reports/q1 final.csv",
				Bucket: "doc-example-bucket", Object: "reports/q1 final.csv", Layer: &Layer{Type: ResourceBased}}},
		{"a user whose name holds User", "User: arn:aws:iam::444455556666:user/User1 is not authorized to perform: s3:GetObject",
			&Denial{Source: FromMessage, Caller: "arn:aws:iam::444455556666:user/User1", Action: "s3:GetObject"}},
		{"a bucket ARN", "User: " + session + ` is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::doc-example-bucket" because no resource-based policy allows the s3:ListBucket action`,
			&Denial{Source: FromMessage, Caller: session, Action: "s3:ListBucket", Resource: "arn:aws:s3:::doc-example-bucket", Bucket: "doc-example-bucket", Layer: &Layer{Type: ResourceBased}}},
		{"another service", "An error occurred (AccessDenied) when calling the ListRoles operation: User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy",
			&Denial{Source: FromMessage, Code: "AccessDenied", Operation: "ListRoles", Caller: "arn:aws:iam::123456789012:user/Matt", Action: "iam:ListRoles",
				Resource: "arn:aws:iam::123456789012:role/*", Layer: &Layer{Type: SCP, Explicit: true}}},
		{"a caller that is not an ARN", "User xxxxxxx is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because no identity-based policy allows the kms:Decrypt action",
			&Denial{Source: FromMessage, Caller: "xxxxxxx", Action: "kms:Decrypt", Layer: &Layer{Type: IdentityBased}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessage(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseMessageRefuses(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"empty", "", "the message is empty"},
		{"blank", " \n\t ", "the message is empty"},
		{"another error", "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.", "the message is a NoSuchKey error, not an access denial"},
		{"not a message", "hello", `not an AccessDenied message of S3 or KMS: "hello"`},
		{"a long text", strings.Repeat("x", 200), "not an AccessDenied message of S3 or KMS: \"" + strings.Repeat("x", 80) + "…\""},
		{"no action", "User: " + session + " is not authorized to perform:", `the message names no action after "is not authorized to perform:"`},
		{"an action that is not one", "User: " + session + " is not authorized to perform: GetObject on resource: x", `"GetObject", where the message names the action, is not an action (want service:Action, such as s3:GetObject)`},
		{"a reason naming no type", "User: " + session + " is not authorized to perform: s3:GetObject because no allows", `the message says "because no allows" but names no policy type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseMessage(tt.text)
			if err == nil {
				t.Fatalf("no error; got %+v", d)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestLayerString(t *testing.T) {
	for l, want := range map[Layer]string{
		{Type: ResourceBased}:                 "no resource-based policy allows the action",
		{Type: IdentityBased, Explicit: true}: "an explicit deny in an identity-based policy",
		{Type: SCP, Explicit: true}:           "an explicit deny in a service control policy",
		{Explicit: true}:                      "an explicit deny",
	} {
		if got := l.String(); got != want {
			t.Errorf("%+v: %q, want %q", l, got, want)
		}
	}
}

func TestParseS3ARN(t *testing.T) {
	for s, want := range map[string][3]string{
		"arn:aws:s3:::doc-example-bucket/reports/q1.csv":   {"doc-example-bucket", "reports/q1.csv", "true"},
		"arn:aws-cn:s3:::doc-example-bucket/a/b/c":         {"doc-example-bucket", "a/b/c", "true"},
		"arn:aws:s3:::doc-example-bucket":                  {"doc-example-bucket", "", "true"},
		"arn:aws:s3:::doc-example-bucket/":                 {"doc-example-bucket", "", "true"},
		"arn:aws:s3:us-west-2:111122223333:accesspoint/ap": {"", "", "false"},
		"arn:aws:kms:us-west-2:111122223333:key/x":         {"", "", "false"},
		"arn:aws:s3:::a/b":                                 {"", "", "false"},
		"s3://doc-example-bucket/x":                        {"", "", "false"},
	} {
		b, o, ok := ParseS3ARN(s)
		if got := [3]string{b, o, map[bool]string{true: "true", false: "false"}[ok]}; got != want {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
}

// FuzzParseMessage checks that no text makes the parser panic, and that
// what it reads is a part of the text.
func FuzzParseMessage(f *testing.F) {
	f.Add("User: " + session + ` is not authorized to perform: s3:GetObject on resource: "` + object + `" with an explicit deny in a service control policy: arn:aws:organizations::1:policy/p`)
	f.Add("An error occurred (AccessDenied) when calling the GetObject operation: Access Denied")
	f.Add(`{"__type":"AccessDeniedException","message":"User: x is not authorized to perform: kms:Decrypt"}`)
	f.Add("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
	f.Add(`"User: "`)
	f.Fuzz(func(t *testing.T, text string) {
		d, err := ParseMessage(text)
		if err != nil {
			return
		}
		flat := normalize(strings.ReplaceAll(text, `\"`, `"`))
		if d.Action != "" && !d.ActionFromOperation && !strings.Contains(flat, d.Action) {
			t.Errorf("action %q is not in the text", d.Action)
		}
	})
}
