package generate

import (
	"errors"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Inputs is what the planner knows about the accounts: everything a backend
// read for one grant.
type Inputs struct {
	// Bucket is nil when the bucket does not exist.
	Bucket *Bucket
	// Key is the resolved key; nil when the grant has none (SSE-S3) or when
	// KeyErr says why KeyRef could not be resolved.
	Key *Key
	// KeyRef is the key reference the grant is about: --key, or what the
	// bucket's default encryption names ("alias/aws/s3" for aws:kms without
	// a key).
	KeyRef string
	// KeyErr is ErrKeyNotFound or ErrAliasNotFound when KeyRef names
	// nothing.
	KeyErr error
	// Grantee is the grantee's IAM side; nil for an account grantee or when
	// it cannot be read, which makes the IAM change manual.
	Grantee *Grantee
	// NearBuckets and NearKeys are the names closest to a bucket or alias
	// that does not exist, for a "did you mean" hint.
	NearBuckets, NearKeys []string
}

// Errors a backend reports when a key reference names nothing; the planner
// turns them into blockers.
var (
	ErrKeyNotFound   = errors.New("key not found")
	ErrAliasNotFound = errors.New("alias not found")
	// ErrAWSManagedAlias is for alias/aws/* names, reserved for AWS
	// managed keys: they are never looked up, since DescribeKey on one
	// creates the key when it does not exist yet.
	ErrAWSManagedAlias = errors.New("AWS managed key alias")
)

// Bucket is an S3 bucket's configuration.
type Bucket struct {
	Name    string
	Account string
	Region  string
	// Policy is nil when the bucket has no policy.
	Policy *policy.Document
	// Encryption is nil when no default encryption is configured.
	Encryption *Encryption
	// Ownership is the object ownership setting, "" when not configured.
	Ownership string
	// Objects holds what is known of some objects, by key.
	Objects map[string]Object
}

// Encryption is a bucket's default encryption.
type Encryption struct {
	Algorithm        string `json:"sse_algorithm"`
	KMSMasterKeyID   string `json:"kms_master_key_id,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
}

// Object is what kmsgrant knows of one object.
type Object struct {
	Algorithm string
	KMSKeyID  string
	Owner     string
	// Versions are what is known of some of the object's versions, by
	// version ID: each keeps the encryption it was written with.
	Versions map[string]Object
}

// KMS key managers and states as DescribeKey reports them.
const (
	KeyManagerAWS      = "AWS"
	KeyManagerCustomer = "CUSTOMER"
	KeyStateEnabled    = "Enabled"
)

// Key is a KMS key, resolved to its full ARN.
type Key struct {
	ARN     string
	Account string
	Region  string
	Manager string
	State   string
	Policy  *policy.Document
	// Aliases are the key's alias names (alias/x).
	Aliases []string
	// Grants are the key's grants (CreateGrant), which allow KMS
	// operations beside the key policy.
	Grants []KMSGrant
	// GrantsUnread is set when the grants could not be read (ListGrants
	// was denied): one could allow what the policies do not.
	GrantsUnread bool
}

// KMSGrant is a grant on a KMS key: it allows its grantee principal the
// operations it lists, when the request's encryption context meets its
// constraints, beside the key policy and in place of IAM policies ("Grants
// in AWS KMS"; "users and roles in the external account cannot use the KMS
// key until you attach IAM policies that delegate those permissions, or use
// grants to manage access", "Allowing users in other accounts to use a KMS
// key", AWS KMS Developer Guide). A grant only allows: an explicit Deny
// still wins.
type KMSGrant struct {
	ID string
	// Name is the grant's friendly name; kmsgrant's start with kmsgrant-.
	Name             string
	GranteePrincipal string
	// Operations are KMS API operations without the service prefix
	// ("Decrypt", "GenerateDataKey").
	Operations []string
	// EncryptionContextEquals and EncryptionContextSubset are the grant's
	// constraints: exact, case-sensitive matches, no wildcards.
	EncryptionContextEquals map[string]string
	EncryptionContextSubset map[string]string
}

// Grantee is an IAM role or user and the policies that decide what it may do.
type Grantee struct {
	Principal arns.Principal
	// Inline policies by name, in a stable order.
	Inline []NamedPolicy
	// Attached managed policies; Doc is nil when the document could not be
	// read.
	Attached []NamedPolicy
	// Groups are a user's groups with their policies.
	Groups []Group
	// Boundary is the permissions boundary, nil when none is set.
	Boundary *NamedPolicy
}

// Group is an IAM group: its inline policies by name, its attached policies
// by ARN (Doc nil when a document could not be read).
type Group struct {
	Name     string
	Inline   []NamedPolicy
	Attached []NamedPolicy
}

// NamedPolicy is a policy with the name or ARN that identifies it.
type NamedPolicy struct {
	Name string
	Doc  *policy.Document
}
