// Package live is the AWS backend: it reads and writes the bucket owner's
// and the grantee's accounts through aws-sdk-go-v2, behind the same
// apply.Backend interface as the state file, so plans are made by the same
// planner from the same inputs.
package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/kmsgrant/kmsgrant/apply"
)

var _ apply.Backend = (*Backend)(nil)

// Options say which credentials and endpoints to use.
type Options struct {
	// OwnerProfile and GranteeProfile name shared-config profiles; ""
	// means the SDK's default chain (AWS_PROFILE, environment, SSO,
	// instance roles).
	OwnerProfile   string
	GranteeProfile string
	// Profile is the profile of both accounts where OwnerProfile or
	// GranteeProfile is "", as AWS_PROFILE would be: grantee credentials
	// it gives that are of another account than the grantee's are no
	// grantee credentials (the IAM side is shown for its administrator),
	// not an error.
	Profile string
	// Region is for the first calls; the bucket's own Region decides the
	// S3 and KMS clients after that.
	Region string
	// EndpointURL sends every call to an AWS-compatible endpoint such as
	// LocalStack; S3 then uses path-style addressing. AWS_ENDPOINT_URL
	// works too, through the SDK.
	EndpointURL string
	// GranteeAccount is the account the grant names for the grantee; the
	// grantee credentials must be in it.
	GranteeAccount string
	// Prefix and CheckObjects: with CheckObjects > 0, up to that many
	// objects under Prefix are looked at (HeadObject) for their real
	// encryption and owner.
	Prefix       string
	CheckObjects int
	// VersionID, with CheckObjects and Prefix naming one object, is a
	// version of it to look at too (HeadObject with VersionId).
	VersionID string

	// OwnerConfig and GranteeConfig replace loading the shared config,
	// for tests.
	OwnerConfig   *aws.Config
	GranteeConfig *aws.Config
	// InvalidPrincipalRetry is how long a write that AWS refuses because
	// a principal it names does not exist yet is retried (IAM is
	// eventually consistent); default 30 seconds.
	InvalidPrincipalRetry time.Duration
	// OnCall, when set, is told of every AWS call as it starts and as it
	// ends (service, operation, target, status, time): for --debug and
	// progress. It may be called from several goroutines at once.
	OnCall func(Call)
	// VerifyDelay is how long apply waits after its last write before it
	// reads every target back (Backend.VerifyDelay); default
	// DefaultVerifyDelay, and a negative value means none.
	VerifyDelay time.Duration
	// AccountProfiles names the profile of grantee accounts (a grants
	// file's profiles), beside GranteeProfile: a batch's grantees can be
	// in several accounts. Each profile is asked once who it is, and must
	// be of the account it is given for.
	AccountProfiles map[string]string
	// AccountConfigs replace loading AccountProfiles' profiles, for tests.
	AccountConfigs map[string]*aws.Config
}

// granteeSide is a grantee account's credentials and IAM client.
type granteeSide struct {
	id  *identity
	iam IAMAPI
}

// granteeIn returns the credentials of a grantee account; nil when
// kmsgrant has none for it, which makes its IAM side manual.
func (b *Backend) granteeIn(account string) *granteeSide {
	return b.grantees[account]
}

// DefaultVerifyDelay is how long apply waits, by default, between its last
// write and reading the targets back. S3 bucket configuration is eventually
// consistent, and neither S3, KMS nor IAM takes a precondition on a policy
// write, so another writer's Put that was in flight while kmsgrant wrote
// can land after kmsgrant's: reading back at once could miss it.
const DefaultVerifyDelay = 2 * time.Second

// ErrNoCredentials is returned when the SDK finds no credentials.
var ErrNoCredentials = errors.New("no AWS credentials found (name a profile with --profile, or --owner-profile and --grantee-profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID)")

// identity is one account's credentials and what they are.
type identity struct {
	profile string
	account string
	// caller is the ARN STS answered for the credentials.
	caller string
	cfg    aws.Config
}

