package live

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
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

// fakeS3 answers the calls a test sets and fails the test on any other.
type fakeS3 struct {
	S3API    // nil: calling an unset method panics, which fails the test
	location func(*s3.GetBucketLocationInput) (*s3.GetBucketLocationOutput, error)
	config   func(op, region string) error
	region   string
}

func (f *fakeS3) GetBucketLocation(_ context.Context, in *s3.GetBucketLocationInput, _ ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error) {
	return f.location(in)
}

func (f *fakeS3) GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	return nil, f.config("policy", f.region)
}

func (f *fakeS3) GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	return nil, f.config("encryption", f.region)
}

func (f *fakeS3) GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	return nil, f.config("ownership", f.region)
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return "api error " + e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func fakeBackend(location func(*s3.GetBucketLocationInput) (*s3.GetBucketLocationOutput, error), config func(op, region string) error) *Backend {
	b := &Backend{
		owner:      &identity{profile: "owner", account: "111122223333", cfg: aws.Config{Region: "us-west-2"}},
		regions:    map[string]string{},
		encryption: map[string]*s3types.ServerSideEncryptionConfiguration{},
	}
	b.s3For = func(region string) S3API { return &fakeS3{location: location, config: config, region: region} }
	return b
}

func TestBucketWithFakes(t *testing.T) {
	ctx := context.Background()
	t.Run("every call names the expected owner; a missing bucket is nil", func(t *testing.T) {
		b := fakeBackend(func(in *s3.GetBucketLocationInput) (*s3.GetBucketLocationOutput, error) {
			if aws.ToString(in.ExpectedBucketOwner) != "111122223333" {
				t.Errorf("ExpectedBucketOwner = %q", aws.ToString(in.ExpectedBucketOwner))
			}
			return nil, apiErr{"NoSuchBucket"}
		}, func(string, string) error { return apiErr{"NoSuchBucket"} })
		got, err := b.Bucket(ctx, "missing")
		if got != nil || err != nil {
			t.Errorf("Bucket = %v, %v; want nil, nil", got, err)
		}
	})
	t.Run("AccessDenied on the location names the permission and the profile", func(t *testing.T) {
		b := fakeBackend(func(*s3.GetBucketLocationInput) (*s3.GetBucketLocationOutput, error) {
			return nil, apiErr{"AccessDenied"}
		}, func(string, string) error { return apiErr{"AccessDenied"} })
		_, err := b.Bucket(ctx, "theirs")
		want := `reading the Region of bucket theirs needs s3:GetBucketLocation for profile "owner", and the bucket must belong to its account 111122223333: api error AccessDenied`
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("a bucket in another Region is read there; the guess's errors do not surface", func(t *testing.T) {
		notFound := map[string]string{"policy": "NoSuchBucketPolicy", "encryption": "ServerSideEncryptionConfigurationNotFoundError", "ownership": "OwnershipControlsNotFoundError"}
		b := fakeBackend(func(*s3.GetBucketLocationInput) (*s3.GetBucketLocationOutput, error) {
			return &s3.GetBucketLocationOutput{LocationConstraint: "EU"}, nil
		}, func(op, region string) error {
			if region == "eu-west-1" {
				return apiErr{notFound[op]}
			}
			return apiErr{"PermanentRedirect"}
		})
		got, err := b.Bucket(ctx, "in-ireland")
		if err != nil {
			t.Fatal(err)
		}
		want := &generate.Bucket{Name: "in-ireland", Account: "111122223333", Region: "eu-west-1"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Bucket (-want +got):\n%s", diff)
		}
	})
}

// PutBucketEncryption replaces the whole configuration: kmsgrant writes back
// what it read, with only the key changed, so settings it does not manage
// (blocked encryption types) survive.
func TestEncryptionWriteKeepsTheRestOfTheRule(t *testing.T) {
	b := fakeBackend(nil, nil)
	blocked := &s3types.BlockedEncryptionTypes{EncryptionType: []s3types.EncryptionType{s3types.EncryptionTypeSseC}}
	b.encryption["b1"] = &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: "aws:kms", KMSMasterKeyID: aws.String("alias/app-data")},
		BucketKeyEnabled:                   aws.Bool(true),
		BlockedEncryptionTypes:             blocked,
	}}}
	keyARN := "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	got, err := b.encryptionConfig(context.Background(), "b1", "us-west-2", generate.Change{
		Kind: generate.KindBucketEncryption, Target: "arn:aws:s3:::b1",
		Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: keyARN, BucketKeyEnabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Rules[0]
	if aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != keyARN || !aws.ToBool(r.BucketKeyEnabled) || r.BlockedEncryptionTypes != blocked {
		t.Errorf("rule written = %+v", r)
	}
	if aws.ToString(b.encryption["b1"].Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/app-data" {
		t.Error("the configuration read was changed in place")
	}
}
