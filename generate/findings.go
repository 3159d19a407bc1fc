package generate

// Finding is a blocker or a warning, with a stable code scripts can match.
type Finding struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
	// Fix is a one-line next step.
	Fix string `json:"fix,omitempty"`
	// Grant names the grant of a batch the finding is about
	// ("grants.yaml:12"); absent for a plan of one grant.
	Grant string `json:"grant,omitempty"`
}

// Blocker codes: a plan with any of them changes nothing.
const (
	CodeAWSManagedKey   = "aws_managed_key"
	CodeRegionMismatch  = "region_mismatch"
	CodeKeyNotFound     = "key_not_found"
	CodeAliasNotFound   = "alias_not_found"
	CodeKeyDisabled     = "key_disabled"
	CodeBucketNotFound  = "bucket_not_found"
	CodeWildcardGrantee = "wildcard_grantee"
	CodeNotCrossAccount = "not_cross_account"
	CodeExplicitDeny    = "explicit_deny"
	CodePolicyTooLarge  = "policy_too_large"
	CodeBoundaryDenies  = "permissions_boundary"
)

// Warning codes: worth reading, but the plan goes on.
const (
	CodePossibleDeny      = "possible_deny"
	CodeObjectOwnership   = "object_ownership"
	CodeManualIAM         = "manual_iam"
	CodeSSES3             = "sse_s3"
	CodeOtherKey          = "default_key_differs"
	CodeObjectsOtherKey   = "objects_other_key"
	CodeObjectsSSES3      = "objects_sse_s3"
	CodePolicyUnreadable  = "policy_unreadable"
	CodeUncheckedControls = "not_checked"
	CodeEditedStatement   = "edited_statement"
	CodeAccessRemains     = "access_remains"
	CodeNetworkCondition  = "network_condition"
	CodeGrantsUnread      = "grants_unread"
	CodeGrantBroadens     = "grant_broadens"
	CodeGrantShared       = "grant_shared"
	CodeFoldGap           = "fold_gap"
)
