package livetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

const (
	owner     = "111122223333"
	partner   = "444455556666"
	stranger  = "777788889999"
	key1ID    = "1234abcd-12ab-34cd-56ef-1234567890ab"
	key1ARN   = "arn:aws:kms:us-west-2:111122223333:key/" + key1ID
	mrkID     = "mrk-1234abcd12ab34cd56ef1234567890ab"
	mrkEast   = "arn:aws:kms:us-east-1:111122223333:key/" + mrkID
	mrkWest   = "arn:aws:kms:us-west-2:111122223333:key/" + mrkID
	bucket    = "doc-example-bucket"
	eastB     = "east-bucket"
	euB       = "eu-bucket"
	readOnly  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	boundaryP = "arn:aws:iam::444455556666:policy/team/boundary"
	ownerPol  = "arn:aws:iam::111122223333:policy/owner-only"
)

// seed is examples/seed/state.json.
func seed(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixture is the seed with more to read: buckets in us-east-1 and eu-west-1
// (no policy, encryption or ownership controls), more objects, a
// multi-Region key in two Regions, a group, attached and boundary policies,
// and managed policies.
func fixture(t *testing.T) []byte {
	t.Helper()
	data := seed(t)
	edits := []struct {
		path  string
		value string
	}{
		{"accounts.111122223333.buckets." + eastB, `{"region": "us-east-1"}`},
		{"accounts.111122223333.buckets." + euB, `{"region": "eu-west-1"}`},
		{"accounts.111122223333.buckets.doc-example-bucket.objects.reports/q2.csv", `{"sse_algorithm": "AES256", "owner": "444455556666"}`},
		{"accounts.111122223333.buckets.doc-example-bucket.objects.reports/2024/jan.csv", `{"sse_algorithm": "aws:kms", "sse_kms_key_id": "` + key1ARN + `"}`},
		{"accounts.111122223333.buckets.doc-example-bucket.objects.reports/2024/feb.csv", `{"sse_algorithm": "aws:kms", "sse_kms_key_id": "` + key1ARN + `"}`},
		{"accounts.111122223333.buckets.doc-example-bucket.objects.logs/a.txt", `{}`},
		{"accounts.111122223333.kms_keys." + mrkEast, `{"key_manager": "CUSTOMER", "key_state": "Disabled", "aliases": ["alias/app-data"], "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}}`},
		{"accounts.111122223333.kms_keys." + mrkWest, `{"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": ["alias/mrk", "alias/a-first"], "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}}`},
		{"accounts.444455556666.iam_roles.reader.attached_policies", `["` + readOnly + `"]`},
		{"accounts.444455556666.iam_roles.reader.inline_policies", `{"existing": {"Version": "2012-10-17", "Statement": [{"Sid": "Existing", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::doc-example-bucket", "Condition": {"StringLike": {"s3:prefix": "a+b c/*"}}}]}}`},
		{"accounts.444455556666.iam_users.alice.permissions_boundary", `"` + boundaryP + `"`},
		{"accounts.444455556666.iam_users.alice.attached_policies", `["` + readOnly + `", "` + boundaryP + `"]`},
		{"accounts.444455556666.iam_users.alice.groups", `["readers"]`},
		{"accounts.444455556666.iam_groups", `{"readers": {"inline_policies": {"group-read": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}, "attached_policies": ["` + readOnly + `"]}}`},
		{"managed_policies", `{
			"` + readOnly + `": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]},
			"` + boundaryP + `": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
			"` + ownerPol + `": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
		}`},
	}
	for _, e := range edits {
		// Paths are dotted; a key ARN or an object key is the rest of the
		// path after its map.
		path := strings.Split(e.path, ".")
		if len(path) > 4 && (path[2] == "kms_keys" || path[4] == "objects") {
			n := 4
			if path[4] == "objects" {
				n = 6
			}
			path = append(path[:n-1], strings.Join(path[n-1:], "."))
		}
		var err error
		if data, err = jsonedit.Set(data, path, []byte(e.value)); err != nil {
			t.Fatalf("fixture %s: %v", e.path, err)
		}
	}
	if _, err := statefile.Parse("fixture.json", data); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return data
}

// clients are the real SDK clients of one account, configured the way the
// live backend's tests are: the server as BaseEndpoint, us-west-2, the
// account's credentials, path-style S3, a fast standard retryer.
type clients struct {
	s3  *s3.Client
	kms *kms.Client
	iam *iam.Client
	sts *sts.Client
	aa  *accessanalyzer.Client
}

func newClients(t *testing.T, s *Server, account string, optFns ...func(*config.LoadOptions) error) clients {
	t.Helper()
	opts := append([]func(*config.LoadOptions) error{
		config.WithRegion("us-west-2"),
		config.WithCredentialsProvider(Credentials(account)),
		config.WithBaseEndpoint(s.URL),
		config.WithRetryer(FastRetryer),
		// Nothing from the machine's AWS configuration.
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return clients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		kms: kms.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg),
		sts: sts.NewFromConfig(cfg),
		aa:  accessanalyzer.NewFromConfig(cfg),
	}
}

// bucketRegions are the Regions of the fixture's buckets.
var bucketRegions = map[string]string{bucket: "us-west-2", eastB: "us-east-1", euB: "eu-west-1"}

// inRegion sends one S3 call to region: S3 redirects a call signed for
// another Region than the bucket's.
func inRegion(region string) func(*s3.Options) {
	return func(o *s3.Options) { o.Region = region }
}

// apiCode returns the AWS error code of err, failing the test when err is
// not an AWS API error.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an AWS API error", err, err)
	}
	return ae.ErrorCode()
}

func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := apiCode(t, err); got != code {
		t.Errorf("error code = %q, want %q (%v)", got, code, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v has no HTTP response", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("HTTP status = %d, want %d (%v)", re.HTTPStatusCode(), status, err)
	}
}

func sameDoc(t *testing.T, got, want string) {
	t.Helper()
	g, err := policy.Parse([]byte(got))
	if err != nil {
		t.Fatalf("got policy %q: %v", got, err)
	}
	w, err := policy.Parse([]byte(want))
	if err != nil {
		t.Fatalf("want policy %q: %v", want, err)
	}
	if !bytes.Equal(g.Compact(), w.Compact()) {
		t.Errorf("policy = %s\nwant %s", g.Compact(), w.Compact())
	}
}

