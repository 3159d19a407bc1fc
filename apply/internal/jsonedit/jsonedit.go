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
	"strconv"
	"strings"
	"unicode/utf8"
)

// Set returns data with the value at path (a list of object keys) replaced
// by value, creating missing objects along the path (and replacing a null
// one). Objects and arrays are written indented to match the file. Where a
// key appears twice in one object, the last one is edited, since that is
// the one encoding/json reads.
func Set(data []byte, path []string, value []byte) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("jsonedit: empty path")
	}
	for _, k := range path {
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("jsonedit: key %q is not valid UTF-8", k)
		}
	}
	if !json.Valid(value) {
		return nil, errors.New("jsonedit: value is not JSON")
	}
	loc, err := locate(data, path)
	if err != nil {
		return nil, err
	}
	unit := indentUnit(data)
	rest := path[loc.depth:]
	if loc.found {
		if len(rest) > 0 {
			// A null object on the way: it becomes the objects the
			// rest of the path needs.
			value = nest(rest, value)
		}
		v := format(value, lineIndent(data, loc.value.start), unit)
		if old := data[loc.value.start:loc.value.end]; isContainer(old) && !bytes.Contains(old, []byte("\n")) {
			// A one-line object or array stays on one line.
			v = compact(value)
		}
		return splice(data, loc.value.start, loc.value.end, v), nil
	}
	// Wrap the value in objects for the keys that do not exist yet.
	value = nest(rest[1:], value)
	key, _ := json.Marshal(rest[0])
	obj := loc.object
	closeAt := obj.end - 1
	multiline := bytes.Contains(data[obj.start:obj.end], []byte("\n"))
	switch {
	case loc.last == nil && isContainer(value) || loc.last == nil && multiline:
		// An empty object such as "inline_policies": {} grows into an
		// indented block, like the file around it.
		outer := lineIndent(data, obj.start)
		member := outer + unit
		insert := fmt.Sprintf("{\n%s%s: %s\n%s}", member, key, format(value, member, unit), outer)
		return splice(data, obj.start, obj.end, []byte(insert)), nil
	case loc.last == nil:
		insert := fmt.Sprintf("{%s: %s}", key, compact(value))
		return splice(data, obj.start, obj.end, []byte(insert)), nil
	case bytes.Contains(data[loc.last.end:closeAt], []byte("\n")):
		// Insert right after the last member, indented like it.
		member := lineIndent(data, loc.last.start)
		insert := fmt.Sprintf(",\n%s%s: %s", member, key, format(value, member, unit))
		return splice(data, loc.last.end, loc.last.end, []byte(insert)), nil
	}
	insert := fmt.Sprintf(", %s: %s", key, compact(value))
	return splice(data, loc.last.end, loc.last.end, []byte(insert)), nil
}

// nest wraps value in one object per key, innermost last.
func nest(keys []string, value []byte) []byte {
	for i := len(keys) - 1; i >= 0; i-- {
		k, _ := json.Marshal(keys[i])
		value = []byte(fmt.Sprintf("{%s:%s}", k, value))
	}
	return value
}

// span is a byte range [start, end) of data.
type span struct{ start, end int64 }

type location struct {
	// found: value spans the value at path[:depth]. With depth short of
	// the path, that value is a null to replace with objects.
	found bool
	value span
	// depth is how many keys of the path exist.
	depth int
	// object is the deepest existing object on the path, when not found;
	// last is the value of its last member, nil when it is empty.
	object span
	last   *span
}

