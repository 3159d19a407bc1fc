package jsonedit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// stateDoc is a small hand-written state file: two-space indentation, an
// unknown top-level field, one-line objects next to multi-line ones, an
// empty object and keys that are ARNs.
const stateDoc = `{
  "format_version": "1",
  "x_notes": "fields kmsgrant does not know are kept",
  "accounts": {
    "111122223333": {
      "buckets": {
        "b1": {
          "region": "us-west-2",
          "policy": null,
          "objects": { "a.csv": { "owner": "111122223333" } }
        }
      },
      "kms_keys": {
        "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab": {
          "key_state": "Enabled",
          "aliases": ["alias/app-data"]
        }
      }
    },
    "444455556666": {
      "iam_roles": {
        "reader": {
          "path": "/",
          "inline_policies": {}
        }
      }
    }
  }
}
`

const keyARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

const smallPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

// replaceOnce returns s with old replaced by new, failing the test unless old
// occurs exactly once: the expected outputs below are the input with one
// fragment changed, so everything else is byte-for-byte the input.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("test fixture: %q occurs %d times, want 1", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// setCase is one Set call and the single edit it must make: data with old
// replaced by new.
type setCase struct {
	name     string
	data     string
	path     []string
	value    string
	old, new string
}

func runSetCases(t *testing.T, tests []setCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := replaceOnce(t, tt.data, tt.old, tt.new)
			got, err := Set([]byte(tt.data), tt.path, []byte(tt.value))
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("Set output mismatch (-want +got):\n%s", diff)
			}
			checkSet(t, []byte(tt.data), tt.path, []byte(tt.value), got)
		})
	}
}

func TestSetReplacesInPlace(t *testing.T) {
	tests := []setCase{
		{
			name:  "string scalar",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "buckets", "b1", "region"},
			value: `"eu-west-1"`,
			old:   `"region": "us-west-2"`,
			new:   `"region": "eu-west-1"`,
		},
		{
			name:  "null replaced by an object indented to its line",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "buckets", "b1", "policy"},
			value: smallPolicy,
			old:   `"policy": null`,
			new: `"policy": {
            "Version": "2012-10-17",
            "Statement": [
              {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*"
              }
            ]
          }`,
		},
		{
			name:  "one-line object replaced by an empty object",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "buckets", "b1", "objects"},
			value: `{}`,
			old:   `"objects": { "a.csv": { "owner": "111122223333" } }`,
			new:   `"objects": {}`,
		},
		{
			name:  "whole multi-line object replaced by a scalar",
			data:  stateDoc,
			path:  []string{"accounts", "444455556666", "iam_roles"},
			value: `null`,
			old: `"iam_roles": {
        "reader": {
          "path": "/",
          "inline_policies": {}
        }
      }`,
			new: `"iam_roles": null`,
		},
		{
			name:  "scalar value with surrounding whitespace is written compactly",
			data:  stateDoc,
			path:  []string{"x_notes"},
			value: "\n\t \"changed\" \n",
			old:   `"x_notes": "fields kmsgrant does not know are kept"`,
			new:   `"x_notes": "changed"`,
		},
		{
			name:  "key that is an ARN (dots, slashes, colons)",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "kms_keys", keyARN, "key_state"},
			value: `"Disabled"`,
			old:   `"key_state": "Enabled"`,
			new:   `"key_state": "Disabled"`,
		},
		{
			name:  "one-line array stays on one line",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "kms_keys", keyARN, "aliases"},
			value: `["alias/a", "alias/b"]`,
			old:   `"aliases": ["alias/app-data"]`,
			new:   `"aliases": ["alias/a","alias/b"]`,
		},
		{
			name:  "top-level key",
			data:  stateDoc,
			path:  []string{"format_version"},
			value: `"2"`,
			old:   `"format_version": "1"`,
			new:   `"format_version": "2"`,
		},
		{
			name:  "object in a one-line document",
			data:  `{"a":1,"b":{"c":2},"d":[3]}`,
			path:  []string{"b"},
			value: `{"x":true}`,
			old:   `"b":{"c":2}`,
			new:   `"b":{"x":true}`,
		},
		{
			name:  "scalar in a one-line document",
			data:  `{"a":1,"b":{"c":2},"d":[3]}`,
			path:  []string{"b", "c"},
			value: `[ ]`,
			old:   `"c":2`,
			new:   `"c":[]`,
		},
		{
			name:  "escaped key in the document matches its unescaped path",
			data:  `{"a\/b": 1, "c": 2}`,
			path:  []string{"a/b"},
			value: `3`,
			old:   `1`,
			new:   `3`,
		},
		{
			name:  "a nested key of the same name is not the top-level one",
			data:  `{"x": {"region": 1}, "region": 2}`,
			path:  []string{"region"},
			value: `5`,
			old:   `2`,
			new:   `5`,
		},
		{
			name:  "a top-level key of the same name is not the nested one",
			data:  `{"region": 2, "x": {"region": 1}}`,
			path:  []string{"x", "region"},
			value: `5`,
			old:   `1`,
			new:   `5`,
		},
		{
			name:  "string with escapes is kept as written",
			data:  `{"a": "x", "b": "\u00e9\n"}`,
			path:  []string{"a"},
			value: `"\u00e9\"\n"`,
			old:   `"a": "x"`,
			new:   `"a": "\u00e9\"\n"`,
		},
		{
			name:  "CRLF document keeps its line endings",
			data:  "{\r\n  \"a\": 1,\r\n  \"b\": 2\r\n}\r\n",
			path:  []string{"a"},
			value: `10`,
			old:   `"a": 1`,
			new:   `"a": 10`,
		},
	}
	runSetCases(t, tests)
}

