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
	"slices"
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
	return SetAt(data, -1, path, value)
}

// SetAt is Set with path starting at the object whose value starts at
// data[at] rather than at the top-level object (-1): an edit inside one
// entity of a large file reads only that entity. data must be valid JSON,
// as the caller knows from an earlier read.
func SetAt(data []byte, at int64, path []string, value []byte) ([]byte, error) {
	return setAt(data, at, path, value, indentUnit(data))
}

// setAt is SetAt with the text's indentation unit given.
func setAt(data []byte, at int64, path []string, value []byte, unit string) ([]byte, error) {
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
	loc, err := locateAt(data, at, path)
	if err != nil {
		return nil, err
	}
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
		return put(data, loc.value.start, loc.value.end, v, "", "")
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
		return put(data, obj.start, obj.end, []byte(insert), "", "")
	case loc.last == nil:
		insert := fmt.Sprintf("{%s: %s}", key, compact(value))
		return put(data, obj.start, obj.end, []byte(insert), "", "")
	case bytes.Contains(data[loc.last.end:closeAt], []byte("\n")):
		// Insert right after the last member, indented like it.
		member := lineIndent(data, loc.last.start)
		insert := fmt.Sprintf(",\n%s%s: %s", member, key, format(value, member, unit))
		return put(data, loc.last.end, loc.last.end, []byte(insert), `{"":0`, "}")
	}
	insert := fmt.Sprintf(", %s: %s", key, compact(value))
	return put(data, loc.last.end, loc.last.end, []byte(insert), `{"":0`, "}")
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

// locateAt finds the value at path, or the deepest object on the path, in one
// pass over the document up to the end of the top-level object: the
// objects on the path are read member by member, everything else is
// passed over.
//
// It starts at the object that starts at data[at], or, for -1, at the
// top-level object.
func locateAt(data []byte, at int64, path []string) (location, error) {
	if at >= 0 {
		if at >= int64(len(data)) || data[at] != '{' {
			return location{}, errors.New("jsonedit: no object at the offset given")
		}
		s := search{data: data, path: path}
		_, loc, pathErr, err := s.in(at, 0)
		if err == nil {
			err = pathErr
		}
		return loc, err
	}
	start := skipSpace(data, 0)
	if start >= int64(len(data)) {
		return location{}, errors.New("empty document")
	}
	if data[start] != '{' {
		if _, err := ValueEnd(data, start); err != nil {
			return location{}, err
		}
		return location{}, errors.New("not a JSON object")
	}
	s := search{data: data, path: path}
	_, loc, pathErr, err := s.in(start, 0)
	if err == nil {
		err = pathErr
	}
	if err != nil {
		return location{}, err
	}
	return loc, nil
}

// search is one walk of locate. Its methods return the end of what they
// scanned, what they found, an error about the path (which a later
// duplicate key may make moot) and an error about the document.
type search struct {
	data []byte
	path []string
}

// placedError is an error about the document, prefixed with the path of
// the object or array it was met in.
type placedError struct{ error }

func (e placedError) Unwrap() error { return e.error }

// place prefixes err with the path of the container at depth, unless an
// inner container did.
func (s *search) place(depth int, err error) error {
	if _, ok := err.(placedError); ok || err == nil || depth == 0 {
		return err
	}
	return placedError{fmt.Errorf("%s: %w", strings.Join(s.path[:depth], "."), err)}
}

// in scans the object or array that opens at data[start] for path[depth].
func (s *search) in(start int64, depth int) (end int64, loc location, pathErr, err error) {
	key := s.path[depth]
	matched := false
	if s.data[start] == '[' {
		// Arrays are walked by index, never grown by Set.
		want, convErr := strconv.Atoi(key)
		i := 0
		end, err = elements(s.data, start, func(v int64) (int64, error) {
			if i++; convErr != nil || i-1 != want {
				return ValueEnd(s.data, v)
			}
			matched = true
			var e int64
			var err error
			e, loc, pathErr, err = s.at(v, depth)
			return e, err
		})
		if err != nil {
			return 0, location{}, nil, s.place(depth, err)
		}
		if !matched {
			pathErr = fmt.Errorf("%s: no element %s in the array", strings.Join(s.path[:depth], "."), key)
		}
		return end, loc, pathErr, nil
	}
	var last span
	members := 0
	end, err = Members(s.data, start, func(k string, v int64) (e int64, err error) {
		if k == key {
			// The last of duplicate keys is the one that counts.
			matched = true
			e, loc, pathErr, err = s.at(v, depth)
		} else {
			e, err = ValueEnd(s.data, v)
		}
		last = span{v, e}
		members++
		return e, err
	})
	if err != nil {
		return 0, location{}, nil, s.place(depth, err)
	}
	if !matched {
		loc = location{depth: depth, object: span{start, end}}
		if members > 0 {
			loc.last = &last
		}
	}
	return end, loc, pathErr, nil
}