var ctx = context.Background()

func TestSTSGetCallerIdentity(t *testing.T) {
	s := New(t, seed(t))
	for _, account := range []string{owner, partner} {
		out, err := newClients(t, s, account).sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Account) != account || aws.ToString(out.Arn) != "arn:aws:iam::"+account+":user/test" || !strings.HasPrefix(aws.ToString(out.UserId), "AIDA") {
			t.Errorf("GetCallerIdentity = %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
		}
	}
	if diff := slices.Compare(s.Calls(), []string{"sts:GetCallerIdentity", "sts:GetCallerIdentity"}); diff != 0 {
		t.Errorf("Calls() = %q", s.Calls())
	}
}

func TestConfig(t *testing.T) {
	s := New(t, seed(t))
	out, err := sts.NewFromConfig(s.Config(partner, "eu-west-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != partner {
		t.Fatalf("GetCallerIdentity with Config = %v, %v", out, err)
	}
	c := s3.NewFromConfig(s.Config(owner, "us-west-2"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
}

func TestS3GetBucketLocation(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3
	for name, want := range map[string]s3types.BucketLocationConstraint{bucket: "us-west-2", eastB: "", euB: "EU"} {
		out, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.LocationConstraint != want {
			t.Errorf("%s: LocationConstraint = %q, want %q", name, out.LocationConstraint, want)
		}
	}
}

func TestS3HeadBucket(t *testing.T) {
	s := New(t, fixture(t))
	out, err := newClients(t, s, owner).s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(euB)})
	if err != nil || aws.ToString(out.BucketRegion) != "eu-west-1" {
		t.Fatalf("HeadBucket = %v, %v", out, err)
	}
	_, err = newClients(t, s, partner).s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(euB)})
	wantCode(t, err, "Forbidden", http.StatusForbidden)
	_, err = newClients(t, s, owner).s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket of a missing bucket: %v, want NotFound", err)
	}
}

// A call signed for another Region than the bucket's is redirected, with
// the bucket's Region in a header; GetBucketLocation answers from anywhere.
func TestS3WrongRegion(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3 // us-west-2
	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(euB)})
	wantCode(t, err, "PermanentRedirect", http.StatusMovedPermanently)
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response.Header.Get("X-Amz-Bucket-Region") != "eu-west-1" {
		t.Errorf("X-Amz-Bucket-Region = %q, want eu-west-1", re.Response.Header.Get("X-Amz-Bucket-Region"))
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("reports/q1.csv")}, inRegion("eu-west-1"))
	if err == nil {
		t.Error("HeadObject signed for eu-west-1 on a us-west-2 bucket succeeded")
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(euB)})
	if err != nil || loc.LocationConstraint != "EU" {
		t.Errorf("GetBucketLocation from us-west-2 = %v, %v; want EU", loc, err)
	}
}

func TestS3BucketPolicy(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3

	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid([]byte(aws.ToString(out.Policy))) || strings.ContainsAny(aws.ToString(out.Policy), "\n") {
		t.Errorf("policy is not compact JSON: %q", aws.ToString(out.Policy))
	}
	sameDoc(t, aws.ToString(out.Policy), `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)

	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(euB)}, inRegion("eu-west-1"))
	wantCode(t, err, "NoSuchBucketPolicy", http.StatusNotFound)

	put := `{"Version":"2012-10-17","Statement":[{"Sid":"KmsgrantList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::eu-bucket"}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(euB), Policy: aws.String(put)}, inRegion("eu-west-1")); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(euB)}, inRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	sameDoc(t, aws.ToString(out.Policy), put)
	f, err := statefile.Parse("state.json", s.State())
	if err != nil {
		t.Fatalf("State() does not parse: %v", err)
	}
	b, _ := f.Bucket(ctx, euB)
	if b.Policy == nil || b.Policy.Statements[0].Sid != "KmsgrantList" {
		t.Errorf("State() has bucket policy %v", b.Policy)
	}

	for name, bad := range map[string]string{
		"not JSON":     `{"Version":`,
		"no principal": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
	} {
		_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(euB), Policy: aws.String(bad)}, inRegion("eu-west-1"))
		if err == nil {
			t.Errorf("%s: PutBucketPolicy succeeded", name)
			continue
		}
		wantCode(t, err, "MalformedPolicy", http.StatusBadRequest)
	}
	if !bytes.Equal(s.State(), f.Bytes()) {
		t.Errorf("a refused PutBucketPolicy changed the state")
	}
}

func TestS3BucketEncryption(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3
	get := func(name string) s3types.ServerSideEncryptionRule {
		t.Helper()
		out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)}, inRegion(bucketRegions[name]))
		if err != nil {
			t.Fatal(err)
		}
		if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) != 1 {
			t.Fatalf("GetBucketEncryption = %+v", out.ServerSideEncryptionConfiguration)
		}
		return out.ServerSideEncryptionConfiguration.Rules[0]
	}
	r := get(bucket)
	if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/app-data" || !aws.ToBool(r.BucketKeyEnabled) {
		t.Errorf("rule = %+v %+v", r, r.ApplyServerSideEncryptionByDefault)
	}
	_, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(euB)}, inRegion("eu-west-1"))
	wantCode(t, err, "ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound)

	put := func(name string, alg s3types.ServerSideEncryption, key string, bke bool) error {
		d := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: alg}
		if key != "" {
			d.KMSMasterKeyID = aws.String(key)
		}
		_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(name),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: d, BucketKeyEnabled: aws.Bool(bke)}}}}, inRegion(bucketRegions[name]))
		return err
	}
	// The change kmsgrant makes: the key, by ARN.
	before := string(s.State())
	if err := put(bucket, s3types.ServerSideEncryptionAwsKms, key1ARN, true); err != nil {
		t.Fatal(err)
	}
	if r := get(bucket); aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != key1ARN {
		t.Errorf("key after Put = %q", aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID))
	}
	after := string(s.State())
	if want := strings.Replace(before, `"kms_master_key_id": "alias/app-data"`, `"kms_master_key_id": "`+key1ARN+`"`, 1); after != want {
		t.Errorf("State() after PutBucketEncryption:\n%s\nwant only the key changed:\n%s", after, want)
	}
	// A configuration where there was none.
	if err := put(euB, s3types.ServerSideEncryptionAes256, "", false); err != nil {
		t.Fatal(err)
	}
	if r := get(euB); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 || r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID != nil || aws.ToBool(r.BucketKeyEnabled) {
		t.Errorf("eu-bucket rule = %+v %+v", r, r.ApplyServerSideEncryptionByDefault)
	}
	err = put(euB, s3types.ServerSideEncryptionAes256, key1ARN, false)
	wantCode(t, err, "InvalidArgument", http.StatusBadRequest)
	err = put(euB, s3types.ServerSideEncryptionAwsKms, "not-a-key", false)
	wantCode(t, err, "InvalidArgument", http.StatusBadRequest)
	if _, err := statefile.Parse("state.json", s.State()); err != nil {
		t.Errorf("State() does not parse: %v", err)
	}
}