// name says which credentials these are, for messages.
func (i *identity) name() string {
	if i.caller == "" {
		return credentialsName(i.profile)
	}
	return credentialsName(i.profile) + " (" + i.caller + ")"
}

// credentialsName says how credentials were chosen.
func credentialsName(profile string) string {
	if profile == "" {
		return "default credentials"
	}
	return fmt.Sprintf("profile %q", profile)
}

// Backend reads and writes through the AWS SDK.
type Backend struct {
	opts  Options
	owner *identity
	// grantees are the credentials of each grantee account kmsgrant was
	// given, with their IAM client; defaultGrantee is the one of
	// --grantee-profile (or --profile), nil when there is none.
	grantees       map[string]*granteeSide
	defaultGrantee *granteeSide

	// Clients, made per Region on first use; replaced by tests.
	s3For  func(region string) S3API
	kmsFor func(region string) KMSAPI
	// analyzerFor is IAM Access Analyzer for an account's credentials in
	// a Region, for Validate.
	analyzerFor func(who *identity, region string) AccessAnalyzerAPI

	mu sync.Mutex
	// regions remembers each bucket's Region, read once.
	regions map[string]string
	// encryption remembers each bucket's whole encryption configuration
	// as read, so a write changes the key and nothing else.
	encryption map[string]*s3types.ServerSideEncryptionConfiguration
	// notes are things the user should know that are not errors, such as
	// missing grantee credentials; noted keys those said once.
	notes []string
	noted map[string]bool
}

// New loads credentials, checks which accounts they are, and returns the
// backend.
func New(ctx context.Context, opts Options) (*Backend, error) {
	if opts.InvalidPrincipalRetry == 0 {
		opts.InvalidPrincipalRetry = 30 * time.Second
	}
	if opts.VerifyDelay == 0 {
		opts.VerifyDelay = DefaultVerifyDelay
	}
	// Both accounts are asked who they are at once: one round trip; once
	// when both sides take the same credentials (--profile alone, or none).
	ownerProfile, granteeProfile := cmp.Or(opts.OwnerProfile, opts.Profile), cmp.Or(opts.GranteeProfile, opts.Profile)
	same := ownerProfile == granteeProfile && opts.OwnerConfig == nil && opts.GranteeConfig == nil
	// With the grantee accounts' profiles given one by one (a grants
	// file), the default chain is no grantee's unless named.
	none := len(opts.AccountProfiles)+len(opts.AccountConfigs) > 0 && opts.GranteeProfile == "" && opts.Profile == "" && opts.GranteeConfig == nil
	var owner, grantee *identity
	var ownerErr, granteeErr error
	_ = parallel(
		func() error {
			owner, ownerErr = loadIdentity(ctx, opts, ownerProfile, opts.OwnerConfig)
			return nil
		},
		func() error {
			if !same && !none {
				grantee, granteeErr = loadIdentity(ctx, opts, granteeProfile, opts.GranteeConfig)
			}
			return nil
		},
	)
	if same {
		grantee, granteeErr = owner, ownerErr
	}
	if ownerErr != nil {
		return nil, fmt.Errorf("owner credentials (%s): %w", credentialsName(ownerProfile), ownerErr)
	}
	if opts.GranteeAccount != "" && owner.account == opts.GranteeAccount {
		return nil, fmt.Errorf("the owner credentials, %s, are for account %s, the grantee's account; use --owner-profile for the account that owns the bucket and key",
			owner.name(), owner.account)
	}
	b := &Backend{opts: opts, owner: owner, regions: map[string]string{}, encryption: map[string]*s3types.ServerSideEncryptionConfiguration{}}
	switch err := granteeErr; {
	case none:
	case err != nil && (opts.GranteeProfile != "" || opts.GranteeConfig != nil):
		return nil, fmt.Errorf("grantee credentials (%s): %w", credentialsName(opts.GranteeProfile), err)
	case err != nil:
		b.note("no grantee-account credentials could be loaded, so the IAM side is shown for its administrator to attach")
	case opts.GranteeAccount != "" && grantee.account != opts.GranteeAccount:
		if opts.GranteeProfile != "" || opts.GranteeConfig != nil {
			return nil, fmt.Errorf("the grantee credentials, %s, are for account %s, but the grantee is in account %s", grantee.name(), grantee.account, opts.GranteeAccount)
		}
		// The default chain found credentials, but for another account:
		// there are simply no grantee credentials.
		b.note(fmt.Sprintf("no credentials for the grantee's account %s were given (--grantee-profile), so the IAM side is shown for its administrator to attach", opts.GranteeAccount))
	default:
		b.defaultGrantee = b.granteeSide(grantee)
	}
	b.grantees = map[string]*granteeSide{}
	if b.defaultGrantee != nil {
		b.grantees[b.defaultGrantee.id.account] = b.defaultGrantee
	}
	if err := b.loadAccountProfiles(ctx, map[string]*identity{ownerProfile: owner, granteeProfile: grantee}); err != nil {
		return nil, err
	}
	b.s3For = b.cachedS3()
	b.kmsFor = b.cachedKMS()
	b.analyzerFor = b.cachedAnalyzer()
	return b, nil
}

