package statefile

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Snapshot writes what was read for a grant as a state file, so that
// planning the grant against it (plan --state) gives the plan the accounts
// themselves gave: to review a plan offline, or attach it to a bug report.
// grantee is the grant's grantee; when in.Grantee is nil for a role or
// user, its account is marked iam_unreadable so the plan shows the IAM side
// as manual again.
func Snapshot(in generate.Inputs, grantee arns.Principal) ([]byte, error) {
	st := state{FormatVersion: FormatVersion, Accounts: map[string]*account{}, ManagedPolicies: map[string]json.RawMessage{}}
	acct := func(id string) *account {
		if st.Accounts[id] == nil {
			st.Accounts[id] = &account{}
		}
		return st.Accounts[id]
	}
	if b := in.Bucket; b != nil {
		sb := &bucket{Region: b.Region, Policy: raw(b.Policy), ObjectOwnership: b.Ownership}
		if e := b.Encryption; e != nil {
			sb.DefaultEncryption = &encryption{SSEAlgorithm: e.Algorithm, KMSMasterKeyID: e.KMSMasterKeyID, BucketKeyEnabled: e.BucketKeyEnabled}
		}
		if len(b.Objects) > 0 {
			sb.Objects = map[string]*object{}
			for k, o := range b.Objects {
				so := &object{SSEAlgorithm: o.Algorithm, SSEKMSKeyID: o.KMSKeyID, Owner: o.Owner}
				for id, v := range o.Versions {
					if so.Versions == nil {
						so.Versions = map[string]*object{}
					}
					so.Versions[id] = &object{SSEAlgorithm: v.Algorithm, SSEKMSKeyID: v.KMSKeyID, Owner: v.Owner}
				}
				sb.Objects[k] = so
			}
		}
		a := acct(b.Account)
		a.Buckets = map[string]*bucket{b.Name: sb}
	}
	if k := in.Key; k != nil {
		a := acct(k.Account)
		sk := &key{KeyManager: k.Manager, KeyState: k.State, Policy: raw(k.Policy), Aliases: k.Aliases, GrantsUnreadable: k.GrantsUnread}
		for _, g := range k.Grants {
			sk.Grants = append(sk.Grants, grantOf(g))
		}
		a.KMSKeys = map[string]*key{k.ARN: sk}
	}
	if grantee.Kind != arns.Account {
		a := acct(grantee.Account)
		if g := in.Grantee; g == nil {
			a.IAMUnreadable = true
		} else {
			id := &identity{Path: grantee.Path, InlinePolicies: map[string]json.RawMessage{}, AttachedPolicies: []string{}}
			for _, np := range g.Inline {
				id.InlinePolicies[np.Name] = raw(np.Doc)
			}
			for _, np := range g.Attached {
				id.AttachedPolicies = append(id.AttachedPolicies, np.Name)
				st.managed(np)
			}
			if g.Boundary != nil {
				id.PermissionsBoundary = g.Boundary.Name
				st.managed(*g.Boundary)
			}
			for _, grp := range g.Groups {
				id.Groups = append(id.Groups, grp.Name)
				sg := &group{InlinePolicies: map[string]json.RawMessage{}, AttachedPolicies: []string{}}
				for _, np := range grp.Inline {
					sg.InlinePolicies[np.Name] = raw(np.Doc)
				}
				for _, np := range grp.Attached {
					sg.AttachedPolicies = append(sg.AttachedPolicies, np.Name)
					st.managed(np)
				}
				if a.IAMGroups == nil {
					a.IAMGroups = map[string]*group{}
				}
				a.IAMGroups[grp.Name] = sg
			}
			if grantee.Kind == arns.Role {
				a.IAMRoles = map[string]*identity{grantee.Name: id}
			} else {
				a.IAMUsers = map[string]*identity{grantee.Name: id}
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		return nil, fmt.Errorf("writing the snapshot: %w", err)
	}
	// A snapshot must read back: check it as any state file is checked.
	if _, err := Parse("snapshot", buf.Bytes()); err != nil {
		return nil, fmt.Errorf("the snapshot does not read back: %w", err)
	}
	return buf.Bytes(), nil
}

// managed records a managed policy's document; one that could not be read
// is left out, and reads back as unreadable again.
func (st *state) managed(np generate.NamedPolicy) {
	if np.Doc != nil {
		st.ManagedPolicies[np.Name] = raw(np.Doc)
	}
}

func raw(d *policy.Document) json.RawMessage {
	if d == nil {
		return nil
	}
	return json.RawMessage(d.Compact())
}