func TestS3OwnershipControls(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3
	out, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.OwnershipControls.Rules) != 1 || out.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("OwnershipControls = %+v", out.OwnershipControls)
	}
	_, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(euB)}, inRegion("eu-west-1"))
	wantCode(t, err, "OwnershipControlsNotFoundError", http.StatusNotFound)
}

func TestS3ListObjectsV2(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3
	keys := func(out *s3.ListObjectsV2Output) []string {
		var k []string
		for _, o := range out.Contents {
			k = append(k, aws.ToString(o.Key))
		}
		return k
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("reports/")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"reports/2024/feb.csv", "reports/2024/jan.csv", "reports/q1.csv", "reports/q2.csv"}
	if !slices.Equal(keys(out), want) || aws.ToInt32(out.KeyCount) != 4 || aws.ToBool(out.IsTruncated) {
		t.Errorf("ListObjectsV2(prefix reports/) = %q, KeyCount %d, truncated %v", keys(out), aws.ToInt32(out.KeyCount), aws.ToBool(out.IsTruncated))
	}

	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(out), []string{"logs/a.txt", "reports/2024/feb.csv"}) || !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil || aws.ToInt32(out.MaxKeys) != 2 {
		t.Errorf("ListObjectsV2(max-keys 2) = %q, truncated %v", keys(out), aws.ToBool(out.IsTruncated))
	}

	// The paginator follows continuation tokens.
	var all []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, keys(page)...)
	}
	if want := append([]string{"logs/a.txt"}, want...); !slices.Equal(all, want) {
		t.Errorf("paginated keys = %q, want %q", all, want)
	}

	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("reports/"), Delimiter: aws.String("/"), FetchOwner: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(out), []string{"reports/q1.csv", "reports/q2.csv"}) || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "reports/2024/" {
		t.Errorf("ListObjectsV2(delimiter /) = %q, %+v", keys(out), out.CommonPrefixes)
	}
	if len(out.Contents) == 2 && (aws.ToString(out.Contents[0].Owner.ID) != CanonicalID(owner) || aws.ToString(out.Contents[1].Owner.ID) != CanonicalID(partner)) {
		t.Errorf("owners = %+v %+v", out.Contents[0].Owner, out.Contents[1].Owner)
	}

	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket")})
	var nsb *s3types.NoSuchBucket
	if !errors.As(err, &nsb) {
		t.Errorf("ListObjectsV2 of a missing bucket: %v, want NoSuchBucket", err)
	}
}

func TestS3GetBucketAcl(t *testing.T) {
	s := New(t, fixture(t))
	out, err := newClients(t, s, owner).s3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Owner == nil || aws.ToString(out.Owner.ID) != CanonicalID(owner) || len(out.Grants) != 1 ||
		out.Grants[0].Permission != s3types.PermissionFullControl || aws.ToString(out.Grants[0].Grantee.ID) != CanonicalID(owner) {
		t.Errorf("GetBucketAcl = %+v", out)
	}
	_, err = newClients(t, s, partner).s3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
}

func TestS3HeadObject(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).s3
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("reports/q1.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != key1ARN {
		t.Errorf("HeadObject = %q %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
	}
	out, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("reports/q2.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ServerSideEncryption != s3types.ServerSideEncryptionAes256 || out.SSEKMSKeyId != nil {
		t.Errorf("HeadObject = %q %v", out.ServerSideEncryption, out.SSEKMSKeyId)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("reports/none.csv")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject of a missing key: %v, want NotFound", err)
	}
	wantCode(t, err, "NotFound", http.StatusNotFound)
}

func TestS3AccessDenied(t *testing.T) {
	s := New(t, fixture(t))
	ownerC, partnerC := newClients(t, s, owner).s3, newClients(t, s, partner).s3

	_, err := partnerC.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	_, err = partnerC.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	_, err = partnerC.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(`{"Statement":[]}`)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	_, err = partnerC.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("reports/q1.csv")})
	wantCode(t, err, "Forbidden", http.StatusForbidden) // a HEAD answer has no body

	// x-amz-expected-bucket-owner
	_, err = ownerC.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(partner)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ownerC.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(partner)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	if _, err := ownerC.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(owner)}); err != nil {
		t.Errorf("GetBucketPolicy with the right expected owner: %v", err)
	}

	// A missing bucket is missing whoever asks.
	_, err = partnerC.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("no-such-bucket")})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
}

