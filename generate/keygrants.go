package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// KindKeyGrants is the change kind of the KMS grants kmsgrant makes on a
// key (--via grant): the document is the list of kmsgrant's grants on the
// key, which a write makes true with CreateGrant and RevokeGrant.
const KindKeyGrants = "key_grants"

// How a grant reaches the key: by statements in the key policy (the
// default), or by a KMS grant per grantee and bucket.
const (
	ViaKeyPolicy = "key-policy"
	ViaGrant     = "grant"
)

// ParseVia checks a --via value and returns it as Grant.Via holds it: ""
// for the key policy (the default), ViaGrant.
func ParseVia(s string) (string, error) {
	switch s {
	case "", ViaKeyPolicy:
		return "", nil
	case ViaGrant:
		return ViaGrant, nil
	}
	return "", fmt.Errorf("unknown value %q (want %s or %s)", s, ViaKeyPolicy, ViaGrant)
}

// grantNamePrefix starts the name of every KMS grant kmsgrant makes: the
// grants it finds with other names are never revoked.
const grantNamePrefix = "kmsgrant-"

// maxGrantName is the longest grant name KMS takes (CreateGrant Name:
// 1-256 characters of letters, digits and :/_-).
const maxGrantName = 256

// KMSGrantName names kmsgrant's KMS grant for a bucket: kmsgrant-BUCKET,
// with the dots of a bucket name (which KMS does not take in a grant name)
// as colons (which no bucket name has, legacy ones included, so names stay
// distinct), and ending in a hash of the name where it is longer than KMS
// allows.
func KMSGrantName(bucket string) string {
	name := grantNamePrefix + strings.ReplaceAll(bucket, ".", ":")
	if len(name) <= maxGrantName {
		return name
	}
	sum := sha256.Sum256([]byte(bucket))
	suffix := "-" + hex.EncodeToString(sum[:4])
	return name[:maxGrantName-len(suffix)] + suffix
}

// IsOwnGrant reports whether a KMS grant is one kmsgrant made.
func IsOwnGrant(g KMSGrant) bool { return strings.HasPrefix(g.Name, grantNamePrefix) }

// grantDoc is one of kmsgrant's grants as plans show it: what CreateGrant
// is given, without the ID KMS gives it, which a plan cannot know.
type grantDoc struct {
	Name             string            `json:"Name"`
	GranteePrincipal string            `json:"GranteePrincipal"`
	Operations       []string          `json:"Operations"`
	Constraints      *grantConstraints `json:"Constraints,omitempty"`
}

type grantConstraints struct {
	EncryptionContextEquals map[string]string `json:"EncryptionContextEquals,omitempty"`
	EncryptionContextSubset map[string]string `json:"EncryptionContextSubset,omitempty"`
}

func grantDocOf(g KMSGrant) grantDoc {
	d := grantDoc{Name: g.Name, GranteePrincipal: g.GranteePrincipal, Operations: slices.Sorted(slices.Values(g.Operations))}
	if g.EncryptionContextEquals != nil || g.EncryptionContextSubset != nil {
		d.Constraints = &grantConstraints{EncryptionContextEquals: maps.Clone(g.EncryptionContextEquals), EncryptionContextSubset: maps.Clone(g.EncryptionContextSubset)}
	}
	return d
}

// GrantIdentity is what tells two grants apart, their ID aside: two grants
// of the same identity allow the same.
func GrantIdentity(g KMSGrant) string {
	b, err := json.Marshal(grantDocOf(g))
	if err != nil {
		panic(fmt.Sprintf("generate: marshalling a grant: %v", err))
	}
	return string(b)
}

// GrantSet is a set of grants by identity (GrantIdentity).
type GrantSet map[string]bool

// GrantSetOf is the set of the grants of list.
func GrantSetOf(list []KMSGrant) GrantSet {
	set := GrantSet{}
	for _, g := range list {
		set[GrantIdentity(g)] = true
	}
	return set
}

// Has reports whether the set holds a grant of g's identity.
func (s GrantSet) Has(g KMSGrant) bool { return s[GrantIdentity(g)] }

// OwnGrants are kmsgrant's grants among grants, in the order plans show
// them: by name, then grantee.
func OwnGrants(grants []KMSGrant) []KMSGrant {
	var out []KMSGrant
	for _, g := range grants {
		if IsOwnGrant(g) {
			out = append(out, g)
		}
	}
	slices.SortStableFunc(out, func(a, b KMSGrant) int {
		return strings.Compare(a.Name+"\x00"+a.GranteePrincipal, b.Name+"\x00"+b.GranteePrincipal)
	})
	return out
}

// GrantsJSON is the canonical text of kmsgrant's grants among grants, as
// plans show and compare it: "" when there are none.
func GrantsJSON(grants []KMSGrant) string {
	own := OwnGrants(grants)
	if len(own) == 0 {
		return ""
	}
	docs := make([]grantDoc, len(own))
	for i, g := range own {
		docs[i] = grantDocOf(g)
	}
	b, err := json.MarshalIndent(docs, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("generate: marshalling grants: %v", err))
	}
	return string(b) + "\n"
}

// ParseGrantsJSON reads the text GrantsJSON makes; "" is no grant.
func ParseGrantsJSON(text string) ([]KMSGrant, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var docs []grantDoc
	if err := json.Unmarshal([]byte(text), &docs); err != nil {
		return nil, fmt.Errorf("reading KMS grants: %w", err)
	}
	out := make([]KMSGrant, len(docs))
	for i, d := range docs {
		out[i] = KMSGrant{Name: d.Name, GranteePrincipal: d.GranteePrincipal, Operations: d.Operations}
		if c := d.Constraints; c != nil {
			out[i].EncryptionContextEquals, out[i].EncryptionContextSubset = c.EncryptionContextEquals, c.EncryptionContextSubset
		}
	}
	return out, nil
}

