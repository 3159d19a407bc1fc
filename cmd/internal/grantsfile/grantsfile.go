// Package grantsfile reads a grants file: many grants for one kmsgrant run,
// in YAML or JSON (see docs/grants-file.md). It checks the file's shape and
// says where each grant is; what a grant's values mean (a bucket name, a
// principal) is checked by the same code as the command-line flags.
package grantsfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// File is a grants file as read.
type File struct {
	// Profiles names the AWS profile of each account, by account ID.
	Profiles map[string]string
	Grants   []Entry
}

// Entry is one grant of the file. Grantees and Prefixes hold one value or
// several: the entry stands for every grantee on every prefix.
type Entry struct {
	// Line is where the grant starts, from 1; Index its place in the
	// list, from 1.
	Line, Index int
	// Where names the entry in messages: "grants.yaml:12 (grant 3)".
	Where         string
	Bucket        string
	Prefixes      []string
	Key           string
	Grantees      []string
	Access        string
	IAMPolicyName string
	// Via is how the key is granted, "" where the file does not say.
	Via string
}

// fields are the fields of a grant, with whether a list is allowed.
var fields = map[string]bool{
	"bucket": false, "prefix": true, "key": false, "grantee": true,
	"access": true, "iam_policy_name": false, "via": false,
}

// Parse reads a grants file's data; name is the file's name for messages.
// Errors name the file and line, and the grant where there is one.
func Parse(name string, data []byte) (*File, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || err == nil && len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty; want a grants list", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if dec.Decode(&more) == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document; a grants file holds one", name, more.Line)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with a grants list at the top", name, top.Line)
	}
	f := &File{Profiles: map[string]string{}}
	var grants *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], resolve(top.Content[i+1])
		if seen[k.Value] {
			// YAML leaves a repeated key to the reader; a second
			// grants list silently replacing the first would, with
			// --prune, revoke all of the first.
			return nil, fmt.Errorf("%s:%d: %s is given twice", name, k.Line, k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "grants":
			grants = v
		case "profiles":
			if err := parseProfiles(name, v, f.Profiles); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown top-level field %q (want grants, profiles)", name, k.Line, k.Value)
		}
	}
	if grants == nil {
		return nil, fmt.Errorf("%s: no grants list", name)
	}
	if grants.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: grants: want a list of grants", name, grants.Line)
	}
	if len(grants.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: grants: the list is empty", name, grants.Line)
	}
	for i, n := range grants.Content {
		e, err := parseEntry(name, i+1, resolve(n))
		if err != nil {
			return nil, err
		}
		f.Grants = append(f.Grants, e)
	}
	return f, nil
}

func parseProfiles(name string, v *yaml.Node, out map[string]string) error {
	if v.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: profiles: want a mapping of account IDs to profile names", name, v.Line)
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, p := v.Content[i], resolve(v.Content[i+1])
		if !arns.IsAccountID(k.Value) {
			return fmt.Errorf("%s:%d: profiles: %q is not a 12-digit account ID", name, k.Line, k.Value)
		}
		if p.Kind != yaml.ScalarNode || p.Value == "" {
			return fmt.Errorf("%s:%d: profiles: account %s: want a profile name", name, p.Line, k.Value)
		}
		if _, dup := out[k.Value]; dup {
			return fmt.Errorf("%s:%d: profiles: account %s is given twice", name, k.Line, k.Value)
		}
		out[k.Value] = p.Value
	}
	return nil
}

func parseEntry(name string, index int, n *yaml.Node) (Entry, error) {
	e := Entry{Line: n.Line, Index: index, Where: fmt.Sprintf("%s:%d (grant %d)", name, n.Line, index)}
	if n.Kind != yaml.MappingNode {
		return e, fmt.Errorf("%s: want a mapping of bucket, grantee and the other fields", e.Where)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := fmt.Sprintf("%s:%d (grant %d)", name, k.Line, index)
		list, known := fields[k.Value]
		if k.Value == "<<" {
			return e, fmt.Errorf("%s: YAML merge keys (<<) are not taken; give the fields in each grant, or use an anchor for a whole list", at)
		}
		if !known {
			return e, fmt.Errorf("%s: unknown field %q%s", at, k.Value, didYouMean(k.Value))
		}
		if seen[k.Value] {
			return e, fmt.Errorf("%s: %s is given twice", at, k.Value)
		}
		seen[k.Value] = true
		values, err := scalars(v, list)
		if err != nil {
			return e, fmt.Errorf("%s: %s: %w", at, k.Value, err)
		}
		switch k.Value {
		case "bucket":
			e.Bucket = values[0]
		case "prefix":
			e.Prefixes = values
		case "key":
			e.Key = values[0]
		case "grantee":
			e.Grantees = values
		case "access":
			e.Access = strings.Join(values, ",")
		case "iam_policy_name":
			e.IAMPolicyName = values[0]
		case "via":
			e.Via = values[0]
		}
	}
	var missing []string
	if e.Bucket == "" {
		missing = append(missing, "bucket")
	}
	if len(e.Grantees) == 0 {
		missing = append(missing, "grantee")
	}
	if len(missing) > 0 {
		verb := " is"
		if len(missing) > 1 {
			verb = " are"
		}
		return e, fmt.Errorf("%s: %s%s required", e.Where, strings.Join(missing, " and "), verb)
	}
	if len(e.Prefixes) == 0 {
		e.Prefixes = []string{""}
	}
	return e, nil
}

// scalars reads a field's value: one string, or, where list is set, a list
// of them.
func scalars(v *yaml.Node, list bool) ([]string, error) {
	v = resolve(v)
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
		return []string{v.Value}, nil
	case v.Kind == yaml.SequenceNode && list:
		if len(v.Content) == 0 {
			return nil, errors.New("the list is empty")
		}
		var out []string
		for _, item := range v.Content {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				return nil, fmt.Errorf("line %d: want a string", item.Line)
			}
			out = append(out, item.Value)
		}
		return out, nil
	case list:
		return nil, errors.New("want a string or a list of strings")
	}
	return nil, errors.New("want a string")
}

// resolve follows an alias (*analysts) to the value its anchor names.
func resolve(v *yaml.Node) *yaml.Node {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	return v
}

// didYouMean suggests the field a misspelt one was likely meant to be.
func didYouMean(given string) string {
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	slices.Sort(names)
	norm := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(given))
	if close := generate.Closest(strings.TrimSuffix(norm, "s"), names); len(close) > 0 {
		return " (did you mean " + strings.Join(close, " or ") + "?)"
	}
	if slices.Contains(names, strings.TrimSuffix(norm, "s")) {
		return " (did you mean " + strings.TrimSuffix(norm, "s") + "?)"
	}
	return " (want " + strings.Join(names, ", ") + ")"
}
