package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// GrantFlags are the flags that describe a grant, shared by plan and apply.
type GrantFlags struct {
	State string
	// Live AWS: credentials and endpoints, used without --state.
	// Profile is both accounts' profile, as AWS_PROFILE is, where
	// OwnerProfile or GranteeProfile does not name one.
	Profile        string
	OwnerProfile   string
	GranteeProfile string
	Region         string
	EndpointURL    string
	CheckObjects   int
	// VerifyDelay is how long a live apply waits after its writes
	// before reading them back; verifyDelaySet records --verify-delay was
	// given (a state file takes none).
	VerifyDelay    time.Duration
	verifyDelaySet bool
	// VersionID is the object version explain reads, live with
	// HeadObject.
	VersionID string

	Bucket        string
	Prefix        string
	Key           string
	Grantee       string
	Access        string
	IAMPolicyName string
	// Via is how the key is granted (--via): key-policy or grant; with
	// -f, the way of the file's grants that name none.
	Via string
	// moreGrantees and morePrefixes are the --grantee and --prefix values
	// after the first: plan, apply and revoke plan every grantee on every
	// prefix.
	moreGrantees, morePrefixes []string
	// File is a grants file (-f) that holds the grants instead of flags.
	File string
	// Prune plans the revocation of the grants kmsgrant wrote earlier for
	// the file's buckets that the file does not hold.
	Prune bool
}

func (g *GrantFlags) register(cmd *cobra.Command) {
	g.registerAccounts(cmd)
	fl := cmd.Flags()
	fl.Var(&grantFlag{first: &g.Bucket, what: "bucket"}, "bucket", "`NAME` of the bucket to share")
	fl.Var(&grantFlag{first: &g.Grantee, more: &g.moreGrantees}, "grantee", "the grantee `PRINCIPAL`: an IAM role or user ARN, a role session ARN, or a 12-digit account ID")
	fl.Var(&grantFlag{first: &g.Prefix, more: &g.morePrefixes}, "prefix", "limit the grant to object keys starting with `PREFIX` (reports/)")
	fl.StringVar(&g.Key, "key", "", "KMS `KEY`: key ID, key ARN, alias/NAME or alias ARN (default: the key of the bucket's default encryption)")
	fl.StringVar(&g.Access, "access", "read", "access `LEVELS`, comma-separated: read (always), list, write, versions")
	fl.StringVar(&g.IAMPolicyName, "iam-policy-name", "", "`NAME` of the grantee's inline policy (default kmsgrant: one for all of kmsgrant's grants to it, into which the kmsgrant-BUCKET policies of earlier versions are folded)")
	fl.IntVar(&g.CheckObjects, "check-objects", 0, "look at up to `N` objects under the prefix for the key they are really encrypted with")
	_ = cmd.RegisterFlagCompletionFunc("bucket", completeFromState(func(n stateNames) []string { return n.Buckets }))
	_ = cmd.RegisterFlagCompletionFunc("grantee", completeFromState(func(n stateNames) []string { return n.Grantees }))
	_ = cmd.RegisterFlagCompletionFunc("key", completeFromState(func(n stateNames) []string { return n.Keys }))
	_ = cmd.RegisterFlagCompletionFunc("access", completeAccess)
	for _, name := range []string{"prefix", "iam-policy-name", "check-objects"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
}

// registerAccounts adds the flags that say which accounts to read: a
// state file, or live AWS credentials and endpoints.
func (g *GrantFlags) registerAccounts(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&g.State, "state", "", "account-state `FILE` to plan against instead of live AWS")
	fl.StringVar(&g.Profile, "profile", "", "AWS `PROFILE` of both accounts, as AWS_PROFILE; --owner-profile and --grantee-profile name one account's instead")
	fl.StringVar(&g.OwnerProfile, "owner-profile", "", "AWS `PROFILE` of the account that owns the bucket and key (default: --profile, or the SDK's default chain: AWS_PROFILE, environment, SSO, instance role)")
	fl.StringVar(&g.GranteeProfile, "grantee-profile", "", "AWS `PROFILE` of the grantee's account, to read and write its IAM policy (default: --profile, or the SDK's default chain)")
	fl.StringVar(&g.Region, "region", "", "`REGION` for the first calls, as AWS_REGION (the bucket's own Region is used after that)")
	fl.StringVar(&g.EndpointURL, "endpoint-url", "", "send every AWS call to `URL` (an AWS-compatible endpoint such as LocalStack), as AWS_ENDPOINT_URL")
	_ = cmd.MarkFlagFilename("state", "json")
	for _, name := range []string{"profile", "owner-profile", "grantee-profile"} {
		_ = cmd.RegisterFlagCompletionFunc(name, completeProfiles)
	}
	for _, name := range []string{"region", "endpoint-url"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
}

// checkAccounts refuses live AWS flags given with a state file, and a
// negative --verify-delay. openBackend runs it, so every command that
// reads accounts does: saved plans and restore too, whose grant does not
// come from these flags.
func (g *GrantFlags) checkAccounts() error {
	if g.State != "" && (g.Profile != "" || g.OwnerProfile != "" || g.GranteeProfile != "" || g.Region != "" || g.EndpointURL != "" || g.CheckObjects != 0 || g.verifyDelaySet) {
		return errors.New("--state plans against a file: --profile, --owner-profile, --grantee-profile, --region, --endpoint-url, --check-objects and --verify-delay are for live AWS")
	}
	if g.VerifyDelay < 0 {
		return fmt.Errorf("--verify-delay: want a duration of 0 or more, not %s", g.VerifyDelay)
	}
	return nil
}

// grantFlag is a flag of a grant's value. The first value goes to first;
// where more is set, a later one is another value (--grantee, --prefix:
// every grantee on every prefix), and otherwise it is refused, since it
// would silently replace the first (--bucket).
type grantFlag struct {
	first *string
	more  *[]string
	what  string
	set   bool
}

func (f *grantFlag) String() string {
	if f.first == nil {
		return ""
	}
	return *f.first
}

func (f *grantFlag) Set(v string) error {
	switch {
	case !f.set:
		*f.first, f.set = v, true
	case f.more != nil:
		*f.more = append(*f.more, v)
	default:
		return fmt.Errorf("given twice (%q, then %q): flags name one %s; put grants on several in a grants file (-f FILE)", *f.first, v, f.what)
	}
	return nil
}

func (f *grantFlag) Type() string { return "string" }

// looksLikeList reports whether a --grantee value is several principals
// joined by commas. IAM names may hold commas, so only a part that is
// itself an ARN or an account ID makes it a list.
func looksLikeList(v string) bool {
	parts := strings.Split(v, ",")
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, "arn:") || arns.IsAccountID(p) {
			return true
		}
	}
	return false
}

var policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// grantSpec is one grant as a person wrote it, in flags or in a grants
// file: both are checked by grant, so they mean the same.
type grantSpec struct {
	Bucket, Prefix, Key, Grantee, Access, IAMPolicyName, Via string
}

// fieldName names a field of a grant in errors: its flag (--bucket), or
// where the grant is in a grants file and the field (grants.yaml:3 (grant
// 1): bucket).
type fieldName func(field string) string

// flagName names a grant's field by its flag.
func flagName(field string) string { return "--" + strings.ReplaceAll(field, "_", "-") }

// grant turns the flags of one grant into a grant. More than one --grantee
// or --prefix is refused: this is for the commands that take one grant.
func (g *GrantFlags) grant() (generate.Grant, *generate.Finding, error) {
	if len(g.moreGrantees) > 0 || len(g.morePrefixes) > 0 {
		return generate.Grant{}, nil, errors.New("this command takes one grant: give --grantee and --prefix once")
	}
	if g.CheckObjects < 0 {
		return generate.Grant{}, nil, fmt.Errorf("--check-objects: want a number of objects, not %d", g.CheckObjects)
	}
	if looksLikeList(g.Grantee) {
		return generate.Grant{}, nil, fmt.Errorf("--grantee: %q is several principals; this command takes one", g.Grantee)
	}
	return g.spec(g.Grantee, g.Prefix).grant(flagName)
}

