package statefile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
)

// shape describes the objects of a state file whose keys kmsgrant knows:
// fields by name, or, for maps keyed by IDs and names, one shape for every
// member. A nil shape is a value kmsgrant checks elsewhere, or not at all.
type shape struct {
	fields map[string]*shape
	each   *shape
}

var (
	// objectShape is an object's, and (see init) its versions' too.
	objectShape   = &shape{fields: map[string]*shape{"sse_algorithm": nil, "sse_kms_key_id": nil, "owner": nil}}
	identityShape = &shape{fields: map[string]*shape{
		"path": nil, "inline_policies": nil, "attached_policies": nil, "permissions_boundary": nil, "groups": nil,
	}}
	accountShape = &shape{fields: map[string]*shape{
		"buckets": {each: &shape{fields: map[string]*shape{
			"region": nil, "policy": nil, "object_ownership": nil,
			"default_encryption": {fields: map[string]*shape{"sse_algorithm": nil, "kms_master_key_id": nil, "bucket_key_enabled": nil}},
			"objects":            {each: objectShape},
		}}},
		"kms_keys": {each: &shape{fields: map[string]*shape{
			"key_manager": nil, "key_state": nil, "policy": nil, "aliases": nil, "grants": nil, "grants_unreadable": nil,
		}}},
		"iam_roles":      {each: identityShape},
		"iam_users":      {each: identityShape},
		"iam_groups":     {each: &shape{fields: map[string]*shape{"inline_policies": nil, "attached_policies": nil}}},
		"iam_unreadable": nil,
	}}
	stateShape = &shape{fields: map[string]*shape{
		"format_version":   nil,
		"managed_policies": nil,
		"accounts":         {each: accountShape},
	}}
)

func init() {
	objectShape.fields["versions"] = &shape{each: objectShape}
}

// checkKeyCase refuses keys that differ from a known field only in case.
// encoding/json would read "Policy" as policy, but an edit would then add a
// second, lower-case key next to it: kmsgrant must read and write the same
// key. It also notes whether a known field appears twice in one object,
// which encoding/json merges (see take).
func (f *File) checkKeyCase() error {
	start := int64(len(f.data) - len(bytes.TrimLeft(f.data, " \t\r\n")))
	_, err := f.walkKeyCase(start, stateShape, nil)
	var e *Error
	if err != nil && !errors.As(err, &e) {
		// The file decoded, so it is JSON the scan reads; say so
		// if it ever does not.
		return &Error{File: f.name, Msg: "reading the file's keys: " + err.Error()}
	}
	return err
}

// walkKeyCase checks the value at f.data[start] against s and returns
// where the value ends: one pass over its bytes, descending into the
// objects s describes and passing over the rest. Siblings share path's
// array as they append to it; an error copies it.
func (f *File) walkKeyCase(start int64, s *shape, path []string) (int64, error) {
	if s == nil || start >= int64(len(f.data)) || f.data[start] != '{' {
		// Not an object kmsgrant knows the keys of; a value of the
		// wrong type is the typed decode's to report.
		return jsonedit.ValueEnd(f.data, start)
	}
	var seen []string
	return jsonedit.Members(f.data, start, func(key string, value int64) (int64, error) {
		if s.each != nil {
			return f.walkKeyCase(value, s.each, append(path, key))
		}
		if sub, ok := s.fields[key]; ok {
			if slices.Contains(seen, key) {
				f.mergedFields = true
			}
			seen = append(seen, key)
			return f.walkKeyCase(value, sub, append(path, key))
		}
		for known := range s.fields {
			if strings.EqualFold(known, key) {
				return 0, f.errPath(slices.Concat(path, []string{key}), fmt.Sprintf("keys are case-sensitive: did you mean %q?", known))
			}
		}
		return jsonedit.ValueEnd(f.data, value)
	})
}
