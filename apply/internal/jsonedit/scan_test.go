package jsonedit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValueEnd(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		// value is the text ValueEnd must find at the start of data
		// (after its whitespace).
		value string
	}{
		{"string", `"abc", 1`, `"abc"`},
		{"escaped quote", `"a\"b" }`, `"a\"b"`},
		{"escaped backslash before the quote", `"a\\" ]`, `"a\\"`},
		{"three backslashes", `"a\\\"b"`, `"a\\\"b"`},
		{"brackets in a string", `{"a": "}]{["}, 2`, `{"a": "}]{["}`},
		{"nested", "[{\"a\": [1, {\"b\": null}]}, {}]\n", "[{\"a\": [1, {\"b\": null}]}, {}]"},
		{"leading whitespace", " \n\t{}", "{}"},
		{"true", "true,", "true"},
		{"null at the end", "null", "null"},
		{"number", "-12.5e+3}", "-12.5e+3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			end, err := ValueEnd([]byte(tt.data), 0)
			if err != nil {
				t.Fatalf("ValueEnd: %v", err)
			}
			start := len(tt.data) - len(strings.TrimLeft(tt.data, " \t\r\n"))
			if got := tt.data[start:end]; got != tt.value {
				t.Errorf("ValueEnd found %q, want %q", got, tt.value)
			}
		})
	}
	for _, data := range []string{``, `   `, `"abc`, `"abc\"`, `{"a": 1`, `{]`, `[}`, `[{]}`, `Enabled`, `nul`, `truex`, `}`, `:`} {
		if end, err := ValueEnd([]byte(data), 0); err == nil {
			t.Errorf("ValueEnd(%q) = %d, want an error", data, end)
		}
	}
}

