package denial

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// s3Record is a data event of a GetObject the bucket's account denied to a
// session of a role with a path, as a trail in the caller's account records
// it.
const s3Record = `{
  "eventVersion": "1.10",
  "userIdentity": {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEROLEID0001:etl-nightly",
    "arn": "arn:aws:sts::444455556666:assumed-role/etl/etl-nightly",
    "accountId": "444455556666",
    "accessKeyId": "ASIAEXAMPLEKEYID0001",
    "sessionContext": {
      "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID0001", "arn": "arn:aws:iam::444455556666:role/data/etl", "accountId": "444455556666", "userName": "etl"},
      "attributes": {"creationDate": "2026-03-02T07:55:12Z", "mfaAuthenticated": "false"}
    }
  },
  "eventTime": "2026-03-02T08:01:44Z",
  "eventSource": "s3.amazonaws.com",
  "eventName": "GetObject",
  "awsRegion": "us-west-2",
  "sourceIPAddress": "198.51.100.23",
  "userAgent": "[aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.1 os/linux#6.8.0 command/s3.cp]",
  "errorCode": "AccessDenied",
  "errorMessage": "Access Denied",
  "requestParameters": {"bucketName": "doc-example-bucket", "Host": "doc-example-bucket.s3.us-west-2.amazonaws.com", "key": "reports/q1.csv"},
  "responseElements": null,
  "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "bytesTransferredOut": 243},
  "requestID": "7KQ3MZ0EXAMPLE01",
  "eventID": "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  "readOnly": true,
  "resources": [
    {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::doc-example-bucket/reports/q1.csv"},
    {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::doc-example-bucket"}
  ],
  "eventType": "AwsApiCall",
  "managementEvent": false,
  "recipientAccountId": "444455556666",
  "eventCategory": "Data"
}`

// kmsRecord is the Decrypt S3 made for the same session, denied by the key
// policy: S3 invoked it, the request names no key (the ciphertext does)
// and the encryption context names the object.
const kmsRecord = `{
  "eventVersion": "1.10",
  "userIdentity": {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEROLEID0001:etl-nightly",
    "arn": "arn:aws:sts::444455556666:assumed-role/etl/etl-nightly",
    "accountId": "444455556666",
    "accessKeyId": "ASIAEXAMPLEKEYID0002",
    "sessionContext": {
      "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID0001", "arn": "arn:aws:iam::444455556666:role/data/etl", "accountId": "444455556666", "userName": "etl"},
      "attributes": {"creationDate": "2026-03-02T07:55:12Z", "mfaAuthenticated": "false"}
    },
    "invokedBy": "s3.amazonaws.com"
  },
  "eventTime": "2026-03-02T08:01:44Z",
  "eventSource": "kms.amazonaws.com",
  "eventName": "Decrypt",
  "awsRegion": "us-west-2",
  "sourceIPAddress": "s3.amazonaws.com",
  "userAgent": "s3.amazonaws.com",
  "errorCode": "AccessDenied",
  "errorMessage": "User: arn:aws:sts::444455556666:assumed-role/etl/etl-nightly is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no resource-based policy allows the kms:Decrypt action",
  "requestParameters": {
    "encryptionContext": {"aws:s3:arn": "arn:aws:s3:::doc-example-bucket/reports/q1.csv"},
    "encryptionAlgorithm": "SYMMETRIC_DEFAULT"
  },
  "responseElements": null,
  "requestID": "5d0c3f0e-8a4b-4c11-9b0e-2f3a4b5c6d7e",
  "eventID": "8f9e0d1c-2b3a-4c5d-8e6f-7a8b9c0d1e2f",
  "readOnly": true,
  "resources": [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],
  "eventType": "AwsApiCall",
  "managementEvent": true,
  "recipientAccountId": "444455556666",
  "eventCategory": "Management"
}`

// allowed is a record of a call that succeeded.
const allowed = `{"eventSource": "s3.amazonaws.com", "eventName": "ListObjectsV2", "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::444455556666:assumed-role/etl/etl-nightly"}, "requestParameters": {"bucketName": "doc-example-bucket"}}`

// ec2Denied is a denied call of another service.
const ec2Denied = `{"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "errorCode": "Client.UnauthorizedOperation", "errorMessage": "You are not authorized to perform this operation."}`