// granteeSide makes the IAM client of a grantee account's credentials.
func (b *Backend) granteeSide(id *identity) *granteeSide {
	return &granteeSide{id: id, iam: iam.NewFromConfig(id.cfg, func(o *iam.Options) {
		if b.opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(b.opts.EndpointURL)
		}
	})}
}

// loadAccountProfiles loads the credentials of each grantee account that
// AccountProfiles names, all at once, asking STS once per profile not
// already loaded (known), and checks each is of its account.
func (b *Backend) loadAccountProfiles(ctx context.Context, known map[string]*identity) error {
	var mu sync.Mutex
	// One load for each profile (or, in tests, each config), and the
	// accounts it is given for: both are checked the same way.
	type source struct {
		name     string
		profile  string
		cfg      *aws.Config
		accounts []string
	}
	var sources []*source
	byProfile := map[string]*source{}
	for account, profile := range b.opts.AccountProfiles {
		if byProfile[profile] == nil {
			byProfile[profile] = &source{name: fmt.Sprintf("profile %q", profile), profile: profile}
			sources = append(sources, byProfile[profile])
		}
		byProfile[profile].accounts = append(byProfile[profile].accounts, account)
	}
	for account, cfg := range b.opts.AccountConfigs {
		sources = append(sources, &source{name: "the credentials given", cfg: cfg, accounts: []string{account}})
	}
	var loads []func() error
	for _, src := range sources {
		loads = append(loads, func() error {
			id, ok := known[src.profile]
			if src.cfg != nil || !ok || id == nil {
				var err error
				if id, err = loadIdentity(ctx, b.opts, src.profile, src.cfg); err != nil {
					return fmt.Errorf("%s, for account %s: %w", src.name, src.accounts[0], err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, account := range src.accounts {
				switch {
				case id.account != account:
					return fmt.Errorf("%s is for account %s, but it is given for account %s", src.name, id.account, account)
				case account == b.owner.account:
					// The owner's own account is no grantee's.
				case b.grantees[account] == nil:
					b.grantees[account] = b.granteeSide(id)
				}
			}
			return nil
		})
	}
	return parallel(loads...)
}

func loadIdentity(ctx context.Context, opts Options, profile string, given *aws.Config) (*identity, error) {
	var cfg aws.Config
	if given != nil {
		cfg = given.Copy()
	} else {
		// The SDK's own warnings (such as falling back to IMDSv1) would
		// interleave with the plan; kmsgrant reports failures itself.
		loaders := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
		if profile != "" {
			loaders = append(loaders, config.WithSharedConfigProfile(profile))
		}
		if opts.Region != "" {
			loaders = append(loaders, config.WithRegion(opts.Region))
		}

		var err error
		if cfg, err = config.LoadDefaultConfig(ctx, loaders...); err != nil {
			return nil, err
		}
		if cfg.RetryMode == "" && cfg.Retryer == nil {
			// A batch's many requests meet AWS's request rates (KMS
			// PutKeyPolicy, IAM): adaptive retries slow down when
			// throttled instead of failing. AWS_RETRY_MODE or a
			// profile's retry_mode decides when set.
			cfg.RetryMode = aws.RetryModeAdaptive
		}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	hookCalls(&cfg, opts.OnCall)
	if cfg.Credentials == nil {
		return nil, ErrNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoCredentials, err)
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if isCode(err, "InvalidClientTokenId") {
		return nil, fmt.Errorf("asking STS in %s which account they are in: %w (credentials for aws-cn or aws-us-gov need a Region of that partition: --region)", cfg.Region, err)
	}
	if err != nil {
		return nil, fmt.Errorf("asking STS which account they are in: %w", err)
	}
	return &identity{profile: profile, account: aws.ToString(out.Account), caller: aws.ToString(out.Arn), cfg: cfg}, nil
}

func (b *Backend) cachedS3() func(string) S3API {
	var mu sync.Mutex
	clients := map[string]S3API{}
	return func(region string) S3API {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[region]; ok {
			return c
		}
		c := s3.NewFromConfig(b.owner.cfg, func(o *s3.Options) {
			o.Region = region
			if b.opts.EndpointURL != "" {
				o.BaseEndpoint = aws.String(b.opts.EndpointURL)
			}
			// AWS-compatible endpoints (--endpoint-url, or
			// AWS_ENDPOINT_URL through the SDK) rarely serve
			// virtual-hosted bucket names. On AWS, a legacy
			// bucket name that is no DNS label (Legacy_Bucket)
			// is addressed path-style by the SDK's endpoint rules
			// themselves.
			if o.BaseEndpoint != nil {
				o.UsePathStyle = true
			}
		})
		clients[region] = c
		return c
	}
}

func (b *Backend) cachedKMS() func(string) KMSAPI {
	var mu sync.Mutex
	clients := map[string]KMSAPI{}
	return func(region string) KMSAPI {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[region]; ok {
			return c
		}
		c := kms.NewFromConfig(b.owner.cfg, func(o *kms.Options) {
			o.Region = region
			if b.opts.EndpointURL != "" {
				o.BaseEndpoint = aws.String(b.opts.EndpointURL)
			}
		})
		clients[region] = c
		return c
	}
}

// noteOnce is note for something that can be found many times (once per
// grantee of an account): the first time for each key only.
func (b *Backend) noteOnce(key, s string) {
	b.mu.Lock()
	if b.noted == nil {
		b.noted = map[string]bool{}
	}
	seen := b.noted[key]
	b.noted[key] = true
	b.mu.Unlock()
	if !seen {
		b.note(s)
	}
}

func (b *Backend) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, s)
}

// Notes returns what the backend wants the user to know: missing grantee
// credentials, for example.
func (b *Backend) Notes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.notes...)
}

// Accounts returns the accounts of the owner and grantee credentials; the
// grantee's is "" without usable grantee credentials.
func (b *Backend) Accounts() (owner, grantee string) {
	if b.defaultGrantee != nil {
		grantee = b.defaultGrantee.id.account
	}
	return b.owner.account, grantee
}

// GuessOwner implements apply.Guesser: a bucket is most likely in the owner
// credentials' account and Region.
func (b *Backend) GuessOwner() (account, region string) {
	return b.owner.account, b.owner.cfg.Region
}

// Flush implements apply.Backend: every write already took effect.
func (b *Backend) Flush(context.Context) error { return nil }

// parallel runs fs at once and returns the first error.
func parallel(fs ...func() error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// VerifyDelay implements apply.Verifier.
func (b *Backend) VerifyDelay() time.Duration { return max(b.opts.VerifyDelay, 0) }
