package live

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

func TestBucketRegion(t *testing.T) {
	for in, want := range map[string]string{"": "us-east-1", "EU": "eu-west-1", "eu-west-1": "eu-west-1", "ap-southeast-2": "ap-southeast-2", "cn-north-1": "cn-north-1"} {
		if got := bucketRegion(in); got != want {
			t.Errorf("bucketRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyRefString(t *testing.T) {
	for _, in := range []string{
		"1234abcd-12ab-34cd-56ef-1234567890ab",
		"alias/app-data",
		"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws-cn:kms:cn-north-1:111122223333:alias/app-data",
		"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
	} {
		ref, err := arns.ParseKeyRef(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := keyRefString(ref, ref.Region); got != in {
			t.Errorf("keyRefString(ParseKeyRef(%q)) = %q", in, got)
		}
	}
}

func TestEncryptionOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *s3types.ServerSideEncryptionConfiguration
		want *generate.Encryption
	}{
		{"none", nil, nil},
		{"no rules", &s3types.ServerSideEncryptionConfiguration{}, nil},
		{"SSE-S3", &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: "AES256"}}}},
			&generate.Encryption{Algorithm: "AES256"}},
		{"SSE-KMS with Bucket Key", &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: "aws:kms", KMSMasterKeyID: aws.String("alias/app-data")},
			BucketKeyEnabled:                   aws.Bool(true)}}},
			&generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: "alias/app-data", BucketKeyEnabled: true}},
	} {
		if diff := cmp.Diff(tc.want, encryptionOf(tc.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// IAM returns documents URL-encoded; a literal "+" must stay a "+".
func TestDecodeDocument(t *testing.T) {
	doc, err := decodeDocument("%7B%22Statement%22%3A%5B%7B%22Sid%22%3A%22A%2BB%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGet%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%20c%2A%22%7D%5D%7D", "test")
	if err != nil {
		t.Fatal(err)
	}
	st := doc.Statements[0]
	if st.Sid != "A+B" || st.Resource.List[0] != "arn:aws:s3:::b/a+b c*" {
		t.Errorf("decoded Sid %q, Resource %q", st.Sid, st.Resource.List[0])
	}
}