func locate(data []byte, path []string) (location, error) {
	cur, err := rootObject(data)
	if err != nil {
		return location{}, err
	}
	for depth, key := range path {
		where := strings.Join(path[:depth], ".")
		var v span
		if data[cur.start] == '[' {
			// Arrays are walked by index, never grown by Set.
			elems, err := arrayElements(data, cur)
			if err != nil {
				return location{}, fmt.Errorf("%s: %w", where, err)
			}
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(elems) {
				return location{}, fmt.Errorf("%s: no element %s in the array", where, key)
			}
			v = elems[i]
		} else {
			members, err := objectMembers(data, cur)
			if err != nil {
				return location{}, fmt.Errorf("%s: %w", where, err)
			}
			var match *member
			for i := range members {
				if members[i].key == key {
					match = &members[i]
				}
			}
			if match == nil {
				loc := location{depth: depth, object: cur}
				if len(members) > 0 {
					loc.last = &members[len(members)-1].value
				}
				return loc, nil
			}
			v = match.value
		}
		if depth == len(path)-1 || string(data[v.start:v.end]) == "null" {
			return location{found: true, value: v, depth: depth + 1}, nil
		}
		if data[v.start] != '{' && data[v.start] != '[' {
			return location{}, fmt.Errorf("%s: not a JSON object", strings.Join(path[:depth+1], "."))
		}
		cur = v
	}
	panic("unreachable")
}

// Append returns data with value added at the end of the array at path,
// indented like the elements before it.
func Append(data []byte, path []string, value []byte) ([]byte, error) {
	if !json.Valid(value) {
		return nil, errors.New("jsonedit: value is not JSON")
	}
	loc, err := locate(data, path)
	if err != nil {
		return nil, err
	}
	if !loc.found || loc.depth != len(path) || data[loc.value.start] != '[' {
		return nil, fmt.Errorf("%s: not an array", strings.Join(path, "."))
	}
	arr := loc.value
	elems, err := arrayElements(data, arr)
	if err != nil {
		return nil, err
	}
	unit := indentUnit(data)
	if len(elems) == 0 {
		outer := lineIndent(data, arr.start)
		inner := outer + unit
		insert := fmt.Sprintf("[\n%s%s\n%s]", inner, format(value, inner, unit), outer)
		return splice(data, arr.start, arr.end, []byte(insert)), nil
	}
	last := elems[len(elems)-1]
	if bytes.Contains(data[last.end:arr.end-1], []byte("\n")) {
		indent := lineIndent(data, last.start)
		insert := fmt.Sprintf(",\n%s%s", indent, format(value, indent, unit))
		return splice(data, last.end, last.end, []byte(insert)), nil
	}
	return splice(data, last.end, last.end, append([]byte(", "), compact(value)...)), nil
}

func rootObject(data []byte) (span, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return span{}, errors.New("empty document")
		}
		return span{}, err
	}
	end := dec.InputOffset()
	if len(raw) == 0 || raw[0] != '{' {
		return span{}, errors.New("not a JSON object")
	}
	return span{end - int64(len(raw)), end}, nil
}

type member struct {
	key   string
	value span
}

// objectMembers lists the members of the object at obj, in order.
func objectMembers(data []byte, obj span) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data[obj.start:obj.end]))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := obj.start + dec.InputOffset()
		out = append(out, member{key: key, value: span{end - int64(len(raw)), end}})
	}
	return out, nil
}