// iamDenied is a denied call of another service that uses AccessDenied.
const iamDenied = `{"eventSource": "iam.amazonaws.com", "eventName": "ListRoles", "errorCode": "AccessDenied", "errorMessage": "User: arn:aws:sts::444455556666:assumed-role/etl/etl-nightly is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::444455556666:role/ because no identity-based policy allows the iam:ListRoles action", "userIdentity": {"sessionContext": "not an object"}}`

func s3Want() *Denial {
	return &Denial{Source: FromCloudTrail, Code: "AccessDenied", Service: "S3", Operation: "GetObject",
		Caller: "arn:aws:sts::444455556666:assumed-role/etl/etl-nightly", Role: "arn:aws:iam::444455556666:role/data/etl",
		Action: "s3:GetObject", Resource: "arn:aws:s3:::doc-example-bucket/reports/q1.csv",
		Bucket: "doc-example-bucket", Object: "reports/q1.csv", Region: "us-west-2", Record: 1, Records: 1}
}

func kmsWant() *Denial {
	const key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	return &Denial{Source: FromCloudTrail, Code: "AccessDenied", Service: "KMS", Operation: "Decrypt",
		Caller: "arn:aws:sts::444455556666:assumed-role/etl/etl-nightly", Role: "arn:aws:iam::444455556666:role/data/etl",
		Action: "kms:Decrypt", Resource: key, Key: key, Layer: &Layer{Type: ResourceBased},
		Bucket: "doc-example-bucket", Object: "reports/q1.csv", ViaS3: true, Region: "us-west-2", Record: 1, Records: 1}
}