func TestMembers(t *testing.T) {
	data := []byte(`{ "a": 1, "a\/b" : {"x": [2]}, "\u00e9": "v", "a": null }`)
	type m struct {
		Key, Value string
	}
	var got []m
	end, err := Members(data, 0, func(key string, value int64) (int64, error) {
		end, err := ValueEnd(data, value)
		got = append(got, m{key, string(data[value:end])})
		return end, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []m{{"a", "1"}, {"a/b", `{"x": [2]}`}, {"é", `"v"`}, {"a", "null"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if end != int64(len(data)) {
		t.Errorf("end = %d, want %d", end, len(data))
	}
	for _, bad := range []string{`{"a" 1}`, `{"a": 1,}`, `{"a": 1 "b": 2}`, `{a: 1}`, `{"a": 1`, `[1]`, `{"a":`} {
		_, err := Members([]byte(bad), 0, func(_ string, value int64) (int64, error) { return ValueEnd([]byte(bad), value) })
		if err == nil {
			t.Errorf("Members(%s) succeeded, want an error", bad)
		}
	}
}

// decodedSpan finds the value at path with encoding/json, member by
// member: what Span must agree with on valid JSON.
func decodedSpan(data []byte, path []string) (start, end int64, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return 0, 0, false
	}
	cur := span{dec.InputOffset() - int64(len(raw)), dec.InputOffset()}
	for _, k := range path {
		var next *span
		sub := json.NewDecoder(bytes.NewReader(data[cur.start:cur.end]))
		open, _ := sub.Token()
		// Arrays are indexed as strconv.Atoi reads the key.
		index, indexErr := strconv.Atoi(k)
		for i := 0; sub.More(); i++ {
			var key any
			if open == json.Delim('{') {
				key, _ = sub.Token()
			}
			var v json.RawMessage
			if sub.Decode(&v) != nil {
				return 0, 0, false
			}
			if key == k || open == json.Delim('[') && indexErr == nil && i == index {
				e := cur.start + sub.InputOffset()
				next = &span{e - int64(len(v)), e}
			}
		}
		if next == nil {
			return 0, 0, false
		}
		cur = *next
	}
	return cur.start, cur.end, true
}

// TestSpanEverywhereInExamples finds every value of the example state files
// and compares each with encoding/json's reading.
func TestSpanEverywhereInExamples(t *testing.T) {
	files, err := filepath.Glob("../../../examples/*/state.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example state files: %v", err)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(v any, p []string)
		walk = func(v any, p []string) {
			checkSpan(t, data, p)
			checkSpan(t, data, append(slices.Clone(p), "x_missing"))
			n++
			switch v := v.(type) {
			case map[string]any:
				for k, child := range v {
					walk(child, append(slices.Clone(p), k))
				}
			case []any:
				for i, child := range v {
					walk(child, append(slices.Clone(p), strconv.Itoa(i)))
				}
			}
		}
		walk(decode(t, data), nil)
	}
	t.Logf("%d values found", n)
}

func checkSpan(t *testing.T, data []byte, path []string) {
	t.Helper()
	start, end, ok := Span(data, path)
	wantStart, wantEnd, wantOK := decodedSpan(data, path)
	if start != wantStart || end != wantEnd || ok != wantOK {
		t.Fatalf("Span(%q) = %d, %d, %t; encoding/json reads %d, %d, %t", path, start, end, ok, wantStart, wantEnd, wantOK)
	}
	if off, okOff := Offset(data, path); off != start || okOff != ok {
		t.Fatalf("Offset(%q) = %d, %t; Span starts at %d, %t", path, off, okOff, start, ok)
	}
}

// FuzzSpan checks that on valid JSON, Span finds what encoding/json reads,
// duplicate keys and escapes included; on anything else, that it does not
// panic. The path is the keys of pathText separated by NUL bytes.
func FuzzSpan(f *testing.F) {
	f.Add([]byte(stateDoc), "accounts\x00111122223333\x00buckets\x00b1\x00objects")
	f.Add([]byte(stateDoc), "accounts\x00111122223333\x00kms_keys\x00"+keyARN+"\x00aliases\x000")
	f.Add([]byte(`{"a": 1, "a": {"b": [true, "x\"y"]}}`), "a\x00b\x001")
	f.Add([]byte(`{"a\/b": {"\u00e9": null}}`), "a/b\x00é")
	f.Add([]byte(`[{"a": "}"}, [1, 2]]`), "1\x000")
	f.Add([]byte(`{"a": "\\", "b": 2}`), "b")
	f.Add([]byte(`{"a": [1, 2}`), "a")
	f.Fuzz(func(t *testing.T, data []byte, pathText string) {
		var path []string
		if pathText != "" {
			path = strings.Split(pathText, "\x00")
		}
		start, end, ok := Span(data, path)
		if !json.Valid(data) {
			return
		}
		wantStart, wantEnd, wantOK := decodedSpan(data, path)
		if start != wantStart || end != wantEnd || ok != wantOK {
			t.Fatalf("Span(%q) = %d, %d, %t; encoding/json reads %d, %d, %t", path, start, end, ok, wantStart, wantEnd, wantOK)
		}
	})
}

// TestEditIsCheckedInPlace: what an edit puts in or takes out must be, in
// its place, a whole value, member or element; anything else is refused
// and the document is not changed.
func TestEditIsCheckedInPlace(t *testing.T) {
	data := []byte(`{"a": 1, "b": [2]}`)
	valueA := int64(strings.Index(string(data), "1"))
	afterA := valueA + 1
	afterTwo := int64(strings.Index(string(data), "2")) + 1
	for _, tt := range []struct {
		name string
		edit func() ([]byte, error)
		want string // "" when refused
	}{
		{name: "a value for a value", edit: func() ([]byte, error) { return put(data, valueA, afterA, []byte(`{"x": 3}`), "", "") }, want: `{"a": {"x": 3}, "b": [2]}`},
		{name: "half a value", edit: func() ([]byte, error) { return put(data, valueA, afterA, []byte(`{"x": 3`), "", "") }},
		{name: "two values", edit: func() ([]byte, error) { return put(data, valueA, afterA, []byte(`3, 4`), "", "") }},
		{name: "a member after a member", edit: func() ([]byte, error) { return put(data, afterA, afterA, []byte(`, "c": 3`), `{"":0`, "}") }, want: `{"a": 1, "c": 3, "b": [2]}`},
		{name: "a member without its comma", edit: func() ([]byte, error) { return put(data, afterA, afterA, []byte(` "c": 3`), `{"":0`, "}") }},
		{name: "a member that closes the object", edit: func() ([]byte, error) { return put(data, afterA, afterA, []byte(`, "c": 3}`), `{"":0`, "}") }},
		{name: "an element after an element", edit: func() ([]byte, error) { return put(data, afterTwo, afterTwo, []byte(`, 3`), "[0", "]") }, want: `{"a": 1, "b": [2, 3]}`},
		{name: "an element without its comma", edit: func() ([]byte, error) { return put(data, afterTwo, afterTwo, []byte(` 3`), "[0", "]") }},
		{name: "a comma and the member after it", edit: func() ([]byte, error) { return cut(data, afterA, int64(len(data)-1), `{"":0`, "}") }, want: `{"a": 1}`},
		{name: "a comma and half a member", edit: func() ([]byte, error) { return cut(data, afterA, int64(len(data)-2), `{"":0`, "}") }},
		{name: "the first member and its comma", edit: func() ([]byte, error) { return cut(data, 1, afterA+2, "{", `"":0}`) }, want: `{"b": [2]}`},
		{name: "the first member without its comma", edit: func() ([]byte, error) { return cut(data, 1, afterA, "{", `"":0}`) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := string(data)
			got, err := tt.edit()
			if string(data) != before {
				t.Fatalf("the edit changed its input")
			}
			if tt.want == "" {
				if err == nil {
					t.Fatalf("edit made %s, want it refused", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("edit made %s, want %s", got, tt.want)
			}
		})
	}
}
