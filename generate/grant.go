// Package generate is kmsgrant's planner. From a grant (who should reach
// which objects, through which key) and the current state of the accounts,
// it computes the minimal statements each policy still lacks, merges them
// into the current documents without touching anyone else's statements, and
// reports what blocks the grant or deserves a look. It is pure: it reads no
// files and calls no AWS API, so every decision it makes can be tested.
package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/templates"
)

// SidPrefix starts the Sid of every statement kmsgrant writes; statements
// without it are never changed.
const SidPrefix = "Kmsgrant"

// Grant is the access a person asks for.
type Grant struct {
	Bucket string
	// Prefix limits the grant to object keys starting with it; "" is the
	// whole bucket.
	Prefix string
	// Key is the --key value as given; "" means the key the bucket's default
	// encryption names.
	Key string
	// Grantee is the principal to grant, parsed.
	Grantee arns.Principal
	// Access holds the access levels, sorted and unique.
	Access []string
	// IAMPolicyName names the grantee's inline policy.
	IAMPolicyName string
	// Via is how the key is granted: "" for the key policy, or ViaGrant.
	Via string
}

// ParseAccess parses a comma-separated list of access levels such as
// "read,list". Order and repetition do not matter; read is always included,
// since listing or writing without reading is not what this tool is for.
func ParseAccess(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return []string{"read"}, nil
	}
	set := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if _, ok := templates.LevelNamed(part); !ok {
			return nil, fmt.Errorf("unknown access level %q (want %s, comma-separated)", part, strings.Join(templates.Levels(), ", "))
		}
		set[part] = true
	}
	set["read"] = true
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

// maxIAMPolicyName is the longest inline policy name IAM takes.
const maxIAMPolicyName = 128

// IAMPolicyName is the grantee's inline policy that holds every grant
// kmsgrant makes it, whatever the bucket (unless --iam-policy-name names
// another): one policy, whose statements are put together across buckets
// and prefixes, rather than one a bucket, which IAM's limit on a role's
// inline policies together leaves no room for.
const IAMPolicyName = "kmsgrant"

// LegacyIAMPolicyName is the inline policy kmsgrant gave a bucket's grants
// before they shared IAMPolicyName: kmsgrant-BUCKET. A legacy bucket name
// (up to 255 characters) can make that longer than IAM allows: the name
// then keeps what fits of the bucket name and ends in a hash of all of it.
// Plans fold the statements of these policies into IAMPolicyName, and
// revoke looks in both.
func LegacyIAMPolicyName(bucket string) string {
	name := "kmsgrant-" + bucket
	if len(name) <= maxIAMPolicyName {
		return name
	}
	sum := sha256.Sum256([]byte(bucket))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return name[:maxIAMPolicyName-len(suffix)] + suffix
}

// ValidatePrefix checks an object key prefix for a grant on bucket. A
// prefix is the start of object keys: an S3 URL or ARN given in its place
// would make a resource that matches no object, so it is refused with the
// key prefix it holds.
func ValidatePrefix(bucket, p string) error {
	if what, inBucket, key, ok := s3Location(p); ok {
		use := fmt.Sprintf("give the key prefix alone: %s", key)
		if key == "" {
			use = "give the key prefix alone, or none for the whole bucket"
		}
		if inBucket != "" && inBucket != bucket {
			return fmt.Errorf("prefix %q is an %s of bucket %s, but the grant is on bucket %s; %s", p, what, inBucket, bucket, use)
		}
		return fmt.Errorf("prefix %q is an %s, not a key prefix; %s", p, what, use)
	}
	switch {
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("prefix %q starts with \"/\"; S3 keys have no leading slash", p)
	case strings.ContainsAny(p, "*?"):
		return fmt.Errorf("prefix %q contains a wildcard; give the literal start of the object keys", p)
	case strings.Contains(p, "${"):
		return fmt.Errorf("prefix %q contains a policy variable", p)
	case len(p) > 1024:
		return fmt.Errorf("prefix is longer than S3's 1024-byte key limit")
	}
	return nil
}

var (
	// s3URLRE matches the S3 URLs people copy from the console and the
	// CLI (s3://), and Hadoop's (s3a://, s3n://).
	s3URLRE = regexp.MustCompile(`(?i)^s3[an]?://`)
	// s3ARNRE matches a bucket or object ARN, arn:PARTITION:s3:::BUCKET/KEY;
	// s3OtherARNRE any other S3 ARN (an access point's).
	s3ARNRE      = regexp.MustCompile(`^arn:[a-z-]+:s3:::`)
	s3OtherARNRE = regexp.MustCompile(`^arn:[a-z-]+:s3:`)
)

// s3Location recognises an S3 URL or ARN and splits it into bucket and key;
// bucket is "" for an ARN that names no bucket.
func s3Location(p string) (what, bucket, key string, ok bool) {
	switch {
	case s3URLRE.MatchString(p):
		bucket, key, _ = strings.Cut(s3URLRE.ReplaceAllString(p, ""), "/")
		return "S3 URL", bucket, key, true
	case s3ARNRE.MatchString(p):
		bucket, key, _ = strings.Cut(s3ARNRE.ReplaceAllString(p, ""), "/")
	case s3OtherARNRE.MatchString(p):
		// An access point ARN ends in object/KEY.
		_, key, _ = strings.Cut(p, "/object/")
	default:
		return "", "", "", false
	}
	// An ARN copied from a policy ends in the * that kmsgrant adds itself.
	return "S3 ARN", bucket, strings.TrimSuffix(key, "*"), true
}

// legacyBucket returns the bucket whose grants kmsgrant put into inline
// policy name before IAMPolicyName (see LegacyIAMPolicyName); false for
// other names, and for a shortened one, whose bucket cannot be told.
func legacyBucket(name string) (string, bool) {
	bucket, ok := strings.CutPrefix(name, "kmsgrant-")
	if !ok || arns.ValidateBucketName(bucket) != nil || LegacyIAMPolicyName(bucket) != name {
		return "", false
	}
	return bucket, true
}