// at reads the value at data[v], which holds path[depth].
func (s *search) at(v int64, depth int) (end int64, loc location, pathErr, err error) {
	c := s.data[v]
	if depth == len(s.path)-1 || c == 'n' {
		end, err = ValueEnd(s.data, v)
		if err != nil {
			return 0, location{}, nil, err
		}
		if depth == len(s.path)-1 || string(s.data[v:end]) == "null" {
			return end, location{found: true, value: span{v, end}, depth: depth + 1}, nil, nil
		}
	}
	if c != '{' && c != '[' {
		end, err = ValueEnd(s.data, v)
		return end, location{}, fmt.Errorf("%s: not a JSON object", strings.Join(s.path[:depth+1], ".")), err
	}
	return s.in(v, depth+1)
}

// Append returns data with value added at the end of the array at path,
// indented like the elements before it.
func Append(data []byte, path []string, value []byte) ([]byte, error) {
	return AppendAt(data, -1, path, value)
}

// AppendAt is Append with path starting at the object that starts at
// data[at] (see SetAt).
func AppendAt(data []byte, at int64, path []string, value []byte) ([]byte, error) {
	return appendAt(data, at, path, value, indentUnit(data))
}

// appendAt is AppendAt with the text's indentation unit given.
func appendAt(data []byte, at int64, path []string, value []byte, unit string) ([]byte, error) {
	if !json.Valid(value) {
		return nil, errors.New("jsonedit: value is not JSON")
	}
	loc, err := locateAt(data, at, path)
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
	if len(elems) == 0 {
		outer := lineIndent(data, arr.start)
		inner := outer + unit
		insert := fmt.Sprintf("[\n%s%s\n%s]", inner, format(value, inner, unit), outer)
		return put(data, arr.start, arr.end, []byte(insert), "", "")
	}
	last := elems[len(elems)-1]
	if bytes.Contains(data[last.end:arr.end-1], []byte("\n")) {
		indent := lineIndent(data, last.start)
		insert := fmt.Sprintf(",\n%s%s", indent, format(value, indent, unit))
		return put(data, last.end, last.end, []byte(insert), "[0", "]")
	}
	return put(data, last.end, last.end, append([]byte(", "), compact(value)...), "[0", "]")
}