// indentUnit guesses one level of the file's indentation from the first
// member of the top-level object: two spaces when it cannot tell.
func indentUnit(data []byte) string {
	root, err := rootObject(data)
	if err != nil {
		return "  "
	}
	members, err := objectMembers(data, root)
	if err != nil || len(members) == 0 {
		return "  "
	}
	first := members[0].value.start
	if !bytes.Contains(data[root.start:first], []byte("\n")) {
		return "  "
	}
	if unit := lineIndent(data, first); unit != "" {
		return unit
	}
	return "  "
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
func format(value []byte, indent, unit string) []byte {
	var out bytes.Buffer
	trimmed := bytes.TrimSpace(value)
	if isContainer(trimmed) {
		if err := json.Indent(&out, trimmed, indent, unit); err == nil {
			return out.Bytes()
		}
	}
	return compact(trimmed)
}

func compact(value []byte) []byte {
	var out bytes.Buffer
	_ = json.Compact(&out, value) // value was checked with json.Valid
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

// Offset returns the byte offset of the value at path (object keys, and
// array indexes as decimal strings), for error messages; the empty path is
// the top-level value. ok is false when the path does not exist.
func Offset(data []byte, path []string) (offset int64, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return 0, false
	}
	cur := span{dec.InputOffset() - int64(len(raw)), dec.InputOffset()}
	for _, k := range path {
		var next *span
		switch data[cur.start] {
		case '{':
			members, err := objectMembers(data, cur)
			if err != nil {
				return 0, false
			}
			for i := range members {
				if members[i].key == k {
					next = &members[i].value
				}
			}
		case '[':
			i, err := strconv.Atoi(k)
			if err != nil {
				return 0, false
			}
			elems, err := arrayElements(data, cur)
			if err != nil || i < 0 || i >= len(elems) {
				return 0, false
			}
			next = &elems[i]
		}
		if next == nil {
			return 0, false
		}
		cur = *next
	}
	return cur.start, true
}

// arrayElements lists the spans of the elements of the array at arr.
func arrayElements(data []byte, arr span) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(data[arr.start:arr.end]))
	if _, err := dec.Token(); err != nil { // [
		return nil, err
	}
	var out []span
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := arr.start + dec.InputOffset()
		out = append(out, span{end - int64(len(raw)), end})
	}
	return out, nil
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
					if dec.InputOffset() >= offset {
						p := path()
						return p[:len(p)-1]
					}
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
				if dec.InputOffset() >= offset {
					// The offset is at the closing bracket: the
					// container itself.
					p := path()
					return p[:len(p)-1]
				}
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

// Delete returns data without the member at path (a list of object keys);
// a path that does not exist is not an error. Like Set, it touches nothing
// else, and edits the last of duplicate keys.
func Delete(data []byte, path []string) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("jsonedit: empty path")
	}
	parent := data
	var obj span
	if len(path) == 1 {
		root, err := rootObject(data)
		if err != nil {
			return nil, err
		}
		obj = root
	} else {
		loc, err := locate(data, path[:len(path)-1])
		if err != nil {
			return nil, err
		}
		if !loc.found || loc.depth != len(path)-1 || data[loc.value.start] != '{' {
			return data, nil
		}
		obj = loc.value
	}
	members, err := objectMembers(parent, obj)
	if err != nil {
		return nil, err
	}
	idx := -1
	for i, m := range members {
		if m.key == path[len(path)-1] {
			idx = i
		}
	}
	switch {
	case idx < 0:
		return data, nil
	case len(members) == 1:
		return splice(data, obj.start+1, obj.end-1, nil), nil
	case idx > 0:
		return splice(data, members[idx-1].value.end, members[idx].value.end, nil), nil
	}
	start, err := keyStart(data, members[0].value.start)
	if err != nil {
		return nil, err
	}
	next, err := keyStart(data, members[1].value.start)
	if err != nil {
		return nil, err
	}
	return splice(data, start, next, nil), nil
}

// keyStart finds the opening quote of the key of the member whose value
// starts at valueStart, scanning back over the colon and the key string.
func keyStart(data []byte, valueStart int64) (int64, error) {
	i := valueStart - 1
	for i >= 0 && isSpace(data[i]) {
		i--
	}
	if i < 0 || data[i] != ':' {
		return 0, errors.New("jsonedit: no key before a value")
	}
	i--
	for i >= 0 && isSpace(data[i]) {
		i--
	}
	if i < 0 || data[i] != '"' {
		return 0, errors.New("jsonedit: no key before a value")
	}
	for i--; i >= 0; i-- {
		if data[i] != '"' {
			continue
		}
		backslashes := 0
		for j := i - 1; j >= 0 && data[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i, nil
		}
	}
	return 0, errors.New("jsonedit: unterminated key")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
