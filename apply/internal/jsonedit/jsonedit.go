// Package jsonedit changes one value of a JSON document in place and leaves
// every other byte as it was: key order, formatting and fields it does not
// know all survive. kmsgrant edits state files that people write by hand and
// review in diffs, so a one-statement change must be a one-statement diff.
package jsonedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Set returns data with the value at path (a list of object keys) replaced
// by value, creating missing objects along the path. Objects and arrays are
// written indented to match the line they land on.
func Set(data []byte, path []string, value []byte) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("jsonedit: empty path")
	}
	if !json.Valid(value) {
		return nil, errors.New("jsonedit: value is not JSON")
	}
	loc, err := locate(data, path)
	if err != nil {
		return nil, err
	}
	if loc.found {
		indent := lineIndent(data, loc.start)
		v := format(value, indent)
		return splice(data, loc.start, loc.end, v), nil
	}
	// Wrap the value in objects for the keys that do not exist yet.
	rest := path[loc.depth:]
	for i := len(rest) - 1; i >= 1; i-- {
		k, _ := json.Marshal(rest[i])
		value = []byte(fmt.Sprintf("{%s:%s}", k, value))
	}
	key, _ := json.Marshal(rest[0])
	closeAt := loc.end - 1 // the parent's closing brace
	between := data[loc.lastEnd:closeAt]
	sep := ","
	if loc.empty {
		sep = ""
	}
	if loc.empty && isContainer(value) {
		// An empty object such as "inline_policies": {} grows into an
		// indented block, like the file around it.
		outer := lineIndent(data, loc.open)
		member := outer + "  "
		insert := fmt.Sprintf("{\n%s%s: %s\n%s}", member, key, format(value, member), outer)
		return splice(data, loc.open, loc.end, []byte(insert)), nil
	}
	if bytes.Contains(between, []byte("\n")) {
		closing := lineIndent(data, closeAt)
		member := closing + "  "
		insert := fmt.Sprintf("%s\n%s%s: %s", sep, member, key, format(value, member))
		// Insert right after the last member, keeping the newline and
		// indentation that precede the closing brace.
		return splice(data, loc.lastEnd, loc.lastEnd, []byte(insert)), nil
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, value)
	insert := fmt.Sprintf("%s %s: %s", sep, key, compact.Bytes())
	if loc.empty {
		insert += " "
	}
	return splice(data, loc.lastEnd, loc.lastEnd, []byte(insert)), nil
}

type location struct {
	found bool
	// start and end span the value when found; otherwise end is just past
	// the closing brace of the deepest existing object.
	start, end int64
	// depth is how many keys of the path exist.
	depth int
	// open is the offset of the deepest existing object's opening brace,
	// lastEnd the end of its last member (or of the brace when empty).
	open, lastEnd int64
	empty         bool
}

func locate(data []byte, path []string) (location, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := expectObject(dec); err != nil {
		return location{}, err
	}
	open := dec.InputOffset() - 1
	for depth := 0; ; {
		lastEnd, empty := dec.InputOffset(), true
		for dec.More() {
			empty = false
			tok, err := dec.Token()
			if err != nil {
				return location{}, err
			}
			key, _ := tok.(string)
			if key == path[depth] && depth == len(path)-1 {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return location{}, err
				}
				end := dec.InputOffset()
				return location{found: true, start: end - int64(len(raw)), end: end}, nil
			}
			if key == path[depth] {
				if err := expectObject(dec); err != nil {
					return location{}, fmt.Errorf("%s: %w", strings.Join(path[:depth+1], "."), err)
				}
				depth++
				open = dec.InputOffset() - 1
				lastEnd, empty = dec.InputOffset(), true
				continue
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return location{}, err
			}
			lastEnd = dec.InputOffset()
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return location{}, err
		}
		return location{depth: depth, end: dec.InputOffset(), open: open, lastEnd: lastEnd, empty: empty}, nil
	}
}

func expectObject(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return errors.New("empty document")
	}
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("not a JSON object")
	}
	return nil
}

// lineIndent returns the leading whitespace of the line holding offset.
func lineIndent(data []byte, offset int64) string {
	lineStart := bytes.LastIndexByte(data[:offset], '\n') + 1
	i := lineStart
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	return string(data[lineStart:i])
}

// format indents objects and arrays so that they continue the line they
// start on; scalars are written compactly.
func format(value []byte, indent string) []byte {
	var out bytes.Buffer
	trimmed := bytes.TrimSpace(value)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if err := json.Indent(&out, trimmed, indent, "  "); err == nil {
			return out.Bytes()
		}
	}
	_ = json.Compact(&out, trimmed)
	return out.Bytes()
}

func isContainer(value []byte) bool {
	v := bytes.TrimSpace(value)
	return len(v) > 0 && (v[0] == '{' || v[0] == '[')
}

func splice(data []byte, start, end int64, insert []byte) []byte {
	out := make([]byte, 0, len(data)-int(end-start)+len(insert))
	out = append(out, data[:start]...)
	out = append(out, insert...)
	return append(out, data[end:]...)
}

// Offset returns the byte offset of the value at path, for error messages;
// ok is false when the path does not exist.
func Offset(data []byte, path []string) (offset int64, ok bool) {
	if len(path) == 0 {
		return 0, false
	}
	loc, err := locate(data, path)
	if err != nil || !loc.found {
		return 0, false
	}
	return loc.start, true
}

// Position turns a byte offset into a 1-based line and column.
func Position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// PathAt returns the path of object keys and array indexes to the value
// that ends at or spans offset: encoding/json reports type errors with an
// offset and a path that leaves out map keys, which are the interesting part
// of a state file ("accounts.111122223333.buckets.b1.region").
func PathAt(data []byte, offset int64) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		key    string
		index  int
		// expectKey is set in an object when the next token is a key.
		expectKey bool
	}
	var stack []*frame
	path := func() []string {
		var p []string
		for _, f := range stack {
			if f.object {
				p = append(p, f.key)
			} else {
				p = append(p, fmt.Sprint(f.index))
			}
		}
		return p
	}
	// valueDone advances the parent past one value.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.object {
			top.expectKey = true
		} else {
			top.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.object && top.expectKey {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					valueDone()
					continue
				}
				top.key, _ = tok.(string)
				top.expectKey = false
				continue
			}
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{', '[':
				if dec.InputOffset() >= offset {
					return path()
				}
				stack = append(stack, &frame{object: d == '{', expectKey: d == '{'})
			case ']', '}':
				stack = stack[:len(stack)-1]
				valueDone()
			}
		default:
			if dec.InputOffset() >= offset {
				return path()
			}
			valueDone()
		}
	}
}