func TestKMSDescribeKey(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).kms
	for _, ref := range []string{key1ID, key1ARN, "alias/app-data", "arn:aws:kms:us-west-2:111122223333:alias/app-data"} {
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		md := out.KeyMetadata
		if aws.ToString(md.Arn) != key1ARN || aws.ToString(md.KeyId) != key1ID || md.KeyManager != kmstypes.KeyManagerTypeCustomer ||
			md.KeyState != kmstypes.KeyStateEnabled || aws.ToBool(md.MultiRegion) || aws.ToString(md.AWSAccountId) != owner || !md.Enabled ||
			md.CreationDate == nil || md.KeySpec != kmstypes.KeySpecSymmetricDefault {
			t.Errorf("%s: KeyMetadata = %+v", ref, md)
		}
	}

	// Alias names resolve in the Region of the request.
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/app-data")}, func(o *kms.Options) { o.Region = "us-east-1" })
	if err != nil {
		t.Fatal(err)
	}
	md := out.KeyMetadata
	if aws.ToString(md.Arn) != mrkEast || md.KeyState != kmstypes.KeyStateDisabled || md.Enabled || !aws.ToBool(md.MultiRegion) ||
		md.MultiRegionConfiguration == nil || md.MultiRegionConfiguration.MultiRegionKeyType != kmstypes.MultiRegionKeyTypePrimary {
		t.Errorf("us-east-1 alias/app-data: KeyMetadata = %+v", md)
	}

	for ref, code := range map[string]string{
		"alias/none": "NotFoundException",
		"arn:aws:kms:us-west-2:111122223333:alias/none": "NotFoundException",
		"0000abcd-12ab-34cd-56ef-1234567890ab":          "NotFoundException",
		"not a key":                                     "NotFoundException",
		mrkEast:                                         "NotFoundException", // another Region's ARN
		"arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab": "AccessDeniedException",
	} {
		_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		wantCode(t, err, code, http.StatusBadRequest)
		if code == "NotFoundException" {
			var nf *kmstypes.NotFoundException
			if !errors.As(err, &nf) || nf.ErrorMessage() == "" {
				t.Errorf("%s: %v is not a NotFoundException with a message", ref, err)
			}
		}
	}

	// The owner's key ARN, from another account.
	_, err = newClients(t, s, partner).kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key1ARN)})
	wantCode(t, err, "AccessDeniedException", http.StatusBadRequest)
	// A key ID from another account resolves in the caller's: not found.
	_, err = newClients(t, s, partner).kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key1ID)})
	wantCode(t, err, "NotFoundException", http.StatusBadRequest)
}

func TestKMSKeyPolicy(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).kms
	for _, name := range []*string{nil, aws.String("default")} {
		out, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("alias/app-data"), PolicyName: name})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.PolicyName) != "default" {
			t.Errorf("PolicyName = %q", aws.ToString(out.PolicyName))
		}
		sameDoc(t, aws.ToString(out.Policy), `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`)
	}
	_, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key1ID), PolicyName: aws.String("other")})
	if err == nil {
		t.Error("GetKeyPolicy of policy other succeeded")
	}
	_, err = newClients(t, s, partner).kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key1ARN)})
	wantCode(t, err, "AccessDeniedException", http.StatusBadRequest)

	put := `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"KmsgrantDecrypt","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}}]}`
	if _, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key1ARN), Policy: aws.String(put), PolicyName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key1ID)})
	if err != nil {
		t.Fatal(err)
	}
	sameDoc(t, aws.ToString(out.Policy), put)
	f, err := statefile.Parse("state.json", s.State())
	if err != nil {
		t.Fatalf("State() does not parse: %v", err)
	}
	ref, _ := arns.ParseKeyRef(key1ARN)
	k, err := f.Key(ctx, ref, owner, "us-west-2")
	if err != nil || len(k.Policy.Statements) != 2 || k.Policy.Statements[1].Sid != "KmsgrantDecrypt" {
		t.Errorf("State() key policy = %v, %v", k, err)
	}

	_, err = c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key1ARN), Policy: aws.String(put), BypassPolicyLockoutSafetyCheck: true})
	wantCode(t, err, "ValidationException", http.StatusBadRequest)
	for _, bad := range []string{`{"Statement":`, `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`} {
		_, err = c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key1ARN), Policy: aws.String(bad)})
		var mp *kmstypes.MalformedPolicyDocumentException
		if !errors.As(err, &mp) {
			t.Errorf("PutKeyPolicy(%s) = %v, want MalformedPolicyDocumentException", bad, err)
		}
	}
	_, err = newClients(t, s, partner).kms.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(key1ARN), Policy: aws.String(put)})
	wantCode(t, err, "AccessDeniedException", http.StatusBadRequest)
	if !bytes.Equal(s.State(), f.Bytes()) {
		t.Errorf("a refused PutKeyPolicy changed the state")
	}
}

func TestKMSListAliases(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, owner).kms
	names := func(out *kms.ListAliasesOutput) []string {
		var n []string
		for _, a := range out.Aliases {
			n = append(n, aws.ToString(a.AliasName))
		}
		return n
	}
	out, err := c.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alias/a-first", "alias/app-data", "alias/mrk"}; !slices.Equal(names(out), want) || out.Truncated {
		t.Errorf("ListAliases = %q, want %q", names(out), want)
	}
	out, err = c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(key1ARN)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Aliases) != 1 || aws.ToString(out.Aliases[0].AliasName) != "alias/app-data" || aws.ToString(out.Aliases[0].TargetKeyId) != key1ID ||
		aws.ToString(out.Aliases[0].AliasArn) != "arn:aws:kms:us-west-2:111122223333:alias/app-data" {
		t.Errorf("ListAliases(KeyId) = %+v", out.Aliases)
	}
	var all []string
	p := kms.NewListAliasesPaginator(c, &kms.ListAliasesInput{Limit: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, names(page)...)
	}
	if pages != 2 || len(all) != 3 {
		t.Errorf("paginated ListAliases: %d pages, %q", pages, all)
	}
	_, err = c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String("0000abcd-12ab-34cd-56ef-1234567890ab")})
	wantCode(t, err, "NotFoundException", http.StatusBadRequest)
}

