package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
	"github.com/kmsgrant/kmsgrant/generate/denial"
)

func TestReadDenialFromStandardInput(t *testing.T) {
	io, in, _, _ := iostreams.Test()
	in.WriteString("An error occurred (AccessDenied) when calling the GetObject operation:\n Access Denied\n")
	d, err := readDenial(&Factory{IO: io}, &ExplainOptions{Message: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Operation != "GetObject" || d.flag != "--message" {
		t.Errorf("got %+v", d)
	}

	io, in, _, _ = iostreams.Test()
	in.WriteString(strings.Repeat("Access Denied ", maxMessage))
	_, err = readDenial(&Factory{IO: io}, &ExplainOptions{Message: "-"})
	if want := "--message -: more than 64 KiB on standard input, where an AccessDenied message is a few lines"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if in.Len() == 0 {
		t.Errorf("read all of standard input; want it to stop past the cap")
	}
}

func TestFillFlags(t *testing.T) {
	const (
		session = "arn:aws:sts::444455556666:assumed-role/reader/s"
		object  = "arn:aws:s3:::doc-example-bucket/reports/q1.csv"
		key     = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	)
	s3Read := denial.Denial{Caller: session, Action: "s3:GetObject", Resource: object, Bucket: "doc-example-bucket", Object: "reports/q1.csv"}
	kmsRead := denial.Denial{Caller: session, Action: "kms:Decrypt", Resource: key, Key: key, ViaS3: true}
	tests := []struct {
		name       string
		d          denial.Denial
		flags      GrantFlags
		object     string
		wantFlags  GrantFlags
		wantObject string
		wantErr    string
	}{
		{name: "grantee and object from the message", d: s3Read,
			wantFlags: GrantFlags{Grantee: session}, wantObject: "s3://doc-example-bucket/reports/q1.csv"},
		{name: "the caller's role as --grantee", d: s3Read, flags: GrantFlags{Grantee: "arn:aws:iam::444455556666:role/team/reader"},
			wantFlags: GrantFlags{Grantee: "arn:aws:iam::444455556666:role/team/reader"}, wantObject: "s3://doc-example-bucket/reports/q1.csv"},
		{name: "another role as --grantee", d: s3Read, flags: GrantFlags{Grantee: "arn:aws:iam::444455556666:role/analyst"},
			wantErr: "--grantee arn:aws:iam::444455556666:role/analyst is not the caller the message names (arn:aws:sts::444455556666:assumed-role/reader/s): give one or the other"},
		{name: "another session as --grantee", d: s3Read, flags: GrantFlags{Grantee: "arn:aws:sts::444455556666:assumed-role/reader/t"},
			wantErr: "--grantee arn:aws:sts::444455556666:assumed-role/reader/t is not the caller the message names (arn:aws:sts::444455556666:assumed-role/reader/s): give one or the other"},
		{name: "the caller's account as --grantee", d: s3Read, flags: GrantFlags{Grantee: "444455556666"},
			wantErr: "--grantee 444455556666 is not the caller the message names (arn:aws:sts::444455556666:assumed-role/reader/s): give one or the other"},
		{name: "the same object as --object", d: s3Read, object: "s3://doc-example-bucket/reports/q1.csv",
			wantFlags: GrantFlags{Grantee: session}, wantObject: "s3://doc-example-bucket/reports/q1.csv"},
		{name: "a prefix of the bucket", d: s3Read, flags: GrantFlags{Bucket: "doc-example-bucket", Prefix: "reports/"},
			wantFlags: GrantFlags{Grantee: session, Bucket: "doc-example-bucket", Prefix: "reports/"}},
		{name: "another bucket", d: s3Read, flags: GrantFlags{Bucket: "other-bucket"},
			wantErr: "--bucket other-bucket is not the bucket the message names (doc-example-bucket): give one or the other"},
		{name: "a key, and the object from --object", d: kmsRead, object: "s3://doc-example-bucket/reports/q1.csv",
			wantFlags: GrantFlags{Grantee: session, Key: key}, wantObject: "s3://doc-example-bucket/reports/q1.csv"},
		{name: "a key named by its alias", d: kmsRead, object: "s3://doc-example-bucket/reports/q1.csv", flags: GrantFlags{Key: "alias/app-data"},
			wantFlags: GrantFlags{Grantee: session, Key: "alias/app-data"}, wantObject: "s3://doc-example-bucket/reports/q1.csv"},
		{name: "another key", d: kmsRead, object: "s3://doc-example-bucket/reports/q1.csv", flags: GrantFlags{Key: "arn:aws:kms:us-west-2:111122223333:key/mrk-0123456789abcdef0123456789abcdef"},
			wantErr: "--key arn:aws:kms:us-west-2:111122223333:key/mrk-0123456789abcdef0123456789abcdef is not the key the message names (" + key + "): give one or the other"},
		{name: "a key without the object", d: kmsRead,
			wantErr: "--object is required: the message names the key, not the object S3 was reading (give --object s3://BUCKET/KEY, or --bucket)"},
		{name: "the bucket of a Bucket Key context", d: denial.Denial{Caller: session, Action: "kms:Decrypt", Bucket: "doc-example-bucket", BucketKeyContext: true},
			wantFlags: GrantFlags{Grantee: session, Bucket: "doc-example-bucket"}},
		{name: "the short message", d: denial.Denial{}, flags: GrantFlags{Grantee: session}, object: "s3://doc-example-bucket/reports/q1.csv",
			wantFlags: GrantFlags{Grantee: session}, wantObject: "s3://doc-example-bucket/reports/q1.csv"},
		{name: "the short message alone", d: denial.Denial{}, wantErr: "--grantee is required: the message does not name the caller"},
		{name: "only the caller's account", d: denial.Denial{CallerAccount: "444455556666", Bucket: "b", Object: "k"},
			wantErr: "--grantee is required: the message names only the caller's account, 444455556666"},
		{name: "--grantee of another account than the record's", d: denial.Denial{CallerAccount: "444455556666", Bucket: "b", Object: "k"}, flags: GrantFlags{Grantee: "arn:aws:iam::999988887777:role/r"},
			wantErr: "--grantee arn:aws:iam::999988887777:role/r is not of the caller's account the message names (444455556666)"},
		{name: "another action", d: denial.Denial{Action: "s3:PutObject"},
			wantErr: "--message: the denied call is s3:PutObject; explain explains reads of S3 objects: s3:GetObject, and the kms:Decrypt S3 makes for it"},
		{name: "another operation", d: denial.Denial{Operation: "ListObjectsV2"},
			wantErr: "--message: the denied call is a ListObjectsV2; explain explains reads of S3 objects: GetObject, and the Decrypt S3 makes for it"},
		{name: "a caller explain cannot evaluate", d: denial.Denial{Caller: "arn:aws:sts::444455556666:federated-user/bob", Action: "s3:GetObject"},
			wantErr: `--message: the caller: "arn:aws:sts::444455556666:federated-user/bob" is not an assumed-role session ARN (want arn:aws:sts::ACCOUNT_ID:assumed-role/ROLE/SESSION); --grantee names whom to explain`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &deniedCall{Denial: &tt.d, flag: "--message", what: "the message"}
			flags, object := tt.flags, tt.object
			_, err := d.fillFlags(&flags, &object)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantFlags, flags, cmp.AllowUnexported(GrantFlags{})); diff != "" {
				t.Errorf("flags (-want +got)\n%s", diff)
			}
			if object != tt.wantObject {
				t.Errorf("object %q, want %q", object, tt.wantObject)
			}
		})
	}
}
