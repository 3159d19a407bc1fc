package livetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// kmsOps are the KMS operations the server answers, by X-Amz-Target
// operation name.
var kmsOps = map[string]func(*Server, *request) *apiError{
	"DescribeKey":  (*Server).describeKey,
	"GetKeyPolicy": (*Server).getKeyPolicy,
	"PutKeyPolicy": (*Server).putKeyPolicy,
	"ListAliases":  (*Server).listAliases,
	"ListGrants":   (*Server).listGrants,
	"CreateGrant":  (*Server).createGrant,
	"RevokeGrant":  (*Server).revokeGrant,
}

// kmsKey is a key found for a request.
type kmsKey struct {
	arn     string
	id      string
	account string
	region  string
	*keyModel
}

// decodeKMS reads a JSON request body into v.
func decodeKMS(req *request, v any) *apiError {
	if len(strings.TrimSpace(string(req.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(req.body, v); err != nil {
		return errorf(http.StatusBadRequest, "SerializationException", "%v", err)
	}
	return nil
}

// resolveKey finds the key a KeyId names for the caller: key IDs and alias
// names in the caller's account and Region, ARNs where they say. A key of
// another account is refused (AccessDeniedException); the livetest does not
// evaluate key policies for cross-account calls.
func (s *Server) resolveKey(req *request, keyID string) (*kmsKey, *apiError) {
	if keyID == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	ref, err := arns.ParseKeyRef(keyID)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "NotFoundException", "Invalid keyId '%s'", keyID)
	}
	account, region := req.caller.account, req.caller.region
	if ref.Account != "" {
		if ref.Region != region {
			return nil, errorf(http.StatusBadRequest, "NotFoundException", "Invalid arn %s", ref.Region)
		}
		if ref.Account != account {
			return nil, errorf(http.StatusBadRequest, "AccessDeniedException",
				"User: %s is not authorized to perform: kms:%s on resource: %s because no resource-based policy allows the kms:%s action",
				CallerARN(account), req.op, keyID, req.op)
		}
	}
	alias := ref.Form == arns.AliasName || ref.Form == arns.AliasARN
	for _, a := range sortedKeys(s.st.account(account).KMSKeys) {
		k := s.st.account(account).KMSKeys[a]
		parsed, err := arns.ParseKeyARN(a)
		if err != nil || parsed.Region != region {
			continue
		}
		if alias && slices.Contains(k.Aliases, ref.ID) || !alias && parsed.ID == ref.ID {
			return &kmsKey{arn: a, id: parsed.ID, account: account, region: region, keyModel: k}, nil
		}
	}
	if alias {
		return nil, errorf(http.StatusBadRequest, "NotFoundException", "Alias arn:%s:kms:%s:%s:%s is not found.", arns.PartitionOf(region), region, account, ref.ID)
	}
	return nil, errorf(http.StatusBadRequest, "NotFoundException", "Key '%s' does not exist", arns.KeyARNOf(region, account, ref.ID))
}

type keyMetadata struct {
	AWSAccountID                string             `json:"AWSAccountId"`
	Arn                         string             `json:"Arn"`
	CreationDate                float64            `json:"CreationDate"`
	CustomerMasterKeySpec       string             `json:"CustomerMasterKeySpec"`
	DeletionDate                *float64           `json:"DeletionDate,omitempty"`
	Description                 string             `json:"Description"`
	Enabled                     bool               `json:"Enabled"`
	EncryptionAlgorithms        []string           `json:"EncryptionAlgorithms"`
	KeyID                       string             `json:"KeyId"`
	KeyManager                  string             `json:"KeyManager"`
	KeySpec                     string             `json:"KeySpec"`
	KeyState                    string             `json:"KeyState"`
	KeyUsage                    string             `json:"KeyUsage"`
	MultiRegion                 bool               `json:"MultiRegion"`
	MultiRegionConfiguration    *multiRegionConfig `json:"MultiRegionConfiguration,omitempty"`
	Origin                      string             `json:"Origin"`
	PendingDeletionWindowInDays *int               `json:"PendingDeletionWindowInDays,omitempty"`
}

type multiRegionConfig struct {
	MultiRegionKeyType string      `json:"MultiRegionKeyType"`
	PrimaryKey         regionKey   `json:"PrimaryKey"`
	ReplicaKeys        []regionKey `json:"ReplicaKeys"`
}

type regionKey struct {
	Arn    string `json:"Arn"`
	Region string `json:"Region"`
}

func (s *Server) describeKey(req *request) *apiError {
	var in struct {
		KeyID string `json:"KeyId"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	k, e := s.resolveKey(req, in.KeyID)
	if e != nil {
		return e
	}
	md := keyMetadata{
		AWSAccountID: k.account, Arn: k.arn, KeyID: k.id,
		CreationDate:          float64(created.Unix()),
		CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", KeySpec: "SYMMETRIC_DEFAULT",
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
		KeyUsage:             "ENCRYPT_DECRYPT", Origin: "AWS_KMS",
		KeyManager: k.KeyManager, KeyState: k.KeyState, Enabled: k.KeyState == generate.KeyStateEnabled,
	}
	if k.KeyManager == generate.KeyManagerAWS {
		md.Description = "Default key that protects my data when no other key is defined"
	}
	if k.KeyState == "PendingDeletion" {
		d, days := float64(created.AddDate(0, 0, 30).Unix()), 30
		md.DeletionDate, md.PendingDeletionWindowInDays = &d, &days
	}
	if strings.HasPrefix(k.id, "mrk-") {
		// A multi-Region key: the key IDs of its primary and replicas are
		// the same. The state file does not say which is the primary; the
		// one in the first Region (by name) is.
		var all []regionKey
		for _, a := range sortedKeys(s.st.account(k.account).KMSKeys) {
			if p, err := arns.ParseKeyARN(a); err == nil && p.ID == k.id {
				all = append(all, regionKey{Arn: a, Region: p.Region})
			}
		}
		slices.SortFunc(all, func(a, b regionKey) int { return strings.Compare(a.Region, b.Region) })
		cfg := &multiRegionConfig{MultiRegionKeyType: "PRIMARY", PrimaryKey: all[0], ReplicaKeys: []regionKey{}}
		if all[0].Arn != k.arn {
			cfg.MultiRegionKeyType = "REPLICA"
		}
		cfg.ReplicaKeys = append(cfg.ReplicaKeys, all[1:]...)
		md.MultiRegion, md.MultiRegionConfiguration = true, cfg
	}
	writeKMS(req, map[string]any{"KeyMetadata": md})
	return nil
}

// checkPolicyName refuses key policy names other than "default", the only
// one KMS has.
func checkPolicyName(name *string) *apiError {
	if name != nil && *name != "default" {
		return errorf(http.StatusBadRequest, "NotFoundException", "No such policy exists: %s. The only valid policy name is default", *name)
	}
	return nil
}

func (s *Server) getKeyPolicy(req *request) *apiError {
	var in struct {
		KeyID      string  `json:"KeyId"`
		PolicyName *string `json:"PolicyName"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	k, e := s.resolveKey(req, in.KeyID)
	if e != nil {
		return e
	}
	if e := checkPolicyName(in.PolicyName); e != nil {
		return e
	}
	writeKMS(req, map[string]any{"Policy": docText(k.Policy), "PolicyName": "default"})
	return nil
}

func (s *Server) putKeyPolicy(req *request) *apiError {
	var in struct {
		KeyID                          string  `json:"KeyId"`
		Policy                         *string `json:"Policy"`
		PolicyName                     *string `json:"PolicyName"`
		BypassPolicyLockoutSafetyCheck bool    `json:"BypassPolicyLockoutSafetyCheck"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	if in.Policy == nil {
		return errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
	}
	k, e := s.resolveKey(req, in.KeyID)
	if e != nil {
		return e
	}
	if e := checkPolicyName(in.PolicyName); e != nil {
		return e
	}
	if in.BypassPolicyLockoutSafetyCheck {
		return errorf(http.StatusBadRequest, "ValidationException", "livetest refuses BypassPolicyLockoutSafetyCheck: kmsgrant must never set it")
	}
	doc, err := policy.Parse([]byte(*in.Policy))
	if err != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicyDocumentException", "%v", err)
	}
	c := generate.Change{Kind: generate.KindKeyPolicy, Account: k.account, Target: k.arn, Action: generate.Update, Policy: doc}
	if err := s.write(c); err != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicyDocumentException", "%v", err)
	}
	writeKMS(req, map[string]any{})
	return nil
}

type aliasListEntry struct {
	AliasArn        string  `json:"AliasArn"`
	AliasName       string  `json:"AliasName"`
	CreationDate    float64 `json:"CreationDate"`
	LastUpdatedDate float64 `json:"LastUpdatedDate"`
	TargetKeyID     string  `json:"TargetKeyId"`
}

func (s *Server) listAliases(req *request) *apiError {
	var in struct {
		KeyID  string `json:"KeyId"`
		Limit  *int   `json:"Limit"`
		Marker string `json:"Marker"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 100) {
		return errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
	}
	account, region := req.caller.account, req.caller.region
	only := ""
	if in.KeyID != "" {
		k, e := s.resolveKey(req, in.KeyID)
		if e != nil {
			return e
		}
		only = k.arn
	}
	var list []aliasListEntry
	keys := s.st.account(account).KMSKeys
	for _, a := range sortedKeys(keys) {
		p, err := arns.ParseKeyARN(a)
		if err != nil || p.Region != region || only != "" && a != only {
			continue
		}
		for _, name := range keys[a].Aliases {
			list = append(list, aliasListEntry{
				AliasArn:  fmt.Sprintf("arn:%s:kms:%s:%s:%s", arns.PartitionOf(region), region, account, name),
				AliasName: name, TargetKeyID: p.ID,
				CreationDate: float64(created.Unix()), LastUpdatedDate: float64(created.Unix()),
			})
		}
	}
	slices.SortFunc(list, func(a, b aliasListEntry) int { return strings.Compare(a.AliasName, b.AliasName) })
	size := 0
	if in.Limit != nil {
		size = *in.Limit
	}
	items, next, err := page(list, in.Marker, size, 50, 100)
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidMarkerException", "Invalid marker")
	}
	out := map[string]any{"Aliases": append([]aliasListEntry{}, items...), "Truncated": next != ""}
	if next != "" {
		out["NextMarker"] = next
	}
	writeKMS(req, out)
	return nil
}

func kmsHeaders(req *request) {
	req.w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	req.w.Header().Set("X-Amzn-Requestid", req.id)
}

func writeKMS(req *request, v any) {
	data, _ := json.Marshal(v) // the server's own types always encode
	kmsHeaders(req)
	req.w.WriteHeader(http.StatusOK)
	req.w.Write(data)
}

func writeKMSError(req *request, e *apiError) {
	data, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	kmsHeaders(req)
	req.w.Header().Set("X-Amzn-Errortype", e.code)
	req.w.WriteHeader(e.status)
	req.w.Write(data)
}

// listGrants answers ListGrants a page at a time (Limit, default 50;
// Marker), as KMS does, from the key's grants. A key whose grants the state
// marks unreadable answers AccessDeniedException.
func (s *Server) listGrants(req *request) *apiError {
	var in struct {
		KeyID  string `json:"KeyId"`
		Limit  int    `json:"Limit"`
		Marker string `json:"Marker"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	k, e := s.resolveKey(req, in.KeyID)
	if e != nil {
		return e
	}
	if k.GrantsUnreadable {
		return errorf(http.StatusBadRequest, "AccessDeniedException",
			"User: %s is not authorized to perform: kms:ListGrants on resource: %s because no identity-based policy allows the kms:ListGrants action", CallerARN(k.account), k.arn)
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 50
	}
	start := 0
	if in.Marker != "" {
		var err error
		if start, err = strconv.Atoi(in.Marker); err != nil || start < 0 || start > len(k.Grants) {
			return errorf(http.StatusBadRequest, "InvalidMarkerException", "Invalid marker %q", in.Marker)
		}
	}
	end := min(start+limit, len(k.Grants))
	var grants []map[string]any
	for _, g := range k.Grants[start:end] {
		entry := map[string]any{"GrantId": g.GrantID, "GranteePrincipal": g.GranteePrincipal, "Operations": g.Operations,
			"KeyId": k.arn, "IssuingAccount": "arn:aws:iam::" + k.account + ":root", "CreationDate": float64(created.Unix()), "Name": g.Name}
		if c := g.Constraints; c != nil {
			cons := map[string]any{}
			if c.EncryptionContextEquals != nil {
				cons["EncryptionContextEquals"] = c.EncryptionContextEquals
			}
			if c.EncryptionContextSubset != nil {
				cons["EncryptionContextSubset"] = c.EncryptionContextSubset
			}
			entry["Constraints"] = cons
		}
		grants = append(grants, entry)
	}
	out := map[string]any{"Grants": grants, "Truncated": end < len(k.Grants)}
	if end < len(k.Grants) {
		out["NextMarker"] = strconv.Itoa(end)
	}
	writeKMS(req, out)
	return nil
}

// grantNameRE is the pattern KMS holds a grant's Name to.
var grantNameRE = regexp.MustCompile(`^[a-zA-Z0-9:/_-]{1,256}$`)

// createGrant answers CreateGrant: a new grant on the key, or, for a grant
// identical to one the key has (name included), that grant's ID, as KMS
// does. Constraints and retiring principals are not taken: kmsgrant sets
// neither.
func (s *Server) createGrant(req *request) *apiError {
	var in struct {
		KeyID             string   `json:"KeyId"`
		GranteePrincipal  string   `json:"GranteePrincipal"`
		Operations        []string `json:"Operations"`
		Name              string   `json:"Name"`
		RetiringPrincipal string   `json:"RetiringPrincipal"`
		Constraints       any      `json:"Constraints"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	switch {
	case in.GranteePrincipal == "":
		return errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null")
	case len(in.Operations) == 0:
		return errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null")
	case in.Name != "" && !grantNameRE.MatchString(in.Name):
		return errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", in.Name)
	case in.RetiringPrincipal != "" || in.Constraints != nil:
		return errorf(http.StatusBadRequest, "ValidationException", "livetest takes no RetiringPrincipal or Constraints")
	}
	k, e := s.resolveKey(req, in.KeyID)
	if e != nil {
		return e
	}
	ops := slices.Sorted(slices.Values(in.Operations))
	for _, g := range k.Grants {
		if g.Name == in.Name && g.GranteePrincipal == in.GranteePrincipal && slices.Equal(slices.Sorted(slices.Values(g.Operations)), ops) && g.Constraints == nil {
			writeKMS(req, map[string]any{"GrantId": g.GrantID, "GrantToken": "token-" + g.GrantID})
			return nil
		}
	}
	s.grantSeq++
	id := fmt.Sprintf("%064x", s.grantSeq)
	grants := append(slices.Clone(k.Grants), grantModel{GrantID: id, Name: in.Name, GranteePrincipal: in.GranteePrincipal, Operations: in.Operations})
	if e := s.setGrants(k, grants); e != nil {
		return e
	}
	writeKMS(req, map[string]any{"GrantId": id, "GrantToken": "token-" + id})
	return nil
}

// revokeGrant answers RevokeGrant: the grant goes, or NotFoundException.
func (s *Server) revokeGrant(req *request) *apiError {
	var in struct {
		KeyID   string `json:"KeyId"`
		GrantID string `json:"GrantId"`
	}
	if e := decodeKMS(req, &in); e != nil {
		return e
	}
	k, e := s.resolveKey(req, in.KeyID)
	if e != nil {
		return e
	}
	i := slices.IndexFunc(k.Grants, func(g grantModel) bool { return g.GrantID == in.GrantID })
	if i < 0 {
		return errorf(http.StatusBadRequest, "NotFoundException", "Grant ID %s not found", in.GrantID)
	}
	if e := s.setGrants(k, slices.Delete(slices.Clone(k.Grants), i, i+1)); e != nil {
		return e
	}
	writeKMS(req, map[string]any{})
	return nil
}

// setGrants makes the key's grants in the state those given.
func (s *Server) setGrants(k *kmsKey, grants []grantModel) *apiError {
	text, err := json.Marshal(grants)
	if err != nil {
		return errorf(http.StatusInternalServerError, "KMSInternalException", "%v", err)
	}
	if err := s.edit([]string{"accounts", k.account, "kms_keys", k.arn, "grants"}, text); err != nil {
		return errorf(http.StatusInternalServerError, "KMSInternalException", "%v", err)
	}
	return nil
}