func TestIAMRoleAndUser(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, partner).iam
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	r := role.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::444455556666:role/reader" || aws.ToString(r.Path) != "/" || aws.ToString(r.RoleName) != "reader" ||
		!strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || r.CreateDate == nil || r.PermissionsBoundary != nil {
		t.Errorf("GetRole = %+v", r)
	}
	trust, err := url.PathUnescape(aws.ToString(r.AssumeRolePolicyDocument))
	if err != nil || !json.Valid([]byte(trust)) {
		t.Errorf("AssumeRolePolicyDocument %q: %v", aws.ToString(r.AssumeRolePolicyDocument), err)
	}

	user, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	u := user.User
	if aws.ToString(u.Arn) != "arn:aws:iam::444455556666:user/team/alice" || aws.ToString(u.Path) != "/team/" || !strings.HasPrefix(aws.ToString(u.UserId), "AIDA") ||
		u.PermissionsBoundary == nil || aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn) != boundaryP ||
		u.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("GetUser = %+v", u)
	}
	me, err := c.GetUser(ctx, &iam.GetUserInput{})
	if err != nil || aws.ToString(me.User.Arn) != "arn:aws:iam::444455556666:user/test" {
		t.Errorf("GetUser() = %v, %v", me, err)
	}

	for _, call := range []func() error{
		func() error { _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nobody")}); return err },
		func() error { _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); return err },
		// Names are per account: the owner account has no role reader.
		func() error {
			_, err := newClients(t, s, owner).iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")})
			return err
		},
	} {
		err := call()
		var nse *iamtypes.NoSuchEntityException
		if !errors.As(err, &nse) || !strings.Contains(nse.ErrorMessage(), "cannot be found") {
			t.Errorf("error %v, want NoSuchEntityException", err)
		}
		wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	}
}

func TestIAMInlinePolicies(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, partner).iam

	// A document in the state, with "+" and spaces.
	out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("existing")})
	if err != nil {
		t.Fatal(err)
	}
	raw := aws.ToString(out.PolicyDocument)
	if strings.ContainsAny(raw, " +{\"") || !strings.Contains(raw, "%2B") || !strings.Contains(raw, "%20") {
		t.Errorf("PolicyDocument is not URL-encoded as IAM encodes it: %q", raw)
	}
	doc, err := url.PathUnescape(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, `"a+b c/*"`) {
		t.Errorf("decoded document lost its + or space: %s", doc)
	}
	if aws.ToString(out.RoleName) != "reader" || aws.ToString(out.PolicyName) != "existing" {
		t.Errorf("GetRolePolicy names = %q %q", aws.ToString(out.RoleName), aws.ToString(out.PolicyName))
	}

	// A document written through PutRolePolicy reads back the same.
	put := `{"Version": "2012-10-17", "Statement": [{"Sid": "KmsgrantGetObject", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::doc-example-bucket/reports/a+b c/*"}]}`
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("kmsgrant-doc-example-bucket"), PolicyDocument: aws.String(put)}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("kmsgrant-doc-example-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err = url.PathUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	sameDoc(t, doc, put)
	list, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(list.PolicyNames, []string{"existing", "kmsgrant-doc-example-bucket"}) || list.IsTruncated {
		t.Errorf("ListRolePolicies = %q", list.PolicyNames)
	}
	f, err := statefile.Parse("state.json", s.State())
	if err != nil {
		t.Fatalf("State() does not parse: %v", err)
	}
	p, _ := arns.ParsePrincipal("arn:aws:iam::444455556666:role/reader", "aws")
	g, err := f.Grantee(ctx, p)
	if err != nil || len(g.Inline) != 2 || g.Inline[1].Name != "kmsgrant-doc-example-bucket" {
		t.Errorf("State() grantee = %+v, %v", g, err)
	}

	// Users.
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("kmsgrant-doc-example-bucket"), PolicyDocument: aws.String(put)}); err != nil {
		t.Fatal(err)
	}
	uout, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("kmsgrant-doc-example-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ = url.PathUnescape(aws.ToString(uout.PolicyDocument))
	sameDoc(t, doc, put)
	ulist, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || !slices.Equal(ulist.PolicyNames, []string{"kmsgrant-doc-example-bucket"}) {
		t.Errorf("ListUserPolicies = %v, %v", ulist, err)
	}
	if !strings.Contains(string(s.State()), `"iam_users"`) || !bytes.Contains(s.State(), []byte(`"Resource": "arn:aws:s3:::doc-example-bucket/reports/a+b c/*"`)) {
		t.Errorf("State() lacks the written policies:\n%s", s.State())
	}

	// Missing things and bad documents.
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("none")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("none")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("nobody"), PolicyName: aws.String("p"), PolicyDocument: aws.String(put)})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	before := s.State()
	for _, bad := range []string{
		`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}`,
		`{"Version": `,
	} {
		_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(bad)})
		var mp *iamtypes.MalformedPolicyDocumentException
		if !errors.As(err, &mp) {
			t.Errorf("PutRolePolicy(%s) = %v, want MalformedPolicyDocumentException", bad, err)
		}
		wantCode(t, err, "MalformedPolicyDocument", http.StatusBadRequest)
	}
	if !bytes.Equal(before, s.State()) {
		t.Errorf("a refused PutRolePolicy changed the state")
	}
}