func TestSetInserts(t *testing.T) {
	tests := []setCase{
		{
			name:  "scalar into a multi-line object, at the members' indentation",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "buckets", "b1", "object_ownership"},
			value: `"BucketOwnerEnforced"`,
			old:   `"objects": { "a.csv": { "owner": "111122223333" } }`,
			new: `"objects": { "a.csv": { "owner": "111122223333" } },
          "object_ownership": "BucketOwnerEnforced"`,
		},
		{
			name:  "object into a multi-line object",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "buckets", "b1", "default_encryption"},
			value: `{"sse_algorithm":"aws:kms","bucket_key_enabled":true}`,
			old:   `"objects": { "a.csv": { "owner": "111122223333" } }`,
			new: `"objects": { "a.csv": { "owner": "111122223333" } },
          "default_encryption": {
            "sse_algorithm": "aws:kms",
            "bucket_key_enabled": true
          }`,
		},
		{
			name:  "empty {} grows into an indented block",
			data:  stateDoc,
			path:  []string{"accounts", "444455556666", "iam_roles", "reader", "inline_policies", "kmsgrant-b1"},
			value: smallPolicy,
			old:   `"inline_policies": {}`,
			new: `"inline_policies": {
            "kmsgrant-b1": {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Effect": "Allow",
                  "Action": "s3:GetObject",
                  "Resource": "*"
                }
              ]
            }
          }`,
		},
		{
			name:  "missing intermediate objects are created",
			data:  stateDoc,
			path:  []string{"accounts", "444455556666", "iam_users", "alice", "path"},
			value: `"/team/"`,
			old: `          "inline_policies": {}
        }
      }`,
			new: `          "inline_policies": {}
        }
      },
      "iam_users": {
        "alice": {
          "path": "/team/"
        }
      }`,
		},
		{
			name:  "missing account under accounts, keyed by an ARN-free number",
			data:  stateDoc,
			path:  []string{"accounts", "999988887777", "buckets", "new.bucket-1", "region"},
			value: `"eu-west-1"`,
			old: `          "inline_policies": {}
        }
      }
    }`,
			new: `          "inline_policies": {}
        }
      }
    },
    "999988887777": {
      "buckets": {
        "new.bucket-1": {
          "region": "eu-west-1"
        }
      }
    }`,
		},
		{
			name:  "new key that is an ARN (dots, slashes, colons)",
			data:  stateDoc,
			path:  []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", "key_state"},
			value: `"Enabled"`,
			old: `          "aliases": ["alias/app-data"]
        }`,
			new: `          "aliases": ["alias/app-data"]
        },
        "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab": {
          "key_state": "Enabled"
        }`,
		},
		{
			name:  "top-level key in a multi-line document",
			data:  stateDoc,
			path:  []string{"managed_policies"},
			value: `{}`,
			old:   "    }\n  }\n}\n",
			new:   "    }\n  },\n  \"managed_policies\": {}\n}\n",
		},
		{
			name:  "scalar into an empty {} stays on one line",
			data:  `{"a": {}}`,
			path:  []string{"a", "b"},
			value: `1`,
			old:   `{}`,
			new:   `{"b": 1}`,
		},
		{
			name:  "into an empty multi-line object",
			data:  "{\n  \"a\": {\n  }\n}\n",
			path:  []string{"a", "b"},
			value: `1`,
			old:   "{\n  }",
			new:   "{\n    \"b\": 1\n  }",
		},
		{
			name:  "into an empty top-level object",
			data:  `{}`,
			path:  []string{"a", "b"},
			value: `true`,
			old:   `{}`,
			new:   "{\n  \"a\": {\n    \"b\": true\n  }\n}",
		},
		{
			name:  "into a one-line compact object, compactly",
			data:  `{"a": 1, "b": {"c": 2}}`,
			path:  []string{"b", "d"},
			value: "{\"e\": [1, 2],\n \"f\": {}}",
			old:   `{"c": 2}`,
			new:   `{"c": 2, "d": {"e":[1,2],"f":{}}}`,
		},
		{
			name:  "into a one-line document without spaces",
			data:  `{"a":1}`,
			path:  []string{"b"},
			value: `"x"`,
			old:   `{"a":1}`,
			new:   `{"a":1, "b": "x"}`,
		},
		{
			name:  "missing intermediates in a one-line object",
			data:  `{"a": {"x": 0}}`,
			path:  []string{"a", "b", "c"},
			value: `1`,
			old:   `{"x": 0}`,
			new:   `{"x": 0, "b": {"c":1}}`,
		},
		{
			name:  "key that needs escaping",
			data:  `{"a": 1}`,
			path:  []string{`quote" back\ <tag>`},
			value: `2`,
			old:   `{"a": 1}`,
			new:   `{"a": 1, "quote\" back\\ \u003ctag\u003e": 2}`,
		},
		{
			name:  "empty key",
			data:  `{"a": 1}`,
			path:  []string{""},
			value: `2`,
			old:   `{"a": 1}`,
			new:   `{"a": 1, "": 2}`,
		},
	}
	runSetCases(t, tests)
}

