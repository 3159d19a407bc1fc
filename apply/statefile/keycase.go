package statefile

import (
	"encoding/json"
	"fmt"
	"strings"
)

// shape describes the objects of a state file whose keys kmsgrant knows:
// fields by name, or, for maps keyed by IDs and names, one shape for every
// member. A nil shape is a value kmsgrant checks elsewhere, or not at all.
type shape struct {
	fields map[string]*shape
	each   *shape
}

var (
	identityShape = &shape{fields: map[string]*shape{
		"path": nil, "inline_policies": nil, "attached_policies": nil, "permissions_boundary": nil, "groups": nil,
	}}
	stateShape = &shape{fields: map[string]*shape{
		"format_version":   nil,
		"managed_policies": nil,
		"accounts": {each: &shape{fields: map[string]*shape{
			"buckets": {each: &shape{fields: map[string]*shape{
				"region": nil, "policy": nil, "object_ownership": nil,
				"default_encryption": {fields: map[string]*shape{"sse_algorithm": nil, "kms_master_key_id": nil, "bucket_key_enabled": nil}},
				"objects":            {each: &shape{fields: map[string]*shape{"sse_algorithm": nil, "sse_kms_key_id": nil, "owner": nil}}},
			}}},
			"kms_keys":       {each: &shape{fields: map[string]*shape{"key_manager": nil, "key_state": nil, "policy": nil, "aliases": nil}}},
			"iam_roles":      {each: identityShape},
			"iam_users":      {each: identityShape},
			"iam_groups":     {each: &shape{fields: map[string]*shape{"inline_policies": nil, "attached_policies": nil}}},
			"iam_unreadable": nil,
		}}},
	}}
)

// checkKeyCase refuses keys that differ from a known field only in case.
// encoding/json would read "Policy" as policy, but an edit would then add a
// second, lower-case key next to it: kmsgrant must read and write the same
// key.
func (f *File) checkKeyCase() error {
	return f.walkKeyCase(f.data, stateShape, nil)
}

func (f *File) walkKeyCase(raw json.RawMessage, s *shape, path []string) error {
	if s == nil {
		return nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return nil // not an object: the typed decode reports it
	}
	for key, value := range members {
		next := append(append([]string(nil), path...), key)
		if s.each != nil {
			if err := f.walkKeyCase(value, s.each, next); err != nil {
				return err
			}
			continue
		}
		if sub, ok := s.fields[key]; ok {
			if err := f.walkKeyCase(value, sub, next); err != nil {
				return err
			}
			continue
		}
		for known := range s.fields {
			if strings.EqualFold(known, key) {
				return f.errPath(next, fmt.Sprintf("keys are case-sensitive: did you mean %q?", known))
			}
		}
	}
	return nil
}