// spec is the grant the flags give for one grantee and prefix.
func (g *GrantFlags) spec(grantee, prefix string) grantSpec {
	return grantSpec{Bucket: g.Bucket, Prefix: prefix, Key: g.Key, Grantee: grantee, Access: g.Access, IAMPolicyName: g.IAMPolicyName, Via: g.Via}
}

// registerVia adds --via, which plan and apply take: how the key is
// granted.
func (g *GrantFlags) registerVia(cmd *cobra.Command) {
	cmd.Flags().StringVar(&g.Via, "via", "", "`WAY` the grantee gets the key: key-policy (statements scoped to the prefix and to S3; the default) or grant (a KMS grant per grantee and bucket, which fits where the key policy does not, and allows the key on any data, directly too); with -f, for the grants that name none")
	_ = cmd.RegisterFlagCompletionFunc("via", cobra.FixedCompletions([]string{generate.ViaKeyPolicy, generate.ViaGrant}, cobra.ShellCompDirectiveNoFileComp))
}

// grant checks a grant's values and turns them into a grant. A wildcard
// grantee is not an input error but a blocker, so it comes back as a
// finding for the plan to show.
func (s grantSpec) grant(name fieldName) (generate.Grant, *generate.Finding, error) {
	var out generate.Grant
	var missing []string
	if s.Bucket == "" {
		missing = append(missing, name("bucket"))
	}
	if s.Grantee == "" {
		missing = append(missing, name("grantee"))
	}
	if err := errMissing(missing); err != nil {
		return out, nil, err
	}
	if err := arns.ValidateBucketName(s.Bucket); err != nil {
		return out, nil, fmt.Errorf("%s: %w", name("bucket"), err)
	}
	if err := generate.ValidatePrefix(s.Bucket, s.Prefix); err != nil {
		return out, nil, fmt.Errorf("%s: %w", name("prefix"), err)
	}
	access, err := generate.ParseAccess(s.Access)
	if err != nil {
		return out, nil, fmt.Errorf("%s: %w", name("access"), err)
	}
	if s.Key != "" {
		if _, err := arns.ParseKeyRef(s.Key); err != nil {
			return out, nil, fmt.Errorf("%s: %w", name("key"), err)
		}
	}
	policyName := s.IAMPolicyName
	if policyName == "" {
		policyName = generate.IAMPolicyName
	}
	via, err := generate.ParseVia(s.Via)
	if err != nil {
		return out, nil, fmt.Errorf("%s: %w", name("via"), err)
	}
	if !policyNameRE.MatchString(policyName) {
		return out, nil, fmt.Errorf("%s: %q is not a valid IAM policy name (1-128 letters, digits and +=,.@_-)", name("iam_policy_name"), policyName)
	}
	// A bare account ID takes the bucket's partition, known once it is read.
	principal, err := arns.ParsePrincipal(s.Grantee, "")
	if errors.Is(err, arns.ErrWildcard) {
		return out, &generate.Finding{Code: generate.CodeWildcardGrantee, Target: s.Grantee,
			Message: fmt.Sprintf("grantee %q is a wildcard: %v", s.Grantee, err),
			Fix:     "name the exact role or user ARN, or the account ID to trust the whole account"}, nil
	}
	if err != nil {
		return out, nil, granteeError(name("grantee"), err)
	}
	return generate.Grant{
		Bucket: s.Bucket, Prefix: s.Prefix, Key: s.Key, Grantee: principal,
		Access: access, IAMPolicyName: policyName, Via: via,
	}, nil, nil
}

// errMissing says which required flags were not given, all at once; nil
// when none is missing.
func errMissing(flags []string) error {
	switch len(flags) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s is required", flags[0])
	}
	return fmt.Errorf("%s are required", andList(flags))
}

// granteeError is the error of a --grantee value kmsgrant cannot read,
// with the value that was likely meant as the hint where there is one.
func granteeError(field string, err error) error {
	err = fmt.Errorf("%s: %w", field, err)
	var pe *arns.PrincipalError
	if errors.As(err, &pe) && pe.Suggestion != "" {
		hint := "did you mean " + pe.Suggestion + "?"
		if strings.HasPrefix(field, "--") {
			hint = "did you mean " + field + " " + pe.Suggestion + "?"
		}
		return &hintError{err: err, hint: hint}
	}
	return err
}
