// Package arns parses and builds the ARNs kmsgrant deals in: grantees (IAM
// roles, users and accounts), KMS keys and aliases, and S3 buckets, in every
// AWS partition.
package arns

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// ErrWildcard is returned for a grantee that names everyone.
var ErrWildcard = errors.New("a wildcard grantee would grant every AWS principal")

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	keyIDRE   = regexp.MustCompile(`^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	aliasRE   = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	nameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

	// legacyBucketRE is what us-east-1 allowed before March 2018: 3 to 255
	// letters of either case, digits, dots, hyphens and underscores,
	// starting with a letter or digit.
	legacyBucketRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$`)
)

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool { return accountRE.MatchString(s) }

// PartitionOf returns the partition of a Region: aws-cn for China, aws-us-gov
// for GovCloud, aws otherwise.
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ServiceHost returns the host name a service has in a Region, the value
// kms:ViaService carries (s3.us-west-2.amazonaws.com).
func ServiceHost(service, region string) string {
	if PartitionOf(region) == "aws-cn" {
		return service + "." + region + ".amazonaws.com.cn"
	}
	return service + "." + region + ".amazonaws.com"
}

// PrincipalKind says what a grantee is.
type PrincipalKind string

// The grantee kinds kmsgrant accepts.
const (
	Role    PrincipalKind = "role"
	User    PrincipalKind = "user"
	Account PrincipalKind = "account"
)

// Principal is a parsed grantee.
type Principal struct {
	Kind      PrincipalKind
	Partition string
	Account   string
	// Path is the IAM path, "/" when none; empty for accounts, and for a
	// role named by a session ARN until the role is read (the session ARN
	// does not carry it).
	Path string
	// Name is the role or user name; empty for accounts.
	Name string
	// Session is the session name when the principal was given as an
	// assumed-role session ARN (as AccessDenied messages name callers).
	Session string
}

// SessionARN is the ARN of the principal's session, "" when it names none.
func (p Principal) SessionARN() string {
	if p.Session == "" {
		return ""
	}
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", p.Partition, p.Account, p.Name, p.Session)
}

// ParsePrincipal parses an IAM role ARN, an IAM user ARN (with or without a
// path), an account root ARN, or a 12-digit account ID. An account ID gets
// the partition given, which should be the bucket's.
//
// A value with a slip people make when they copy one by hand (spaces
// around it, a missing colon, an account ID in groups or of the wrong
// length) gives a *PrincipalError that says exactly what is wrong, with
// the value that was meant where only one can have been.
func ParsePrincipal(s, defaultPartition string) (Principal, error) {
	p, err := parsePrincipal(s, defaultPartition)
	if err != nil && !errors.Is(err, ErrWildcard) {
		if d := diagnose(s); d != nil {
			return Principal{}, d
		}
	}
	return p, err
}

func parsePrincipal(s, defaultPartition string) (Principal, error) {
	if strings.Contains(s, "*") || strings.Contains(s, "?") {
		return Principal{}, ErrWildcard
	}
	if IsAccountID(s) {
		return Principal{Kind: Account, Partition: defaultPartition, Account: s}, nil
	}
	a, err := arn.Parse(s)
	if err != nil {
		return Principal{}, fmt.Errorf("%q is not an IAM role ARN, user ARN, session ARN or 12-digit account ID", s)
	}
	if a.Service == "sts" && IsAccountID(a.AccountID) && a.Region == "" {
		return parseSession(s, a)
	}
	if a.Service != "iam" || !IsAccountID(a.AccountID) || a.Region != "" {
		return Principal{}, fmt.Errorf("%q is not an IAM role or user ARN (want arn:aws:iam::ACCOUNT_ID:role/NAME)", s)
	}
	if err := checkPartition(a.Partition); err != nil {
		return Principal{}, fmt.Errorf("%q: %w", s, err)
	}
	if a.Resource == "root" {
		return Principal{Kind: Account, Partition: a.Partition, Account: a.AccountID}, nil
	}
	kind, rest, ok := strings.Cut(a.Resource, "/")
	if !ok || (kind != "role" && kind != "user") {
		return Principal{}, fmt.Errorf("%q is not an IAM role or user ARN (want …:role/NAME or …:user/NAME)", s)
	}
	path, name := "/", rest
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		path, name = "/"+rest[:i+1], rest[i+1:]
	}
	if !nameRE.MatchString(name) {
		return Principal{}, fmt.Errorf("%q: %q is not a valid IAM %s name", s, name, kind)
	}
	return Principal{Kind: PrincipalKind(kind), Partition: a.Partition, Account: a.AccountID, Path: path, Name: name}, nil
}