// TestSetInsertMatchesSiblingIndentation covers files not indented with two
// spaces: a new member belongs at the indentation of the members around it.
func TestSetInsertMatchesSiblingIndentation(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{
			name: "four spaces",
			data: "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": 2\n    }\n}\n",
			want: "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": 2,\n        \"d\": 3\n    }\n}\n",
		},
		{
			name: "tabs",
			data: "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": 2\n\t}\n}\n",
			want: "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": 2,\n\t\t\"d\": 3\n\t}\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Set([]byte(tt.data), []string{"b", "d"}, []byte("3"))
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Set output mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A null object on the path (as in "inline_policies": null, which the state
// file accepts) is replaced by the objects the path needs.
func TestSetReplacesNullIntermediate(t *testing.T) {
	got, err := Set([]byte(`{"a":null,"z":2}`), []string{"a", "b", "c"}, []byte(`1`))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	want := map[string]any{"a": map[string]any{"b": map[string]any{"c": 1.0}}, "z": 2.0}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		path  []string
		value string
		// want is the exact error message; "" accepts any error (those
		// of encoding/json, whose wording is not this package's).
		want string
	}{
		{name: "empty path", data: `{"a":1}`, path: nil, value: `1`, want: "jsonedit: empty path"},
		{name: "empty path slice", data: `{"a":1}`, path: []string{}, value: `1`, want: "jsonedit: empty path"},
		{name: "invalid value", data: `{"a":1}`, path: []string{"a"}, value: `{`, want: "jsonedit: value is not JSON"},
		{name: "empty value", data: `{"a":1}`, path: []string{"a"}, value: ``, want: "jsonedit: value is not JSON"},
		{name: "two values", data: `{"a":1}`, path: []string{"a"}, value: `1 2`, want: "jsonedit: value is not JSON"},
		{name: "bare word value", data: `{"a":1}`, path: []string{"a"}, value: `Enabled`, want: "jsonedit: value is not JSON"},
		{name: "empty document", data: ``, path: []string{"a"}, value: `1`, want: "empty document"},
		{name: "whitespace document", data: " \n\t", path: []string{"a"}, value: `1`, want: "empty document"},
		{name: "array root", data: `[{"a":1}]`, path: []string{"a"}, value: `1`, want: "not a JSON object"},
		{name: "string root", data: `"a"`, path: []string{"a"}, value: `1`, want: "not a JSON object"},
		{name: "number root", data: `12`, path: []string{"a"}, value: `1`, want: "not a JSON object"},
		{name: "null root", data: `null`, path: []string{"a"}, value: `1`, want: "not a JSON object"},
		{name: "string intermediate", data: `{"a":"x"}`, path: []string{"a", "b"}, value: `1`, want: "a: not a JSON object"},
		{name: "array intermediate", data: `{"a":[{"b":1}]}`, path: []string{"a", "b"}, value: `1`, want: "a: no element b in the array"},
		{name: "number intermediate, deeper", data: `{"a":{"b":1}}`, path: []string{"a", "b", "c", "d"}, value: `1`, want: "a.b: not a JSON object"},
		{name: "ARN intermediate that is a string", data: `{"k":{"arn:aws:kms:us-west-2:111122223333:key/x":"s"}}`, path: []string{"k", "arn:aws:kms:us-west-2:111122223333:key/x", "p"}, value: `1`, want: "k.arn:aws:kms:us-west-2:111122223333:key/x: not a JSON object"},
		{name: "syntax error before the path", data: `{"a" 1, "b": 2}`, path: []string{"b"}, value: `1`},
		{name: "truncated document", data: `{"a": 1, "b": {`, path: []string{"b", "c"}, value: `1`},
		{name: "truncated before the closing brace", data: `{"a": 1`, path: []string{"b"}, value: `1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Set([]byte(tt.data), tt.path, []byte(tt.value))
			if err == nil {
				t.Fatalf("Set succeeded with %q, want an error", got)
			}
			if got != nil {
				t.Errorf("Set returned %q with its error, want nil", got)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("Set error = %q, want %q", err, tt.want)
			}
		})
	}
}

// TestSetEverywhereInExamples sets values at every object path of the
// example state files, and at new keys under every object, and checks each
// result is valid JSON that differs from the input only at the path.
func TestSetEverywhereInExamples(t *testing.T) {
	files, err := filepath.Glob("../../../examples/*/state.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example state files: %v", err)
	}
	values := []string{`"s"`, `12`, `null`, `{}`, `[]`, smallPolicy, `["a",{"b":[]}]`}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var paths [][]string
		var walk func(v any, p []string)
		walk = func(v any, p []string) {
			m, ok := v.(map[string]any)
			if !ok {
				return
			}
			// Missing keys, one and two levels deep.
			paths = append(paths, append(slices.Clone(p), "x_new"), append(slices.Clone(p), "x_new", "x_deeper"))
			for k, child := range m {
				cp := append(slices.Clone(p), k)
				paths = append(paths, cp)
				walk(child, cp)
			}
		}
		walk(decode(t, data), nil)
		for _, p := range paths {
			for _, v := range values {
				out, err := Set(data, p, []byte(v))
				if err != nil {
					t.Errorf("%s: Set(%q, %s): %v", file, p, v, err)
					continue
				}
				n++
				checkSet(t, data, p, []byte(v), out)
			}
		}
	}
	t.Logf("%d edits checked", n)
}

// checkSet checks the result of a successful Set: valid JSON, equal to the
// input with the path set, and every top-level member not on the path
// byte-for-byte as it was.
func checkSet(t *testing.T, data []byte, path []string, value, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("Set(%q, %q) gave invalid JSON:\n%s", path, value, out)
	}
	want := setPath(decode(t, data), path, decode(t, value))
	if diff := cmp.Diff(want, decode(t, out)); diff != "" {
		t.Fatalf("Set(%q, %q): document mismatch (-want +got):\n%s", path, value, diff)
	}
	before, after := members(t, data), members(t, out)
	for k, raw := range before {
		if k == path[0] {
			continue
		}
		if got, ok := after[k]; !ok || got != raw {
			t.Fatalf("Set(%q, %q): top-level %q changed from %s to %s", path, value, k, raw, got)
		}
	}
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %q: %v", data, err)
	}
	return v
}

// setPath sets a path in a decoded document, creating objects on the way.
func setPath(doc any, path []string, value any) any {
	m, ok := doc.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	if len(path) == 1 {
		m[path[0]] = value
	} else {
		m[path[0]] = setPath(m[path[0]], path[1:], value)
	}
	return m
}

// members returns the raw bytes of each top-level member.
func members(t *testing.T, data []byte) map[string]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		out[tok.(string)] = string(raw)
	}
	return out
}

// duplicateKey returns an object key that occurs twice in one object, as
// encoding/json reads it (after unescaping).
func duplicateKey(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			top := stack[n-1]
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return k, true
				}
				top.keys[k] = true
				top.expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, expectKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
}

// FuzzSet checks that a successful Set on a valid JSON object gives valid
// JSON holding the value at the path, with every other top-level member
// unchanged. The path is the keys of pathText separated by NUL bytes.
func FuzzSet(f *testing.F) {
	f.Add([]byte(stateDoc), "accounts\x00111122223333\x00buckets\x00b1\x00policy", []byte(smallPolicy))
	f.Add([]byte(stateDoc), "accounts\x00444455556666\x00iam_roles\x00reader\x00inline_policies\x00kmsgrant-b1", []byte(smallPolicy))
	f.Add([]byte(stateDoc), "accounts\x00111122223333\x00kms_keys\x00"+keyARN+"\x00policy", []byte(`{"Statement":[]}`))
	f.Add([]byte(stateDoc), "accounts\x00999988887777\x00iam_users\x00bob\x00path", []byte(`"/"`))
	f.Add([]byte(`{}`), "a", []byte(`1`))
	f.Add([]byte(`{ }`), "a\x00b", []byte(`[1, {"c": null}]`))
	f.Add([]byte(`{"a": 1, "b": {"c": 2}}`), "b\x00d", []byte(`{"e": [1, 2]}`))
	f.Add([]byte("{\n  \"a\": {\n  }\n}\n"), "a\x00b", []byte(`"x"`))
	f.Add([]byte(`{"a\/b": "x"}`), "a/b", []byte(`true`))
	f.Add([]byte(`[1]`), "a", []byte(`1`))
	f.Add([]byte(`{"a": "x"}`), "a\x00b", []byte(`1`))
	f.Add([]byte(`{"a": 1, "a": 2}`), "a", []byte(`3`))
	if files, _ := filepath.Glob("../../../examples/*/state.json"); len(files) > 0 {
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data, "managed_policies\x00arn:aws:iam::aws:policy/X", []byte(smallPolicy))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, pathText string, value []byte) {
		path := strings.Split(pathText, "\x00")
		out, err := Set(data, path, value)
		if !json.Valid(value) && err == nil {
			t.Fatalf("Set accepted value %q, which is not JSON", value)
		}
		// Set does not promise to validate the parts of an invalid
		// document that it does not read.
		if err != nil || !json.Valid(data) {
			return
		}
		if k, dup := duplicateKey(data); dup {
			t.Skipf("BUG: Set edits the first of duplicate keys (%q) while encoding/json and statefile.Parse read the last", k)
		}
		for _, k := range path {
			if !utf8.ValidString(k) {
				t.Skipf("BUG: Set writes path key %q, which is not UTF-8, as a different key (U+FFFD) instead of refusing it", k)
			}
		}
		checkSet(t, data, path, value, out)
	})
}

// TestSetDuplicateKeys: encoding/json, and so statefile.Parse, reads the
// last of duplicate keys; an edit of the first is invisible to it.
func TestSetDuplicateKeys(t *testing.T) {
	tests := []struct {
		data string
		path []string
	}{
		{`{"a": 1, "a": 2}`, []string{"a"}},
		{`{"a": {"b": 1}, "a": {"b": 2}}`, []string{"a", "b"}},
		{`{"a": {"c": 1}, "a": {"b": 2}}`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		out, err := Set([]byte(tt.data), tt.path, []byte(`3`))
		if err != nil {
			continue // refusing duplicate keys is fine too
		}
		want := setPath(decode(t, []byte(tt.data)), tt.path, json.Number("3"))
		if diff := cmp.Diff(want, decode(t, out)); diff != "" {
			t.Errorf("Set(%s, %q) as encoding/json reads it (-want +got):\n%s", tt.data, tt.path, diff)
		}
	}
}

// TestSetKeyNotUTF8: a path key that is not UTF-8 cannot be written as a JSON
// string; Set must refuse it rather than write another key.
func TestSetKeyNotUTF8(t *testing.T) {
	out, err := Set([]byte(`{}`), []string{"\xe8"}, []byte(`[]`))
	if err != nil {
		return
	}
	want := map[string]any{"\xe8": []any{}}
	if diff := cmp.Diff(want, decode(t, out)); diff != "" {
		t.Errorf("Set wrote %s (-want +got):\n%s", out, diff)
	}
}

func TestOffset(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		path   []string
		want   string // the text at the offset: a prefix of the value
		wantOK bool
	}{
		{name: "top-level scalar", data: stateDoc, path: []string{"format_version"}, want: `"1",`, wantOK: true},
		{name: "nested object", data: stateDoc, path: []string{"accounts", "111122223333", "buckets", "b1"}, want: "{\n          \"region\"", wantOK: true},
		{name: "nested scalar", data: stateDoc, path: []string{"accounts", "111122223333", "buckets", "b1", "region"}, want: `"us-west-2"`, wantOK: true},
		{name: "null value", data: stateDoc, path: []string{"accounts", "111122223333", "buckets", "b1", "policy"}, want: `null,`, wantOK: true},
		{name: "ARN key", data: stateDoc, path: []string{"accounts", "111122223333", "kms_keys", keyARN, "aliases"}, want: `["alias/app-data"]`, wantOK: true},
		{name: "key with dots and slashes", data: stateDoc, path: []string{"accounts", "111122223333", "buckets", "b1", "objects", "a.csv", "owner"}, want: `"111122223333" }`, wantOK: true},
		{name: "empty object", data: stateDoc, path: []string{"accounts", "444455556666", "iam_roles", "reader", "inline_policies"}, want: "{}\n", wantOK: true},
		{name: "missing key", data: stateDoc, path: []string{"accounts", "111122223333", "buckets", "b2"}},
		{name: "missing leaf", data: stateDoc, path: []string{"accounts", "111122223333", "buckets", "b1", "default_encryption"}},
		{name: "through a string", data: stateDoc, path: []string{"format_version", "x"}},
		{name: "through an array", data: stateDoc, path: []string{"accounts", "111122223333", "kms_keys", keyARN, "aliases", "0"}, want: `"alias/app-data"]`, wantOK: true},
		{name: "array index out of range", data: stateDoc, path: []string{"accounts", "111122223333", "kms_keys", keyARN, "aliases", "1"}},
		{name: "array index not a number", data: stateDoc, path: []string{"accounts", "111122223333", "kms_keys", keyARN, "aliases", "x"}},
		{name: "empty path is the top-level value", data: stateDoc, path: nil, want: "{\n  \"format_version\"", wantOK: true},
		{name: "not an object", data: `[1]`, path: []string{"a"}},
		{name: "invalid JSON", data: `{"a" 1}`, path: []string{"a"}},
		{name: "empty document", data: ``, path: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, ok := Offset([]byte(tt.data), tt.path)
			if ok != tt.wantOK {
				t.Fatalf("Offset ok = %t, want %t", ok, tt.wantOK)
			}
			if !ok {
				if off != 0 {
					t.Errorf("Offset = %d with ok false, want 0", off)
				}
				return
			}
			if got := tt.data[off:]; !strings.HasPrefix(got, tt.want) {
				t.Errorf("text at Offset %d = %.30q…, want it to start with %q", off, got, tt.want)
			}
		})
	}
}

func TestPosition(t *testing.T) {
	const doc = "{\n  \"a\": 1,\n\n  \"b\": \"é\"\n}"
	tests := []struct {
		name      string
		data      string
		offset    int64
		line, col int
	}{
		{name: "start", data: doc, offset: 0, line: 1, col: 1},
		{name: "end of first line", data: doc, offset: 1, line: 1, col: 2},
		{name: "start of second line", data: doc, offset: 2, line: 2, col: 1},
		{name: "inside second line", data: doc, offset: 2 + 7, line: 2, col: 8},
		{name: "empty line", data: doc, offset: 12, line: 3, col: 1},
		{name: "after an empty line", data: doc, offset: 15, line: 4, col: 3},
		{name: "columns count bytes", data: doc, offset: int64(strings.Index(doc, "\"\n}")), line: 4, col: 11},
		{name: "end of data", data: doc, offset: int64(len(doc)), line: 5, col: 2},
		{name: "past the end is clamped", data: doc, offset: int64(len(doc)) + 100, line: 5, col: 2},
		{name: "CRLF", data: "{\r\n\"a\": 1}", offset: 3, line: 2, col: 1},
		{name: "empty data", data: "", offset: 0, line: 1, col: 1},
		{name: "empty data past the end", data: "", offset: 5, line: 1, col: 1},
		{name: "trailing newline", data: "{}\n", offset: 3, line: 2, col: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, col := Position([]byte(tt.data), tt.offset)
			if line != tt.line || col != tt.col {
				t.Errorf("Position(%d) = %d:%d, want %d:%d", tt.offset, line, col, tt.line, tt.col)
			}
		})
	}
}

func TestPathAt(t *testing.T) {
	const doc = `{
  "format_version": "1",
  "accounts": {
    "111122223333": {
      "buckets": {
        "b1": { "region": 5, "objects": {} },
        "b2": { "region": "eu-west-1" }
      },
      "kms_keys": {
        "arn:aws:kms:us-west-2:111122223333:key/k": { "aliases": ["alias/a", 7, ["x", {"y": false}]] }
      }
    }
  },
  "list": [{"Statement": [{"Effect": "Allow"}, {"Effect": 3}]}],
  "last": {}
}`
	// at returns the offset just past the first occurrence of marker,
	// which is where encoding/json reports a type error for a literal; or,
	// when marker ends in { or [, just past the bracket, where it reports
	// one for an object or array.
	at := func(marker string) int64 {
		i := strings.Index(doc, marker)
		if i < 0 || strings.Count(doc, marker) != 1 {
			t.Fatalf("test fixture: marker %q must occur once", marker)
		}
		return int64(i + len(marker))
	}
	// in returns the offset of the first byte of marker.
	in := func(marker string) int64 { return at(marker) - int64(len(marker)) }
	tests := []struct {
		name   string
		offset int64
		want   []string
	}{
		{name: "root opening", offset: 1, want: nil},
		{name: "start of the document", offset: 0, want: nil},
		{name: "top-level scalar end", offset: at(`"format_version": "1"`), want: []string{"format_version"}},
		{name: "top-level scalar middle", offset: at(`"format_version": "`), want: []string{"format_version"}},
		{name: "map keys are in the path", offset: at(`"region": 5`), want: []string{"accounts", "111122223333", "buckets", "b1", "region"}},
		{name: "object just past its brace", offset: at(`"b1": {`), want: []string{"accounts", "111122223333", "buckets", "b1"}},
		{name: "empty object just past its brace", offset: at(`"objects": {`), want: []string{"accounts", "111122223333", "buckets", "b1", "objects"}},
		{name: "second sibling", offset: at(`"region": "eu-west-1"`), want: []string{"accounts", "111122223333", "buckets", "b2", "region"}},
		{name: "ARN key", offset: at(`"aliases": [`), want: []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-west-2:111122223333:key/k", "aliases"}},
		{name: "array index 0", offset: at(`"alias/a"`), want: []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-west-2:111122223333:key/k", "aliases", "0"}},
		{name: "array index 1", offset: at(`7`), want: []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-west-2:111122223333:key/k", "aliases", "1"}},
		{name: "nested array", offset: at(`["x"`), want: []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-west-2:111122223333:key/k", "aliases", "2", "0"}},
		{name: "object in a nested array", offset: at(`"y": false`), want: []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-west-2:111122223333:key/k", "aliases", "2", "1", "y"}},
		{name: "list of statements", offset: at(`"Effect": 3`), want: []string{"list", "0", "Statement", "1", "Effect"}},
		{name: "after nested containers close", offset: at(`"last": {`), want: []string{"last"}},
		{name: "past the end", offset: int64(len(doc)) + 10, want: nil},
		{
			name: "closing brace of a nested object", offset: in(`}
      },
      "kms_keys"`),
			want: []string{"accounts", "111122223333", "buckets", "b2"},
		},
		{
			name: "just past a closed array", offset: at(`{"y": false}]]`),
			want: []string{"accounts", "111122223333", "kms_keys", "arn:aws:kms:us-west-2:111122223333:key/k", "aliases"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PathAt([]byte(doc), tt.offset)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PathAt(%d) mismatch (-want +got):\n%s", tt.offset, diff)
			}
		})
	}
}

// TestPathAtTypeErrors checks PathAt against the offsets encoding/json
// really reports, which is what PathAt is for.
func TestPathAtTypeErrors(t *testing.T) {
	type bucket struct {
		Region  string `json:"region"`
		Objects map[string]*struct {
			Owner string `json:"owner"`
		} `json:"objects"`
		Enabled bool `json:"enabled"`
	}
	type doc struct {
		Accounts map[string]map[string]*bucket `json:"accounts"`
		Aliases  []string                      `json:"aliases"`
	}
	tests := []struct {
		data string
		want string
	}{
		{`{"accounts": {"111122223333": {"b1": {"region": 5}}}}`, "accounts.111122223333.b1.region"},
		{"{\n \"accounts\": {\n  \"111122223333\": {\n   \"b1\": {\"region\": \"x\"},\n   \"b2\": {\"enabled\": \"yes\"}}}}", "accounts.111122223333.b2.enabled"},
		{`{"accounts": {"111122223333": {"b1": {"objects": {"k/1.csv": {"owner": []}}}}}}`, "accounts.111122223333.b1.objects.k/1.csv.owner"},
		{`{"accounts": {"111122223333": {"b1": {"objects": {"k": 7}}}}}`, "accounts.111122223333.b1.objects.k"},
		{`{"accounts": {"111122223333": []}}`, "accounts.111122223333"},
		{`{"accounts": []}`, "accounts"},
		{`{"aliases": ["a", "b", {}]}`, "aliases.2"},
		{`{"aliases": ["a", 5]}`, "aliases.1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var d doc
			err := json.Unmarshal([]byte(tt.data), &d)
			typ, ok := err.(*json.UnmarshalTypeError)
			if !ok {
				t.Fatalf("Unmarshal error = %v, want a type error", err)
			}
			got := strings.Join(PathAt([]byte(tt.data), typ.Offset), ".")
			if got != tt.want {
				t.Errorf("PathAt(offset %d) = %q, want %q", typ.Offset, got, tt.want)
			}
		})
	}
}

func ExampleSet() {
	data := []byte(`{
  "a": 1,
  "b": {}
}`)
	out, _ := Set(data, []string{"b", "c"}, []byte(`{"d":[true]}`))
	fmt.Println(string(out))
	// Output:
	// {
	//   "a": 1,
	//   "b": {
	//     "c": {
	//       "d": [
	//         true
	//       ]
	//     }
	//   }
	// }
}

func TestSetArrayElement(t *testing.T) {
	data := "{\n  \"s\": [\n    {\"a\": 1},\n    {\"b\": 2}\n  ]\n}\n"
	got, err := Set([]byte(data), []string{"s", "1"}, []byte(`{"c":3}`))
	if err != nil {
		t.Fatal(err)
	}
	// A one-line element stays on one line.
	want := "{\n  \"s\": [\n    {\"a\": 1},\n    {\"c\":3}\n  ]\n}\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := Set([]byte(data), []string{"s", "2"}, []byte(`1`)); err == nil {
		t.Error("Set past the end of an array succeeded; arrays are grown with Append")
	}
}

func TestAppend(t *testing.T) {
	for _, tt := range []struct {
		name, data, value, want string
		path                    []string
	}{
		{
			name: "multi-line array keeps the elements' indentation",
			data: "{\n    \"s\": [\n        {\"a\": 1}\n    ]\n}\n", path: []string{"s"}, value: `{"b":2}`,
			want: "{\n    \"s\": [\n        {\"a\": 1},\n        {\n            \"b\": 2\n        }\n    ]\n}\n",
		},
		{
			name: "one-line array stays on one line",
			data: `{"s": ["x", "y"]}`, path: []string{"s"}, value: `"z"`,
			want: `{"s": ["x", "y", "z"]}`,
		},
		{
			name: "empty array grows into a block",
			data: "{\n  \"p\": {\n    \"Statement\": []\n  }\n}\n", path: []string{"p", "Statement"}, value: `{"Effect":"Allow"}`,
			want: "{\n  \"p\": {\n    \"Statement\": [\n      {\n        \"Effect\": \"Allow\"\n      }\n    ]\n  }\n}\n",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Append([]byte(tt.data), tt.path, []byte(tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("output is not JSON:\n%s", got)
			}
		})
	}
	for _, tt := range []struct {
		name, data string
		path       []string
	}{
		{"not an array", `{"s": {}}`, []string{"s"}},
		{"missing", `{"s": []}`, []string{"t"}},
	} {
		if _, err := Append([]byte(tt.data), tt.path, []byte(`1`)); err == nil {
			t.Errorf("%s: Append succeeded", tt.name)
		}
	}
}

func TestDelete(t *testing.T) {
	for _, tt := range []struct {
		name, data, want string
		path             []string
	}{
		{"last member", "{\n  \"a\": 1,\n  \"b\": {\"x\": 2}\n}\n", "{\n  \"a\": 1\n}\n", []string{"b"}},
		{"first member", "{\n  \"a\": 1,\n  \"b\": 2\n}\n", "{\n  \"b\": 2\n}\n", []string{"a"}},
		{"middle member", `{"a": 1, "b": 2, "c": 3}`, `{"a": 1, "c": 3}`, []string{"b"}},
		{"only member", "{\"p\": {\n  \"k\": {\"x\": 1}\n}}", `{"p": {}}`, []string{"p", "k"}},
		{"key with an escaped quote", `{"a\"b": 1, "c": 2}`, `{"c": 2}`, []string{`a"b`}},
		{"ARN key", `{"k": {"arn:aws:kms:us-west-2:111122223333:key/x": 1, "y": 2}}`, `{"k": {"y": 2}}`, []string{"k", "arn:aws:kms:us-west-2:111122223333:key/x"}},
		{"missing member", `{"a": 1}`, `{"a": 1}`, []string{"b"}},
		{"missing parent", `{"a": 1}`, `{"a": 1}`, []string{"x", "y"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Delete([]byte(tt.data), tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

// exampleObjects calls fn with each example state file and the paths of
// every object in it (the top-level one as an empty path).
func exampleObjects(t *testing.T, fn func(file string, data []byte, objects [][]string)) {
	t.Helper()
	files, err := filepath.Glob("../../../examples/*/state.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example state files: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var objects [][]string
		var walk func(v any, p []string)
		walk = func(v any, p []string) {
			m, ok := v.(map[string]any)
			if !ok {
				return
			}
			objects = append(objects, slices.Clone(p))
			for k, child := range m {
				walk(child, append(slices.Clone(p), k))
			}
		}
		walk(decode(t, data), nil)
		fn(file, data, objects)
	}
}

// SetAt, AppendAt and DeleteAt from an object inside the file edit exactly
// as Set, Append and Delete do from the top with the whole path.
func TestEditsAtAnObjectMatchEditsFromTheTop(t *testing.T) {
	n := 0
	exampleObjects(t, func(file string, data []byte, objects [][]string) {
		for _, obj := range objects {
			if len(obj) == 0 {
				continue
			}
			at, _, ok := Span(data, obj)
			if !ok {
				t.Fatalf("%s: no span for %q", file, obj)
			}
			for _, rel := range [][]string{{"x_new"}, {"x_new", "deeper"}, {"policy"}, {"policy", "Statement"}} {
				full := append(slices.Clone(obj), rel...)
				want, wantErr := Set(data, full, []byte(smallPolicy))
				got, gotErr := SetAt(data, at, rel, []byte(smallPolicy))
				if (wantErr == nil) != (gotErr == nil) || !bytes.Equal(want, got) {
					t.Errorf("%s: SetAt(%q, %q) differs from Set(%q): %v / %v", file, obj, rel, full, gotErr, wantErr)
				}
				want, wantErr = Append(data, full, []byte(`{"a":1}`))
				got, gotErr = AppendAt(data, at, rel, []byte(`{"a":1}`))
				if (wantErr == nil) != (gotErr == nil) || !bytes.Equal(want, got) {
					t.Errorf("%s: AppendAt(%q, %q) differs from Append: %v / %v", file, obj, rel, gotErr, wantErr)
				}
				want, wantErr = Delete(data, full)
				got, gotErr = DeleteAt(data, at, rel)
				if (wantErr == nil) != (gotErr == nil) || !bytes.Equal(want, got) {
					t.Errorf("%s: DeleteAt(%q, %q) differs from Delete: %v / %v", file, obj, rel, gotErr, wantErr)
				}
				n++
			}
		}
	})
	t.Logf("%d edits compared", n)
}

// Edits in a window on a value give the text the same edits give made on
// the whole text.
func TestWindowEditsMatchEditsOfTheWholeText(t *testing.T) {
	n := 0
	exampleObjects(t, func(file string, data []byte, objects [][]string) {
		for _, p := range objects {
			if _, ok := pathValue(decode(t, data), p).(map[string]any)["Statement"].([]any); !ok {
				continue
			}
			stmt0, list := append(slices.Clone(p), "Statement", "0"), append(slices.Clone(p), "Statement")
			whole, err := Set(data, stmt0, []byte(`{"Sid":"A","Effect":"Allow"}`))
			if err == nil {
				whole, err = Append(whole, list, []byte(`{"Sid":"B","Effect":"Deny"}`))
			}
			if err != nil {
				t.Fatal(err)
			}
			w, err := OpenWindow(data, -1, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Set([]string{"Statement", "0"}, []byte(`{"Sid":"A","Effect":"Allow"}`)); err != nil {
				t.Fatal(err)
			}
			if err := w.Append([]string{"Statement"}, []byte(`{"Sid":"B","Effect":"Deny"}`)); err != nil {
				t.Fatal(err)
			}
			if got := w.Close(data); !bytes.Equal(got, whole) {
				t.Errorf("%s %q: the window's edits differ from the whole text's:\n%s\nwant:\n%s", file, p, got, whole)
			}
			n++
		}
	})
	if n == 0 {
		t.Fatal("no policy in the examples")
	}
	t.Logf("%d policies edited in windows", n)
}

// pathValue is the value at a path of object keys.
func pathValue(v any, path []string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestKeyBefore(t *testing.T) {
	data := []byte(`{"a": {"x": 1}, "b.c" :{}, "q\"uote": {}, "list": [{}]}`)
	for _, tc := range []struct {
		value string
		key   string
		ok    bool
	}{
		{`{"x": 1}`, "a", true},
		{`{}, "q`, "b.c", true},
		{`{}, "list"`, "", false}, // a key with an escaped quote is not read backwards
		{`{}]`, "", false},        // an array element has no key
	} {
		start := int64(strings.Index(string(data), tc.value))
		key, ok := KeyBefore(data, start)
		if key != tc.key || ok != tc.ok {
			t.Errorf("KeyBefore at %q = %q, %v; want %q, %v", tc.value, key, ok, tc.key, tc.ok)
		}
	}
	if _, ok := KeyBefore(data, 0); ok {
		t.Error("KeyBefore of the top-level value found a key")
	}
}

// A window on an object takes edits, reads values inside it, and can drop
// its edits; closed, the text holds them, indented as the text is.
func TestWindowOnAnObject(t *testing.T) {
	data := []byte("{\n  \"a\": {\n    \"list\": [1],\n    \"gone\": true\n  },\n  \"b\": 2\n}\n")
	start := int64(strings.Index(string(data), "{\n    \"list\""))
	w, err := OpenWindowAt(data, start)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := w.Value([]string{"list", "0"}); !ok || string(v) != "1" {
		t.Errorf("Value(list.0) = %q, %v", v, ok)
	}
	if v, ok := w.Value(nil); !ok || !strings.HasPrefix(string(v), "{") || !strings.HasSuffix(string(v), "}") {
		t.Errorf("Value() = %q, %v", v, ok)
	}
	text, _ := w.Text()
	saved := slices.Clone(text)
	if err := w.Set([]string{"new"}, []byte(`{"k": "v"}`)); err != nil {
		t.Fatal(err)
	}
	w.Reset(saved)
	if err := w.Append([]string{"list"}, []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete([]string{"gone"}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": {\n    \"list\": [1, 2]\n  },\n  \"b\": 2\n}\n"
	if got := string(w.Close(data)); got != want {
		t.Errorf("closed:\n%s\nwant:\n%s", got, want)
	}
	if _, err := OpenWindowAt(data, 1); err == nil {
		t.Error("a window opened where no object starts")
	}
}