// GrantsDelta is what a key_grants change does, from the texts of its
// Before and After: the grants to create (in After, not in Before) and
// those to revoke (in Before, not in After), by identity. A write does
// exactly that, whatever other grants the key has by then, kmsgrant's
// included: another run may have made its own since this plan was made.
func GrantsDelta(before, after string) (create, revoke []KMSGrant, err error) {
	b, err := ParseGrantsJSON(before)
	if err != nil {
		return nil, nil, err
	}
	a, err := ParseGrantsJSON(after)
	if err != nil {
		return nil, nil, err
	}
	inBefore, inAfter := GrantSetOf(b), GrantSetOf(a)
	for _, g := range a {
		if !inBefore.Has(g) {
			create = append(create, g)
		}
	}
	for _, g := range b {
		if !inAfter.Has(g) {
			revoke = append(revoke, g)
		}
	}
	return create, revoke, nil
}

// keyGrantsChange plans the key's grants going from before to after, the
// whole list of the key's grants each time (kmsgrant's are picked out).
func keyGrantsChange(k *Key, before, after []KMSGrant, reason string) Change {
	c := Change{Kind: KindKeyGrants, Account: k.Account, Target: k.ARN,
		Before: GrantsJSON(before), After: GrantsJSON(after), KeyGrants: OwnGrants(after), Reason: reason}
	c.Action = actionFor(c.Before, c.After)
	return c
}

// withOwnGrant is grants with g in place of kmsgrant's grant of the same
// name and grantee, whose operations g keeps beside its own (a grant
// cannot be changed: the write makes a new one and revokes the old).
func withOwnGrant(grants []KMSGrant, g KMSGrant) []KMSGrant {
	out := slices.Clone(grants)
	i := slices.IndexFunc(out, func(x KMSGrant) bool {
		return IsOwnGrant(x) && x.Name == g.Name && x.GranteePrincipal == g.GranteePrincipal
	})
	if i < 0 {
		return append(out, g)
	}
	ops := slices.Clone(out[i].Operations)
	for _, op := range g.Operations {
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	out[i] = KMSGrant{Name: g.Name, GranteePrincipal: g.GranteePrincipal, Operations: ops}
	return out
}

// keyGrant plans a KMS grant to the grantee in place of key policy
// statements (--via grant), for the key layer's missing requests, and says
// what the grant allows beyond what statements would. The IAM layer counts
// the planned grant: it stands in for the grantee's IAM KMS permission too.
func (p *planner) keyGrant(l *Layer) {
	k := p.in.Key
	if k.GrantsUnread {
		p.block(CodeGrantsUnread, k.ARN,
			"--via grant needs the key's grants, which could not be read (kms:ListGrants was denied): kmsgrant would not see the grants it made before",
			"allow kms:ListGrants on the key to the owner credentials, or leave out --via grant")
		return
	}
	var ops []string
	for _, a := range l.missingActions() {
		ops = append(ops, strings.TrimPrefix(a, "kms:"))
	}
	slices.Sort(ops)
	g := KMSGrant{Name: KMSGrantName(p.in.Bucket.Name), GranteePrincipal: p.g.Grantee.ARN(), Operations: ops}
	after := withOwnGrant(k.Grants, g)
	c := keyGrantsChange(k, k.Grants, after, fmt.Sprintf("creates KMS grant %s for %s: %s", g.Name, g.GranteePrincipal, strings.Join(ops, ", ")))
	if c.Action == NoOp {
		// The grant is there, yet the layer is not sure it allows: a
		// grant to a whole account leaves the choice to its IAM.
		c.Reason = fmt.Sprintf("KMS grant %s for %s is there already; whether it serves each request depends on what kmsgrant cannot see (see the warnings)", g.Name, g.GranteePrincipal)
	}
	p.grantsAfter = after
	p.r.Changes = append(p.r.Changes, c)
	p.warn(CodeGrantBroadens, k.ARN,
		"a KMS grant lets its grantee use the key for the operations it lists on any data the key encrypted, directly as well as through S3: key policy statements would allow only S3's calls (kms:ViaService) for objects under the granted prefix (encryption context), and a grant's constraints are exact values that cannot name a prefix; a new grant may take up to 5 minutes to take effect",
		"leave out --via grant to have the key policy name the grantee instead, where it fits")
}

// warnSharedGrant warns where the key layer is granted by a KMS grant
// kmsgrant made for another bucket: a grant is not narrowed to a bucket,
// so this grant needs nothing of its own, and loses the key when that
// bucket's grants are revoked (revoke says so too).
func (p *planner) warnSharedGrant(l *Layer) {
	own := KMSGrantName(p.in.Bucket.Name)
	for _, ref := range l.AllowedBy {
		if ref.Policy != grantsPolicy {
			continue
		}
		var g struct{ Name string }
		if json.Unmarshal([]byte(ref.Statement), &g) != nil || !IsOwnGrant(KMSGrant{Name: g.Name}) || g.Name == own {
			continue
		}
		p.warn(CodeGrantShared, l.Target,
			fmt.Sprintf("the key is granted to %s by KMS grant %s, which kmsgrant made for another bucket: revoking that bucket's grants takes it, and this bucket's key access with it", p.g.Grantee.ARN(), g.Name),
			"plan this grant again after such a revoke, or use -f FILE --prune, which revokes and grants again in one plan")
		return
	}
}