func TestIAMAttachedAndGroups(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, partner).iam
	arnsOf := func(list []iamtypes.AttachedPolicy) []string {
		var out []string
		for _, a := range list {
			out = append(out, aws.ToString(a.PolicyName)+"="+aws.ToString(a.PolicyArn))
		}
		return out
	}
	ar, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ReadOnlyAccess=" + readOnly}; !slices.Equal(arnsOf(ar.AttachedPolicies), want) {
		t.Errorf("ListAttachedRolePolicies = %q", arnsOf(ar.AttachedPolicies))
	}
	au, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ReadOnlyAccess=" + readOnly, "boundary=" + boundaryP}; !slices.Equal(arnsOf(au.AttachedPolicies), want) {
		t.Errorf("ListAttachedUserPolicies = %q", arnsOf(au.AttachedPolicies))
	}
	au, err = c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice"), PathPrefix: aws.String("/team/")})
	if err != nil || !slices.Equal(arnsOf(au.AttachedPolicies), []string{"boundary=" + boundaryP}) {
		t.Errorf("ListAttachedUserPolicies(PathPrefix /team/) = %v, %v", au, err)
	}
	// Paging, with the SDK's paginator.
	var pages, n int
	p := iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages, n = pages+1, n+len(page.AttachedPolicies)
	}
	if pages != 2 || n != 2 {
		t.Errorf("paginated ListAttachedUserPolicies: %d pages, %d policies", pages, n)
	}
	empty, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("analyst")})
	if err != nil || len(empty.AttachedPolicies) != 0 || empty.IsTruncated {
		t.Errorf("ListAttachedRolePolicies(analyst) = %v, %v", empty, err)
	}

	groups, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "readers" || aws.ToString(groups.Groups[0].Arn) != "arn:aws:iam::444455556666:group/readers" ||
		!strings.HasPrefix(aws.ToString(groups.Groups[0].GroupId), "AGPA") {
		t.Errorf("ListGroupsForUser = %+v", groups.Groups)
	}
	gp, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("readers")})
	if err != nil || !slices.Equal(gp.PolicyNames, []string{"group-read"}) {
		t.Errorf("ListGroupPolicies = %v, %v", gp, err)
	}
	gget, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("group-read")})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.PathUnescape(aws.ToString(gget.PolicyDocument))
	sameDoc(t, doc, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}`)
	if aws.ToString(gget.GroupName) != "readers" {
		t.Errorf("GetGroupPolicy GroupName = %q", aws.ToString(gget.GroupName))
	}
	ag, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("readers")})
	if err != nil || !slices.Equal(arnsOf(ag.AttachedPolicies), []string{"ReadOnlyAccess=" + readOnly}) {
		t.Errorf("ListAttachedGroupPolicies = %v, %v", ag, err)
	}
	_, err = c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("none")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
}

func TestIAMManagedPolicies(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, partner).iam
	for _, tt := range []struct {
		arn, name, path string
		attachments     int32
		boundaries      int32
	}{
		{readOnly, "ReadOnlyAccess", "/", 3, 0},
		{boundaryP, "boundary", "/team/", 1, 1},
	} {
		out, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(tt.arn)})
		if err != nil {
			t.Fatal(err)
		}
		p := out.Policy
		if aws.ToString(p.DefaultVersionId) != "v1" || aws.ToString(p.Arn) != tt.arn || aws.ToString(p.PolicyName) != tt.name || aws.ToString(p.Path) != tt.path ||
			aws.ToInt32(p.AttachmentCount) != tt.attachments || aws.ToInt32(p.PermissionsBoundaryUsageCount) != tt.boundaries || !p.IsAttachable {
			t.Errorf("GetPolicy(%s) = %+v", tt.arn, p)
		}
	}
	v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(readOnly), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.PathUnescape(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		t.Fatal(err)
	}
	sameDoc(t, doc, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}`)
	if !strings.Contains(aws.ToString(v.PolicyVersion.Document), "%2A") || !v.PolicyVersion.IsDefaultVersion {
		t.Errorf("PolicyVersion = %+v", v.PolicyVersion)
	}

	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(readOnly), VersionId: aws.String("v2")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/None")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	// Another account's customer managed policy.
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ownerPol)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(ownerPol), VersionId: aws.String("v1")})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	if _, err := newClients(t, s, owner).iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ownerPol)}); err != nil {
		t.Errorf("GetPolicy of the caller's own policy: %v", err)
	}
}

func TestRFC3986Escape(t *testing.T) {
	in := `{"a": "x+y z*", "b": "~._-é/:?&="}` + "\n"
	got := rfc3986Escape(in)
	if want := "%7B%22a%22%3A%20%22x%2By%20z%2A%22%2C%20%22b%22%3A%20%22~._-%C3%A9%2F%3A%3F%26%3D%22%7D%0A"; got != want {
		t.Errorf("rfc3986Escape = %s\nwant %s", got, want)
	}
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if back, err := unescape(got); err != nil || back != in {
			t.Errorf("unescaped = %q, %v", back, err)
		}
	}
}

func TestThrottlingRetried(t *testing.T) {
	s := New(t, fixture(t))
	own, part := newClients(t, s, owner), newClients(t, s, partner)

	s.Fail("kms:DescribeKey", 2, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	if _, err := own.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key1ARN)}); err != nil {
		t.Errorf("DescribeKey after two throttles: %v", err)
	}
	s.Fail("iam:GetRole", 2, http.StatusBadRequest, "Throttling", "Rate exceeded")
	if _, err := part.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")}); err != nil {
		t.Errorf("GetRole after two throttles: %v", err)
	}
	s.Fail("s3:GetBucketPolicy", 1, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	s.Fail("s3:GetBucketPolicy", 1, http.StatusBadRequest, "Throttling", "Rate exceeded")
	if _, err := own.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("GetBucketPolicy after two throttles: %v", err)
	}
	s.Fail("sts:GetCallerIdentity", 1, http.StatusBadRequest, "Throttling", "Rate exceeded")
	if _, err := own.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity after a throttle: %v", err)
	}
	want := []string{
		"kms:DescribeKey", "kms:DescribeKey", "kms:DescribeKey",
		"iam:GetRole", "iam:GetRole", "iam:GetRole",
		"s3:GetBucketPolicy", "s3:GetBucketPolicy", "s3:GetBucketPolicy",
		"sts:GetCallerIdentity", "sts:GetCallerIdentity",
	}
	if got := s.Calls(); !slices.Equal(got, want) {
		t.Errorf("Calls() = %q\nwant %q", got, want)
	}
	// The SDK's retries are calls, not requests of the caller's.
	for _, op := range []string{"kms:DescribeKey", "iam:GetRole", "s3:GetBucketPolicy", "sts:GetCallerIdentity"} {
		if n := s.RequestCount(op); n != 1 {
			t.Errorf("RequestCount(%q) = %d, want 1 (CallCount %d)", op, n, s.CallCount(op))
		}
	}

	// Three attempts, then the error.
	s.Fail("kms:GetKeyPolicy", 3, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	_, err := own.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key1ARN)})
	wantCode(t, err, "ThrottlingException", http.StatusBadRequest)
	if _, err := own.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(key1ARN)}); err != nil {
		t.Errorf("GetKeyPolicy after the failures ran out: %v", err)
	}
}

