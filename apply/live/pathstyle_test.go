package live

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
)

// recorder answers every request with an empty 200 and keeps its URL and
// expected bucket owner.
type recorder struct{ urls, owners []string }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
	r.owners = append(r.owners, req.Header.Get("X-Amz-Expected-Bucket-Owner"))
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

// A legacy bucket name (uppercase letters, underscores, over 63
// characters) is no DNS label: S3 reaches such a bucket path-style only.
// The SDK's endpoint rules switch to path-style for them by themselves, so
// the S3 clients kmsgrant makes need no UsePathStyle for AWS's own
// endpoints; this test holds the SDK to that.
func TestLegacyBucketNamesArePathStyle(t *testing.T) {
	rec := &recorder{}
	b := &Backend{owner: &identity{account: "111122223333", cfg: aws.Config{
		Region: "us-west-2",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: rec,
	}}}
	client := b.cachedS3()("us-east-1")
	long := "Legacy_" + strings.Repeat("b", 100)
	for _, bucket := range []string{"doc-example-bucket", "Legacy_Reports", "legacy_reports", long} {
		if _, err := client.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String("111122223333")}); err != nil {
			t.Fatalf("GetBucketPolicy(%s): %v", bucket, err)
		}
	}
	want := []string{
		"https://doc-example-bucket.s3.us-east-1.amazonaws.com/",
		"https://s3.us-east-1.amazonaws.com/Legacy_Reports",
		"https://s3.us-east-1.amazonaws.com/legacy_reports",
		"https://s3.us-east-1.amazonaws.com/" + long,
	}
	if diff := cmp.Diff(want, rec.urls); diff != "" {
		t.Errorf("request URLs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"111122223333", "111122223333", "111122223333", "111122223333"}, rec.owners); diff != "" {
		t.Errorf("X-Amz-Expected-Bucket-Owner (-want +got):\n%s", diff)
	}
}