// parseSession parses an assumed-role session ARN,
// arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION: the role, with its
// path unknown, and the session.
func parseSession(s string, a arn.ARN) (Principal, error) {
	if err := checkPartition(a.Partition); err != nil {
		return Principal{}, fmt.Errorf("%q: %w", s, err)
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) != 3 || parts[0] != "assumed-role" || parts[2] == "" {
		return Principal{}, fmt.Errorf("%q is not an assumed-role session ARN (want arn:aws:sts::ACCOUNT_ID:assumed-role/ROLE/SESSION)", s)
	}
	if !nameRE.MatchString(parts[1]) {
		return Principal{}, fmt.Errorf("%q: %q is not a valid IAM role name", s, parts[1])
	}
	return Principal{Kind: Role, Partition: a.Partition, Account: a.AccountID, Name: parts[1], Session: parts[2]}, nil
}

func checkPartition(p string) error {
	switch p {
	case "aws", "aws-cn", "aws-us-gov":
		return nil
	}
	return fmt.Errorf("unsupported partition %q (want aws, aws-cn or aws-us-gov)", p)
}

// ARN returns the principal's ARN; for an account, its root ARN.
func (p Principal) ARN() string {
	if p.Kind == Account {
		return p.RootARN()
	}
	path := p.Path
	if path == "" {
		// A session's role before its path is read: the ARN is only
		// right for a role without a path, and is used only in messages
		// until then.
		path = "/"
	}
	return fmt.Sprintf("arn:%s:iam::%s:%s%s%s", p.Partition, p.Account, p.Kind, path, p.Name)
}

// RootARN returns the ARN of the principal's account root, which in a
// resource policy delegates to the account's own IAM policies.
func (p Principal) RootARN() string {
	return fmt.Sprintf("arn:%s:iam::%s:root", p.Partition, p.Account)
}

// KeyRefForm says how a --key value names its key.
type KeyRefForm string

// The four ways KMS accepts to name a key.
const (
	KeyID     KeyRefForm = "key ID"
	KeyARN    KeyRefForm = "key ARN"
	AliasName KeyRefForm = "alias name"
	AliasARN  KeyRefForm = "alias ARN"
)

// KeyRef is a parsed reference to a KMS key. Region and Account are set only
// for the ARN forms: the other two resolve in the caller's account and Region.
type KeyRef struct {
	Form      KeyRefForm
	Partition string
	Region    string
	Account   string
	// ID is the key ID for the key forms, the alias name (alias/x) for the
	// alias forms.
	ID string
}

// ParseKeyRef parses a key ID, key ARN, alias name or alias ARN.
func ParseKeyRef(s string) (KeyRef, error) {
	switch {
	case keyIDRE.MatchString(s):
		return KeyRef{Form: KeyID, ID: s}, nil
	case strings.HasPrefix(s, "alias/"):
		if !aliasRE.MatchString(s) {
			return KeyRef{}, fmt.Errorf("%q is not a valid alias name", s)
		}
		return KeyRef{Form: AliasName, ID: s}, nil
	case strings.HasPrefix(s, "arn:"):
		a, err := arn.Parse(s)
		if err != nil || a.Service != "kms" || !IsAccountID(a.AccountID) || a.Region == "" {
			return KeyRef{}, fmt.Errorf("%q is not a KMS key or alias ARN", s)
		}
		if err := checkPartition(a.Partition); err != nil {
			return KeyRef{}, fmt.Errorf("%q: %w", s, err)
		}
		ref := KeyRef{Partition: a.Partition, Region: a.Region, Account: a.AccountID}
		switch {
		case strings.HasPrefix(a.Resource, "key/") && keyIDRE.MatchString(strings.TrimPrefix(a.Resource, "key/")):
			ref.Form, ref.ID = KeyARN, strings.TrimPrefix(a.Resource, "key/")
		case strings.HasPrefix(a.Resource, "alias/") && aliasRE.MatchString(a.Resource):
			ref.Form, ref.ID = AliasARN, a.Resource
		default:
			return KeyRef{}, fmt.Errorf("%q is not a KMS key or alias ARN", s)
		}
		return ref, nil
	}
	return KeyRef{}, fmt.Errorf("%q is not a key ID, key ARN, alias name (alias/NAME) or alias ARN", s)
}