func TestFailNotRetried(t *testing.T) {
	s := New(t, fixture(t))
	c := newClients(t, s, partner)
	s.Fail("iam:ListRolePolicies", 1, http.StatusForbidden, "AccessDenied", "User: arn:aws:iam::444455556666:user/test is not authorized to perform: iam:ListRolePolicies")
	_, err := c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("reader")})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	if !strings.Contains(err.Error(), "not authorized") {
		t.Errorf("error %v lost its message", err)
	}
	s.Fail("s3:HeadObject", 1, http.StatusForbidden, "AccessDenied", "")
	_, err = newClients(t, s, owner).s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("reports/q1.csv")})
	wantCode(t, err, "Forbidden", http.StatusForbidden)
	if got := s.Calls(); !slices.Equal(got, []string{"iam:ListRolePolicies", "s3:HeadObject"}) {
		t.Errorf("Calls() = %q", got)
	}
}

// fakeTB records what New reports instead of failing the test.
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, format)
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func TestNewAndFailMisuse(t *testing.T) {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(f, []byte(`{"format_version": "1", "accounts": {"1": {}}}`))
	}()
	<-done
	if len(f.errors) != 1 {
		t.Errorf("New with a bad state reported %q", f.errors)
	}
	s := New(t, seed(t))
	s.t = f
	s.Fail("kms:DescribeKeys", 1, 400, "ThrottlingException", "")
	if len(f.errors) != 2 {
		t.Errorf("Fail of an unknown operation reported %q", f.errors)
	}
}

func TestSetDelay(t *testing.T) {
	s := New(t, seed(t))
	c := newClients(t, s, owner)
	s.SetDelay(30 * time.Millisecond)
	start := time.Now()
	if _, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("a call took %v with a delay of 30ms", d)
	}
	// A canceled call does not wait out the delay.
	s.SetDelay(time.Hour)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.sts.GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Error("a call with an hour's delay did not time out")
	}
	s.SetDelay(0)
}

func TestAuthentication(t *testing.T) {
	s := New(t, seed(t))
	anon := newClients(t, s, owner, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	_, err := anon.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)

	bad := newClients(t, s, owner, config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}, nil
	})))
	_, err = bad.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "InvalidAccessKeyId", http.StatusForbidden)
	_, err = bad.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(key1ARN)})
	wantCode(t, err, "UnrecognizedClientException", http.StatusBadRequest)
	_, err = bad.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")})
	wantCode(t, err, "InvalidClientTokenId", http.StatusForbidden)
	_, err = bad.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", http.StatusForbidden)
	_, err = bad.aa.ValidatePolicy(ctx, &accessanalyzer.ValidatePolicyInput{PolicyDocument: aws.String("{}"), PolicyType: aatypes.PolicyTypeIdentityPolicy})
	wantCode(t, err, "UnrecognizedClientException", http.StatusForbidden)
}

func TestUnknownOperations(t *testing.T) {
	s := New(t, seed(t))
	c := newClients(t, s, owner)
	_, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	wantCode(t, err, "NotImplemented", http.StatusNotImplemented)
	_, err = c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(key1ARN), Plaintext: []byte("x")})
	wantCode(t, err, "UnknownOperationException", http.StatusBadRequest)
	_, err = c.iam.ListPolicies(ctx, &iam.ListPoliciesInput{})
	wantCode(t, err, "InvalidAction", http.StatusBadRequest)
	calls := s.Calls()
	if len(calls) < 3 || !strings.HasPrefix(calls[0], "s3:Unknown(GET /doc-example-bucket?versioning") || calls[len(calls)-2] != "kms:Encrypt" || calls[len(calls)-1] != "iam:ListPolicies" {
		t.Errorf("Calls() = %q", calls)
	}
}