// indentUnit guesses one level of the file's indentation from the first
// member of the top-level object: two spaces when it cannot tell.
func indentUnit(data []byte) string {
	root := skipSpace(data, 0)
	if root >= int64(len(data)) || data[root] != '{' {
		return "  "
	}
	// The first member's value: only the bytes up to it are read.
	first := skipSpace(data, root+1)
	if first >= int64(len(data)) || data[first] != '"' {
		return "  "
	}
	keyEnd, err := stringEnd(data, first)
	if err != nil {
		return "  "
	}
	if first = skipSpace(data, keyEnd); first >= int64(len(data)) || data[first] != ':' {
		return "  "
	}
	first = skipSpace(data, first+1)
	if !bytes.Contains(data[root:first], []byte("\n")) {
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

// put returns data with data[start:end] replaced by insert, after checking
// insert in its place: open+insert+close must be JSON, where open and close
// are empty for a value that replaces a value, and stand for the object or
// array before it (`{"":0`, "}" or "[0", "]") for a member or element that
// follows the last one. The rest of the document is the caller's, as it
// was, so an edit of a valid document leaves a valid document, and the
// check costs what the edit costs, not what the document does.
func put(data []byte, start, end int64, insert []byte, open, close string) ([]byte, error) {
	if !json.Valid(slices.Concat([]byte(open), insert, []byte(close))) {
		return nil, fmt.Errorf("jsonedit: the edit at offset %d would not leave valid JSON", start)
	}
	return splice(data, start, end, insert), nil
}

// cut returns data without data[start:end], after checking that
// open+data[start:end]+close is JSON: what goes is exactly the members of
// an object, the first member with the comma after it, or a comma and the
// member after it, so what stays is still valid.
func cut(data []byte, start, end int64, open, close string) ([]byte, error) {
	if !json.Valid(slices.Concat([]byte(open), data[start:end], []byte(close))) {
		return nil, fmt.Errorf("jsonedit: the removal at offset %d would not leave valid JSON", start)
	}
	return splice(data, start, end, nil), nil
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
	offset, _, ok = Span(data, path)
	return offset, ok
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
	return DeleteAt(data, -1, path)
}

// DeleteAt is Delete with path starting at the object that starts at
// data[at] (see SetAt).
func DeleteAt(data []byte, at int64, path []string) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("jsonedit: empty path")
	}
	parent := data
	var obj span
	switch {
	case len(path) == 1 && at >= 0:
		end, err := ValueEnd(data, at)
		if err != nil {
			return nil, err
		}
		if data[at] != '{' {
			return nil, errors.New("jsonedit: no object at the offset given")
		}
		obj = span{at, end}
	case len(path) == 1:
		root, err := rootObject(data)
		if err != nil {
			return nil, err
		}
		obj = root
	default:
		loc, err := locateAt(data, at, path[:len(path)-1])
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
		return cut(data, obj.start+1, obj.end-1, "{", "}")
	case idx > 0:
		return cut(data, members[idx-1].value.end, members[idx].value.end, `{"":0`, "}")
	}
	start, err := keyStart(data, members[0].value.start)
	if err != nil {
		return nil, err
	}
	next, err := keyStart(data, members[1].value.start)
	if err != nil {
		return nil, err
	}
	return cut(data, start, next, "{", `"":0}`)
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

// Window is the part of a large JSON text that holds one value, edited on
// its own: many edits of one value copy only the window, and the text once,
// when the window is put back. It holds whole lines, from the one the value
// starts on, so that edits are indented as they would be in the text.
type Window struct {
	data       []byte
	at         int64
	start, end int64
	unit       string
}

// OpenWindow opens a window on the value at path, which starts at the object
// at data[at] (-1: the top-level object). data must be valid JSON.
func OpenWindow(data []byte, at int64, path []string) (*Window, error) {
	loc, err := locateAt(data, at, path)
	if err != nil {
		return nil, err
	}
	if !loc.found || loc.depth != len(path) {
		return nil, fmt.Errorf("%s: no value there", strings.Join(path, "."))
	}
	start := int64(bytes.LastIndexByte(data[:loc.value.start], '\n') + 1)
	return &Window{
		data: slices.Clone(data[start:loc.value.end]), at: loc.value.start - start,
		start: start, end: loc.value.end, unit: indentUnit(data),
	}, nil
}

// Set is Set on the window's value: path starts inside it.
func (w *Window) Set(path []string, value []byte) error {
	out, err := setAt(w.data, w.at, path, value, w.unit)
	if err == nil {
		w.data = out
	}
	return err
}

// Append is Append on the window's value: path starts inside it.
func (w *Window) Append(path []string, value []byte) error {
	out, err := appendAt(w.data, w.at, path, value, w.unit)
	if err == nil {
		w.data = out
	}
	return err
}

// Close returns data, the text the window was opened on, with the window's
// edits in it.
func (w *Window) Close(data []byte) []byte {
	return splice(data, w.start, w.end, w.data)
}

// OpenWindowAt opens a window on the object that starts at data[start]:
// path arguments of the window's methods start inside it. data must be
// valid JSON.
func OpenWindowAt(data []byte, start int64) (*Window, error) {
	if start < 0 || start >= int64(len(data)) || data[start] != '{' {
		return nil, errors.New("jsonedit: no object at the offset given")
	}
	end, err := ValueEnd(data, start)
	if err != nil {
		return nil, err
	}
	line := int64(bytes.LastIndexByte(data[:start], '\n') + 1)
	return &Window{data: slices.Clone(data[line:end]), at: start - line, start: line, end: end, unit: indentUnit(data)}, nil
}

// Delete is Delete on the window's value: path starts inside it.
func (w *Window) Delete(path []string) error {
	out, err := DeleteAt(w.data, w.at, path)
	if err == nil {
		w.data = out
	}
	return err
}

// Value returns the text of the value at path inside the window's value
// (the value itself for an empty path); false when there is none.
func (w *Window) Value(path []string) ([]byte, bool) {
	return ValueAt(w.data, w.at, path)
}

// Text returns the window's text as edited so far, and where its value
// starts in it. The text is the window's own: Reset it, do not change it.
func (w *Window) Text() (text []byte, at int64) { return w.data, w.at }

// Reset makes text, an earlier Text of the window, its text again: the
// edits since are dropped.
func (w *Window) Reset(text []byte) { w.data = text }

// ValueAt returns the text of the value at path, which starts at the object
// at data[at] (-1: the top-level object); false when there is none.
func ValueAt(data []byte, at int64, path []string) ([]byte, bool) {
	if len(path) == 0 && at >= 0 {
		end, err := ValueEnd(data, at)
		if err != nil {
			return nil, false
		}
		return data[at:end], true
	}
	loc, err := locateAt(data, at, path)
	if err != nil || !loc.found || loc.depth != len(path) {
		return nil, false
	}
	return data[loc.value.start:loc.value.end], true
}

// KeyBefore returns the key of the object member whose value starts at
// data[start], read backwards from it; false when what precedes the value
// is not a member's key (or a key this cannot read backwards, one with an
// escaped quote). It lets a caller that keeps offsets check one before it
// trusts it.
func KeyBefore(data []byte, start int64) (string, bool) {
	i := start - 1
	for i >= 0 && isSpace(data[i]) {
		i--
	}
	if i < 0 || data[i] != ':' {
		return "", false
	}
	i--
	for i >= 0 && isSpace(data[i]) {
		i--
	}
	if i < 0 || data[i] != '"' {
		return "", false
	}
	end := i
	open := int64(bytes.LastIndexByte(data[:end], '"'))
	if open < 0 || (open > 0 && data[open-1] == '\\') {
		return "", false
	}
	var key string
	if json.Unmarshal(data[open:end+1], &key) != nil {
		return "", false
	}
	return key, true
}