// IsFullKeyARN reports whether s is a key ARN, the only form that names the
// same key whoever uses it.
func IsFullKeyARN(s string) bool {
	ref, err := ParseKeyRef(s)
	return err == nil && ref.Form == KeyARN
}

// KeyARNOf builds a key ARN.
func KeyARNOf(region, account, keyID string) string {
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", PartitionOf(region), region, account, keyID)
}

// ParseKeyARN splits a key ARN into its Region, account and key ID.
func ParseKeyARN(s string) (KeyRef, error) {
	ref, err := ParseKeyRef(s)
	if err != nil {
		return KeyRef{}, err
	}
	if ref.Form != KeyARN {
		return KeyRef{}, fmt.Errorf("%q is not a key ARN (it is the %s form)", s, ref.Form)
	}
	return ref, nil
}

// LegacyBucketRegion is the one Region whose buckets may have legacy names:
// S3 let buckets created in us-east-1 before March 1, 2018 have names of up
// to 255 characters with uppercase letters and underscores, and those
// buckets still exist.
const LegacyBucketRegion = "us-east-1"

// ValidateBucketName checks a bucket name against S3's naming rules: the
// current ones, or the legacy ones of us-east-1 (see IsLegacyBucketName),
// since which applies is known only with the bucket's Region.
func ValidateBucketName(name string) error {
	if !isStandardBucketName(name) && !legacyBucketRE.MatchString(name) {
		return fmt.Errorf("%q is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens; or, created in us-east-1 before March 2018, up to 255 letters, digits, dots, hyphens and underscores)", name)
	}
	return nil
}

// IsLegacyBucketName reports whether name is valid only under the legacy
// rules of us-east-1: it has uppercase letters, underscores or adjacent
// dots, ends in a dot or hyphen, or is longer than 63 characters. Such a
// name is not DNS-compatible, so S3 reaches the bucket path-style only.
func IsLegacyBucketName(name string) bool {
	return !isStandardBucketName(name) && legacyBucketRE.MatchString(name)
}

func isStandardBucketName(name string) bool {
	return bucketRE.MatchString(name) && !strings.Contains(name, "..")
}

// CheckBucketRegion refuses a legacy bucket name outside us-east-1, where
// S3 never allowed one: such a bucket cannot exist.
func CheckBucketRegion(name, region string) error {
	if IsLegacyBucketName(name) && region != LegacyBucketRegion {
		return fmt.Errorf("%q is a legacy bucket name, which S3 allowed only in %s (before March 2018), but the bucket is in %s", name, LegacyBucketRegion, region)
	}
	return nil
}

// BucketARN returns a bucket's ARN.
func BucketARN(partition, bucket string) string {
	return fmt.Sprintf("arn:%s:s3:::%s", partition, bucket)
}

// ObjectsARN returns the ARN pattern for every object under prefix.
func ObjectsARN(partition, bucket, prefix string) string {
	return BucketARN(partition, bucket) + "/" + prefix + "*"
}

// AccountOfPrincipal returns the account a principal value in a policy
// names: an account ID or any IAM/STS ARN. ok is false for other values.
func AccountOfPrincipal(v string) (account string, ok bool) {
	if IsAccountID(v) {
		return v, true
	}
	a, err := arn.Parse(v)
	if err != nil || !IsAccountID(a.AccountID) {
		return "", false
	}
	return a.AccountID, true
}

// IsAccountPrincipal reports whether a principal value in a policy names a
// whole account: an account ID or an account root ARN. S3 stores the first as
// the second, so both mean the same.
func IsAccountPrincipal(v string) bool {
	if IsAccountID(v) {
		return true
	}
	a, err := arn.Parse(v)
	return err == nil && a.Service == "iam" && a.Resource == "root" && IsAccountID(a.AccountID)
}
