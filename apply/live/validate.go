package live

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/smithy-go"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

var _ apply.Validator = (*Backend)(nil)

// errNoGranteeCredentials is why a grantee's IAM policy cannot be
// validated: Access Analyzer is asked with the credentials of the account
// that owns the document.
var errNoGranteeCredentials = errors.New("no credentials for the grantee's account were given (--grantee-profile)")

// Validate implements apply.Validator with IAM Access Analyzer, asked with
// the credentials of the account that owns the document, in its Region:
// the owner's for the bucket and key policies, the grantee's for the IAM
// policy.
//
//   - bucket policy: ValidatePolicy as RESOURCE_POLICY for AWS::S3::Bucket,
//     and CheckNoPublicAccess for AWS::S3::Bucket;
//   - key policy: ValidatePolicy as RESOURCE_POLICY with no resource type
//     (ValidatePolicy has none for KMS keys and runs the checks of every
//     resource policy), and CheckNoPublicAccess for AWS::KMS::Key;
//   - IAM policy: ValidatePolicy as IDENTITY_POLICY.
//
// The document sent is the one Write would send.
func (b *Backend) Validate(ctx context.Context, c generate.Change) ([]apply.PolicyFinding, error) {
	doc := c.After
	if c.Policy != nil {
		doc = string(c.Policy.Compact())
	}
	in := &accessanalyzer.ValidatePolicyInput{PolicyDocument: aws.String(doc)}
	var who *identity
	var region string
	var public aatypes.AccessCheckResourceType
	switch c.Kind {
	case generate.KindBucketPolicy:
		who = b.owner
		_, region = b.bucketOf(c.Target)
		in.PolicyType = aatypes.PolicyTypeResourcePolicy
		in.ValidatePolicyResourceType = aatypes.ValidatePolicyResourceTypeS3Bucket
		public = aatypes.AccessCheckResourceTypeS3Bucket
	case generate.KindKeyPolicy:
		who = b.owner
		region = b.owner.cfg.Region
		if k, err := arns.ParseKeyARN(c.Target); err == nil {
			region = k.Region
		}
		in.PolicyType = aatypes.PolicyTypeResourcePolicy
		public = aatypes.AccessCheckResourceTypeKmsKey
	case generate.KindIAMPolicy:
		side := b.granteeIn(c.Account)
		if side == nil {
			return nil, errNoGranteeCredentials
		}
		who = side.id
		region = side.id.cfg.Region
		in.PolicyType = aatypes.PolicyTypeIdentityPolicy
	default:
		return nil, fmt.Errorf("%s is not a policy", c.Kind)
	}
	client := b.analyzerFor(who, region)
	var errs []error
	found, err := validatePolicy(ctx, client, in)
	if err != nil {
		errs = append(errs, analyzerError(err, apply.CheckValidatePolicy, who))
	}
	if public != "" {
		more, err := checkNoPublicAccess(ctx, client, doc, public)
		if err != nil {
			errs = append(errs, analyzerError(err, apply.CheckNoPublicAccess, who))
		}
		found = append(found, more...)
	}
	return found, errors.Join(errs...)
}

func validatePolicy(ctx context.Context, client AccessAnalyzerAPI, in *accessanalyzer.ValidatePolicyInput) ([]apply.PolicyFinding, error) {
	var out []apply.PolicyFinding
	pages := accessanalyzer.NewValidatePolicyPaginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, f := range page.Findings {
			out = append(out, apply.PolicyFinding{
				Check: apply.CheckValidatePolicy, Type: string(f.FindingType), Code: aws.ToString(f.IssueCode),
				Detail: aws.ToString(f.FindingDetails), LearnMore: aws.ToString(f.LearnMoreLink),
				Statement: statementOf(f.Locations),
			})
		}
	}
	return out, nil
}

func checkNoPublicAccess(ctx context.Context, client AccessAnalyzerAPI, doc string, resource aatypes.AccessCheckResourceType) ([]apply.PolicyFinding, error) {
	out, err := client.CheckNoPublicAccess(ctx, &accessanalyzer.CheckNoPublicAccessInput{PolicyDocument: aws.String(doc), ResourceType: resource})
	if err != nil {
		return nil, err
	}
	switch out.Result {
	case aatypes.CheckNoPublicAccessResultPass:
		return nil, nil
	case aatypes.CheckNoPublicAccessResultFail:
	default:
		return nil, fmt.Errorf("unknown result %q", out.Result)
	}
	var found []apply.PolicyFinding
	for _, r := range out.Reasons {
		index := -1
		if r.StatementIndex != nil {
			index = int(*r.StatementIndex)
		}
		found = append(found, apply.PolicyFinding{Check: apply.CheckNoPublicAccess, Type: apply.FindingPublic,
			Detail: aws.ToString(r.Description), Statement: index})
	}
	if len(found) == 0 {
		found = append(found, apply.PolicyFinding{Check: apply.CheckNoPublicAccess, Type: apply.FindingPublic,
			Detail: aws.ToString(out.Message), Statement: -1})
	}
	return found, nil
}

// statementOf returns the index of the statement a finding's first
// location is in: the path goes Statement, then its index (absent when
// Statement is one object, not a list); -1 when it names no statement.
func statementOf(locations []aatypes.Location) int {
	for _, l := range locations {
		for i, e := range l.Path {
			if !isStatementKey(e) {
				continue
			}
			if i+1 < len(l.Path) {
				if idx, ok := l.Path[i+1].(*aatypes.PathElementMemberIndex); ok {
					return int(idx.Value)
				}
			}
			return 0
		}
	}
	return -1
}

func isStatementKey(e aatypes.PathElement) bool {
	switch e := e.(type) {
	case *aatypes.PathElementMemberValue:
		return e.Value == "Statement"
	case *aatypes.PathElementMemberKey:
		return e.Value == "Statement"
	}
	return false
}

// analyzerError says which check could not be made and why, short enough
// for a plan's not_checked list.
func analyzerError(err error, check string, who *identity) error {
	var api smithy.APIError
	switch {
	case isAccessDenied(err):
		return fmt.Errorf("%s was denied to %s (it needs access-analyzer:%s)", check, who.name(), check)
	case errors.As(err, &api):
		return fmt.Errorf("%s failed: %s: %s", check, api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("%s failed: %w", check, err)
}

// cachedAnalyzer makes one Access Analyzer client per account and Region.
func (b *Backend) cachedAnalyzer() func(*identity, string) AccessAnalyzerAPI {
	var mu sync.Mutex
	clients := map[string]AccessAnalyzerAPI{}
	return func(who *identity, region string) AccessAnalyzerAPI {
		mu.Lock()
		defer mu.Unlock()
		key := who.account + "/" + region
		if c, ok := clients[key]; ok {
			return c
		}
		c := accessanalyzer.NewFromConfig(who.cfg, func(o *accessanalyzer.Options) {
			o.Region = region
			if b.opts.EndpointURL != "" {
				o.BaseEndpoint = aws.String(b.opts.EndpointURL)
			}
		})
		clients[key] = c
		return c
	}
}