// The listings "did you mean" hints come from: a caller's buckets (in every
// Region), roles and users.
func TestListBucketsRolesUsers(t *testing.T) {
	s := New(t, seed(t))
	c := newClients(t, s, owner)
	b, err := c.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Buckets) != 1 || aws.ToString(b.Buckets[0].Name) != bucket || aws.ToString(b.Owner.ID) != CanonicalID(owner) {
		t.Errorf("ListBuckets = %+v", b)
	}
	g := newClients(t, s, partner)
	roles, err := g.iam.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles.Roles {
		names = append(names, aws.ToString(r.Path)+aws.ToString(r.RoleName))
	}
	if want := []string{"/analyst", "/reader"}; !slices.Equal(names, want) {
		t.Errorf("ListRoles = %q, want %q", names, want)
	}
	users, err := g.iam.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 1 || aws.ToString(users.Users[0].Arn) != "arn:aws:iam::444455556666:user/team/alice" {
		t.Errorf("ListUsers = %+v, %v", users, err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	s := New(t, fixture(t))
	own, part := newClients(t, s, owner), newClients(t, s, partner)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 10 {
		wg.Add(4)
		go func() {
			defer wg.Done()
			_, err := own.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/app-data")})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := own.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/` + string(rune('a'+i)) + `"}]}`
			_, err := part.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("analyst"), PolicyName: aws.String("p" + string(rune('a'+i))), PolicyDocument: aws.String(doc)})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := part.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("analyst")})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if len(s.Calls()) != 40 {
		t.Errorf("%d calls recorded, want 40", len(s.Calls()))
	}
	out, err := part.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("analyst")})
	if err != nil || len(out.PolicyNames) != 10 {
		t.Errorf("ListRolePolicies after concurrent writes = %v, %v", out, err)
	}
	if _, err := statefile.Parse("state.json", s.State()); err != nil {
		t.Errorf("State() does not parse: %v", err)
	}
}

func TestDecodeChunked(t *testing.T) {
	body := "5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
	got, err := decodeChunked([]byte(body))
	if err != nil || string(got) != "hello world" {
		t.Errorf("decodeChunked = %q, %v", got, err)
	}
	if _, err := decodeChunked([]byte("zz\r\n")); err == nil {
		t.Error("decodeChunked accepted a bad size")
	}
}

// The fake Access Analyzer answers the SDK's REST-JSON requests, refuses
// what AWS refuses, pages its findings, locates them by statement, and
// judges a statement open to everyone public.
func TestAccessAnalyzer(t *testing.T) {
	s := New(t, seed(t))
	c := newClients(t, s, owner)
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"*"},` +
		`{"Sid":"KmsgrantGetObject1","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::doc-example-bucket/*"}]}`

	// Refused (the SDK itself refuses a missing document): an unknown
	// policy type, a resource type ValidatePolicy does not have (there is
	// none for KMS keys), a resource type with an identity policy.
	for _, in := range []*accessanalyzer.ValidatePolicyInput{
		{PolicyDocument: aws.String(doc), PolicyType: "BUCKET_POLICY"},
		{PolicyDocument: aws.String(doc), PolicyType: aatypes.PolicyTypeResourcePolicy, ValidatePolicyResourceType: "AWS::KMS::Key"},
		{PolicyDocument: aws.String(doc), PolicyType: aatypes.PolicyTypeIdentityPolicy, ValidatePolicyResourceType: aatypes.ValidatePolicyResourceTypeS3Bucket},
	} {
		_, err := c.aa.ValidatePolicy(ctx, in)
		wantCode(t, err, "ValidationException", http.StatusBadRequest)
	}
	_, err := c.aa.CheckNoPublicAccess(ctx, &accessanalyzer.CheckNoPublicAccessInput{PolicyDocument: aws.String(doc), ResourceType: "AWS::IAM::Role"})
	wantCode(t, err, "ValidationException", http.StatusBadRequest)

	s.AddFinding(PolicyFinding{SidPrefix: "Kmsgrant", FindingType: "ERROR", IssueCode: "MISSING_VERSION", Details: "first"})
	s.AddFinding(PolicyFinding{PolicyType: "IDENTITY_POLICY", FindingType: "WARNING", IssueCode: "OTHER_TYPE"})
	s.AddFinding(PolicyFinding{SidPrefix: "Absent", FindingType: "ERROR", IssueCode: "NOT_HERE"})
	for range 2 {
		s.AddFinding(PolicyFinding{FindingType: "SUGGESTION", IssueCode: "WHOLE"})
	}
	in := &accessanalyzer.ValidatePolicyInput{PolicyDocument: aws.String(doc), PolicyType: aatypes.PolicyTypeResourcePolicy, ValidatePolicyResourceType: aatypes.ValidatePolicyResourceTypeS3Bucket}
	first, err := c.aa.ValidatePolicy(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Findings) != 2 || first.NextToken == nil {
		t.Fatalf("first page: %d findings, next token %v; want 2 and a token", len(first.Findings), first.NextToken)
	}
	var got []string
	pages := accessanalyzer.NewValidatePolicyPaginator(c.aa, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Findings {
			where := "document"
			if p := f.Locations[0].Path; len(p) == 2 {
				where = fmt.Sprintf("%v %v", p[0].(*aatypes.PathElementMemberValue).Value, p[1].(*aatypes.PathElementMemberIndex).Value)
			}
			got = append(got, fmt.Sprintf("%s %s at %s", f.FindingType, aws.ToString(f.IssueCode), where))
		}
	}
	want := []string{"ERROR MISSING_VERSION at Statement 1", "SUGGESTION WHOLE at document", "SUGGESTION WHOLE at document"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	pub, err := c.aa.CheckNoPublicAccess(ctx, &accessanalyzer.CheckNoPublicAccessInput{PolicyDocument: aws.String(doc), ResourceType: aatypes.AccessCheckResourceTypeS3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	if pub.Result != aatypes.CheckNoPublicAccessResultFail || len(pub.Reasons) != 1 || aws.ToInt32(pub.Reasons[0].StatementIndex) != 1 || aws.ToString(pub.Reasons[0].StatementId) != "KmsgrantGetObject1" {
		t.Errorf("CheckNoPublicAccess = %s %+v, want FAIL naming statement 1", pub.Result, pub.Reasons)
	}
	// The SetPublic rule names a statement the fake would pass.
	s.SetPublic(PublicResult{ResourceType: "AWS::KMS::Key", SidPrefix: "Other"})
	pub, err = c.aa.CheckNoPublicAccess(ctx, &accessanalyzer.CheckNoPublicAccessInput{PolicyDocument: aws.String(doc), ResourceType: aatypes.AccessCheckResourceTypeKmsKey})
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Reasons) != 2 || aws.ToInt32(pub.Reasons[0].StatementIndex) != 0 {
		t.Errorf("CheckNoPublicAccess for a key = %+v, want statements 0 and 1", pub.Reasons)
	}
	private := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`
	pub, err = c.aa.CheckNoPublicAccess(ctx, &accessanalyzer.CheckNoPublicAccessInput{PolicyDocument: aws.String(private), ResourceType: aatypes.AccessCheckResourceTypeS3Bucket})
	if err != nil || pub.Result != aatypes.CheckNoPublicAccessResultPass {
		t.Errorf("CheckNoPublicAccess of a conditioned statement = %v, %v; want PASS", pub, err)
	}

	calls := s.AnalyzerCalls()
	if len(calls) != 6 || calls[0] != (AnalyzerCall{Account: owner, Region: "us-west-2", Op: "ValidatePolicy", PolicyType: "RESOURCE_POLICY", ResourceType: "AWS::S3::Bucket", Document: doc}) {
		t.Errorf("AnalyzerCalls() = %+v", calls)
	}

	// Errors are injected per operation, in the REST-JSON error form.
	s.Fail("access-analyzer:ValidatePolicy", 1, http.StatusForbidden, "AccessDeniedException", "not authorized")
	_, err = c.aa.ValidatePolicy(ctx, in)
	var denied *aatypes.AccessDeniedException
	if !errors.As(err, &denied) || denied.ErrorMessage() != "not authorized" {
		t.Errorf("ValidatePolicy after Fail = %v, want AccessDeniedException", err)
	}
}

// RoundTrips counts requests made one after another's answer, not those
// made at once.
func TestRoundTrips(t *testing.T) {
	s := New(t, seed(t))
	// Long beside the time the four calls at once take to leave, even on
	// a loaded machine.
	s.SetDelay(300 * time.Millisecond)
	client := newClients(t, s, owner).sts
	call := func() {
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Error(err)
		}
	}
	call()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(call)
	}
	wg.Wait()
	call()
	if got := s.RoundTrips(); got != 3 {
		t.Errorf("RoundTrips = %d after one call, four at once and one; want 3", got)
	}
}
