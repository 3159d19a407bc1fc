// Package statefile is the account-state file backend: a JSON file that
// describes accounts (buckets, keys, roles, users, managed policies) the way
// AWS would report them. It lets kmsgrant plan and apply with no AWS account,
// and it is what tests, examples and offline reviews use.
package statefile

import (
	"encoding/json"

	"github.com/kmsgrant/kmsgrant/generate"
)

// FormatVersion is the state file format this version reads and writes.
const FormatVersion = "1"

// state is the typed view of a state file. Writes never go through it: they
// edit the file's bytes, so fields this version does not know survive. The
// omitempty tags are for Snapshot, which writes a new file from it, so that
// what was absent stays absent.
type state struct {
	FormatVersion   string                     `json:"format_version"`
	Accounts        map[string]*account        `json:"accounts"`
	ManagedPolicies map[string]json.RawMessage `json:"managed_policies"`
}

type account struct {
	Buckets   map[string]*bucket   `json:"buckets,omitempty"`
	KMSKeys   map[string]*key      `json:"kms_keys,omitempty"`
	IAMRoles  map[string]*identity `json:"iam_roles,omitempty"`
	IAMUsers  map[string]*identity `json:"iam_users,omitempty"`
	IAMGroups map[string]*group    `json:"iam_groups,omitempty"`
	// IAMUnreadable records that the account's IAM could not be read
	// (a snapshot taken without its credentials): its roles and users
	// are unknown, and their IAM side is planned as manual.
	IAMUnreadable bool `json:"iam_unreadable,omitempty"`
}

type bucket struct {
	Region            string             `json:"region"`
	Policy            json.RawMessage    `json:"policy,omitempty"`
	DefaultEncryption *encryption        `json:"default_encryption,omitempty"`
	ObjectOwnership   string             `json:"object_ownership,omitempty"`
	Objects           map[string]*object `json:"objects,omitempty"`
}

type encryption struct {
	SSEAlgorithm     string `json:"sse_algorithm,omitempty"`
	KMSMasterKeyID   string `json:"kms_master_key_id,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
}

type object struct {
	SSEAlgorithm string `json:"sse_algorithm,omitempty"`
	SSEKMSKeyID  string `json:"sse_kms_key_id,omitempty"`
	Owner        string `json:"owner,omitempty"`
	// Versions are what is known of some of the object's versions, by
	// version ID.
	Versions map[string]*object `json:"versions,omitempty"`
}

type key struct {
	KeyManager string          `json:"key_manager"`
	KeyState   string          `json:"key_state"`
	Policy     json.RawMessage `json:"policy,omitempty"`
	Aliases    []string        `json:"aliases,omitempty"`
	// Grants are the key's grants, shaped like ListGrants' answer.
	Grants []*grant `json:"grants,omitempty"`
	// GrantsUnreadable records that the grants could not be listed (a
	// snapshot whose credentials lacked kms:ListGrants).
	GrantsUnreadable bool `json:"grants_unreadable,omitempty"`
}

type grant struct {
	GrantID string `json:"grant_id"`
	// Name is the grant's friendly name: kmsgrant's start with
	// kmsgrant-.
	Name             string            `json:"name,omitempty"`
	GranteePrincipal string            `json:"grantee_principal"`
	Operations       []string          `json:"operations"`
	Constraints      *grantConstraints `json:"constraints,omitempty"`
}

// kms is the grant as the planner takes it.
func (g *grant) kms() generate.KMSGrant {
	kg := generate.KMSGrant{ID: g.GrantID, Name: g.Name, GranteePrincipal: g.GranteePrincipal, Operations: g.Operations}
	if c := g.Constraints; c != nil {
		kg.EncryptionContextEquals, kg.EncryptionContextSubset = c.EncryptionContextEquals, c.EncryptionContextSubset
	}
	return kg
}

// grantOf is a planner's grant as the state file holds it.
func grantOf(g generate.KMSGrant) *grant {
	sg := &grant{GrantID: g.ID, Name: g.Name, GranteePrincipal: g.GranteePrincipal, Operations: g.Operations}
	if g.EncryptionContextEquals != nil || g.EncryptionContextSubset != nil {
		sg.Constraints = &grantConstraints{EncryptionContextEquals: g.EncryptionContextEquals, EncryptionContextSubset: g.EncryptionContextSubset}
	}
	return sg
}

type grantConstraints struct {
	EncryptionContextEquals map[string]string `json:"encryption_context_equals,omitempty"`
	EncryptionContextSubset map[string]string `json:"encryption_context_subset,omitempty"`
}

type identity struct {
	Path                string                     `json:"path"`
	InlinePolicies      map[string]json.RawMessage `json:"inline_policies"`
	AttachedPolicies    []string                   `json:"attached_policies"`
	PermissionsBoundary string                     `json:"permissions_boundary,omitempty"`
	// Groups names the groups a user is in (users only).
	Groups []string `json:"groups,omitempty"`
}

type group struct {
	InlinePolicies   map[string]json.RawMessage `json:"inline_policies"`
	AttachedPolicies []string                   `json:"attached_policies"`
}