func lookupEvents(records ...string) string {
	var events []map[string]any
	for i, r := range records {
		events = append(events, map[string]any{"EventId": "id-" + string(rune('a'+i)), "EventName": "x", "ReadOnly": "true", "CloudTrailEvent": r})
	}
	b, _ := json.Marshal(map[string]any{"Events": events})
	return string(b)
}

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func TestParseCloudTrail(t *testing.T) {
	at := func(d *Denial, record, records int) *Denial { d.Record, d.Records = record, records; return d }
	tests := []struct {
		name string
		data string
		want *Denial
	}{
		{"an S3 record", s3Record, s3Want()},
		{"a KMS record", kmsRecord, kmsWant()},
		{"a log file", `{"Records": [` + allowed + `,` + ec2Denied + `,` + kmsRecord + `,` + s3Record + `]}`, at(kmsWant(), 3, 4)},
		{"a compressed log file", gzipped(`{"Records": [` + allowed + `,` + s3Record + `]}`), at(s3Want(), 2, 2)},
		{"a list of records", `[` + allowed + `,` + s3Record + `]`, at(s3Want(), 2, 2)},
		{"a lookup-events answer", lookupEvents(allowed, kmsRecord), at(kmsWant(), 2, 2)},
		{"an odd record of another call is skipped", `{"Records": [` + iamDenied + `,` + s3Record + `]}`, at(s3Want(), 2, 2)},
		{"a record without its message", strings.Replace(s3Record, `"errorMessage": "Access Denied",`, "", 1), s3Want()},
		{"a key named in the request", strings.Replace(kmsRecord, `"encryptionAlgorithm"`, `"keyId": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "encryptionAlgorithm"`, 1), kmsWant()},
		{"an S3 message that cites a layer", strings.Replace(s3Record, `"errorMessage": "Access Denied"`,
			`"errorMessage": "User: arn:aws:sts::444455556666:assumed-role/etl/etl-nightly is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::doc-example-bucket/reports/q1.csv\" with an explicit deny in a resource-based policy"`, 1),
			func() *Denial { d := s3Want(); d.Layer = &Layer{Type: ResourceBased, Explicit: true}; return d }()},
		{"a KMS record with Bucket Keys", strings.Replace(kmsRecord, `"aws:s3:arn": "arn:aws:s3:::doc-example-bucket/reports/q1.csv"`, `"aws:s3:arn": "arn:aws:s3:::doc-example-bucket"`, 1),
			func() *Denial { d := kmsWant(); d.Object, d.BucketKeyContext = "", true; return d }()},
		{"a KMS record S3 only invoked", strings.Replace(kmsRecord, `"encryptionContext": {"aws:s3:arn": "arn:aws:s3:::doc-example-bucket/reports/q1.csv"},`, "", 1),
			func() *Denial { d := kmsWant(); d.Bucket, d.Object = "", ""; return d }()},
		{"the owner's copy naming only the caller's account", `{"eventSource": "s3.amazonaws.com", "eventName": "HeadObject", "awsRegion": "us-west-2", "errorCode": "AccessDenied", "errorMessage": "Access Denied",
			"userIdentity": {"type": "AWSAccount", "principalId": "AROAEXAMPLEROLEID0001:etl-nightly", "accountId": "444455556666"},
			"requestParameters": {"bucketName": "doc-example-bucket", "key": "reports/q1.csv"}}`,
			&Denial{Source: FromCloudTrail, Code: "AccessDenied", Service: "S3", Operation: "HeadObject", CallerAccount: "444455556666",
				Action: "s3:GetObject", Resource: "arn:aws:s3:::doc-example-bucket/reports/q1.csv", Bucket: "doc-example-bucket", Object: "reports/q1.csv",
				Region: "us-west-2", Record: 1, Records: 1}},
		{"an IAM user in China", `{"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "cn-north-1", "errorCode": "AccessDenied", "errorMessage": "Access Denied",
			"userIdentity": {"type": "IAMUser", "arn": "arn:aws-cn:iam::444455556666:user/team/alice", "accountId": "444455556666"},
			"requestParameters": {"bucketName": "doc-example-bucket", "key": "a b.csv"}}`,
			&Denial{Source: FromCloudTrail, Code: "AccessDenied", Service: "S3", Operation: "GetObject", Caller: "arn:aws-cn:iam::444455556666:user/team/alice",
				Action: "s3:GetObject", Resource: "arn:aws-cn:s3:::doc-example-bucket/a b.csv", Bucket: "doc-example-bucket", Object: "a b.csv",
				Region: "cn-north-1", Record: 1, Records: 1}},
		{"AccessDeniedException as the code", strings.Replace(kmsRecord, `"errorCode": "AccessDenied"`, `"errorCode": "AccessDeniedException"`, 1),
			func() *Denial { d := kmsWant(); d.Code = "AccessDeniedException"; return d }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCloudTrail([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseCloudTrailRefuses(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"no denied record", `{"Records": [` + allowed + `,` + allowed + `,` + ec2Denied + `]}`, "no AccessDenied record in 3 records"},
		{"no record", `{"Records": []}`, "no AccessDenied record in 0 records"},
		{"one allowed record", allowed, "no AccessDenied record in 1 record"},
		{"only other calls denied", `{"Records": [` + iamDenied + `]}`, "1 AccessDenied record, none of an S3 GetObject or a KMS Decrypt (the first is iam.amazonaws.com ListRoles)"},
		{"not JSON", "eventName: GetObject", "not valid JSON (at byte 1: invalid character 'e' looking for beginning of value)"},
		{"truncated", s3Record[:200], "not valid JSON (at byte 199: unexpected end of JSON input)"},
		{"another JSON document", `{"Version": "2012-10-17", "Statement": []}`, `not a CloudTrail record, log file ({"Records": [...]}) or lookup-events answer ({"Events": [...]})`},
		{"Records not a list", `{"Records": {}}`, "field Records: a JSON object, not a list"},
		{"an event without its record", `{"Events": [{"EventId": "x"}]}`, "event 1 of 1 has no CloudTrailEvent"},
		{"an event whose record is not JSON", `{"Events": [{"CloudTrailEvent": "{not json"}]}`, "event 1 of 1: CloudTrailEvent is not a JSON record"},
		{"a record that is not an object", `{"Records": [3]}`, "record 1 of 1: a JSON number, not an object"},
		{"a denied read with an odd field", `{"Records": [{"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "errorCode": "AccessDenied", "resources": "x"}]}`, "record 1 of 1: resources is a JSON string, not a list"},
		{"not gzip after all", "\x1f\x8bnot", "not a gzip file: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseCloudTrail([]byte(tt.data))
			if err == nil {
				t.Fatalf("no error; got %+v", d)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

// FuzzParseCloudTrail checks that no file makes the parser panic.
func FuzzParseCloudTrail(f *testing.F) {
	f.Add([]byte(s3Record))
	f.Add([]byte(`{"Records": [` + kmsRecord + `]}`))
	f.Add([]byte(lookupEvents(kmsRecord)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseCloudTrail(data)
	})
}
