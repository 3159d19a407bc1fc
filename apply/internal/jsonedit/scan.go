package jsonedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The scanner finds where values, keys and members start and end without
// decoding them: finding one value of a large document is one pass over its
// bytes (to the end of the top-level object, since a later duplicate key
// would be the one that counts), allocating nothing for the values it
// passes. It reads the structure of what it passes (brackets, strings,
// literals, the separators of the objects and arrays it lists) but does not
// validate every byte of it: the documents kmsgrant edits were checked when
// they were read, and each edit checks what it puts in or takes out (put,
// cut).

var errEnd = errors.New("unexpected end of JSON input")

func syntaxError(data []byte, i int64, context string) error {
	if i >= int64(len(data)) {
		return errEnd
	}
	return fmt.Errorf("offset %d: invalid character %q %s", i, data[i], context)
}

// skipSpace returns the offset of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int64) int64 {
	for i < int64(len(data)) && isSpace(data[i]) {
		i++
	}
	return i
}

// stringEnd returns the offset just past the string whose opening quote is
// at data[i].
func stringEnd(data []byte, i int64) (int64, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return 0, errEnd
		}
		q := j + int64(k)
		// A quote after an odd number of backslashes is escaped.
		backslashes := int64(0)
		for p := q - 1; p > i && data[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// ValueEnd returns the offset just past the JSON value that starts at
// data[start] (or after whitespace from there).
func ValueEnd(data []byte, start int64) (int64, error) {
	i := skipSpace(data, start)
	if i >= int64(len(data)) {
		return 0, errEnd
	}
	switch c := data[i]; c {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		return containerEnd(data, i)
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(data[i:], []byte(lit)) {
				return literalEnd(data, i, i+int64(len(lit)))
			}
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		j := i + 1
		for j < int64(len(data)) && isNumberByte(data[j]) {
			j++
		}
		return literalEnd(data, i, j)
	}
	return 0, syntaxError(data, i, "looking for beginning of value")
}

// literalEnd checks that the literal or number data[start:end] is followed
// by a byte that may follow a value.
func literalEnd(data []byte, start, end int64) (int64, error) {
	if end < int64(len(data)) {
		switch c := data[end]; {
		case isSpace(c), c == ',', c == '}', c == ']':
		default:
			return 0, syntaxError(data, end, "after a literal")
		}
	}
	return end, nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// structural marks the bytes containerEnd stops at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// containerEnd returns the offset just past the object or array that opens
// at data[i], matching brackets and passing over strings.
func containerEnd(data []byte, i int64) (int64, error) {
	var buf [64]byte
	open := append(buf[:0], data[i])
	n := int64(len(data))
	for j := i + 1; j < n; j++ {
		for j < n && !structural[data[j]] {
			j++
		}
		if j == n {
			break
		}
		switch c := data[j]; c {
		case '"':
			end, err := stringEnd(data, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '{', '[':
			open = append(open, c)
		default: // '}', ']'
			if want := open[len(open)-1] + 2; c != want { // '{'+2 is '}', '['+2 is ']'
				return 0, syntaxError(data, j, "closing "+string(open[len(open)-1]))
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errEnd
}

// key returns the object key that the string data[start:end] (quotes
// included) holds, as encoding/json reads it.
func key(data []byte, start, end int64) (string, error) {
	raw := data[start+1 : end-1]
	plain := true
	for _, c := range raw {
		if c < 0x20 || c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(raw), nil
	}
	var k string
	if err := json.Unmarshal(data[start:end], &k); err != nil {
		return "", err
	}
	return k, nil
}

// Members scans the object that opens at data[start] (or after whitespace
// from there) and calls fn for each member, in order, with the member's key
// and the offset where its value starts. fn returns the offset just past
// the value: ValueEnd's answer, or that of a scan of its own. Members
// returns the offset just past the object.
func Members(data []byte, start int64, fn func(key string, value int64) (end int64, err error)) (int64, error) {
	i := skipSpace(data, start)
	if i >= int64(len(data)) || data[i] != '{' {
		return 0, syntaxError(data, i, "looking for beginning of object")
	}
	i = skipSpace(data, i+1)
	if i < int64(len(data)) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= int64(len(data)) || data[i] != '"' {
			return 0, syntaxError(data, i, "looking for beginning of object key string")
		}
		keyEnd, err := stringEnd(data, i)
		if err != nil {
			return 0, err
		}
		k, err := key(data, i, keyEnd)
		if err != nil {
			return 0, err
		}
		i = skipSpace(data, keyEnd)
		if i >= int64(len(data)) || data[i] != ':' {
			return 0, syntaxError(data, i, "after object key")
		}
		i = skipSpace(data, i+1)
		if i >= int64(len(data)) {
			return 0, errEnd
		}
		end, err := fn(k, i)
		if err != nil {
			return 0, err
		}
		next, closed, err := afterMember(data, end, '}', "after object key:value pair")
		if err != nil || closed {
			return next, err
		}
		i = next
	}
}

// elements scans the array that opens at data[start] and calls fn with the
// start of each element; fn returns the element's end.
func elements(data []byte, start int64, fn func(value int64) (end int64, err error)) (int64, error) {
	i := skipSpace(data, start)
	if i >= int64(len(data)) || data[i] != '[' {
		return 0, syntaxError(data, i, "looking for beginning of array")
	}
	i = skipSpace(data, i+1)
	if i < int64(len(data)) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= int64(len(data)) {
			return 0, errEnd
		}
		end, err := fn(i)
		if err != nil {
			return 0, err
		}
		next, closed, err := afterMember(data, end, ']', "after array element")
		if err != nil || closed {
			return next, err
		}
		i = next
	}
}

// afterMember reads what follows a member of an object or array that ended
// at end: a comma, after which next is where the following member starts,
// or the closing byte, after which the container is closed and next is
// just past it. Anything else is a syntax error, named by what.
func afterMember(data []byte, end int64, closing byte, what string) (next int64, closed bool, err error) {
	i := skipSpace(data, end)
	switch {
	case i >= int64(len(data)):
		return 0, false, errEnd
	case data[i] == ',':
		return skipSpace(data, i+1), false, nil
	case data[i] == closing:
		return i + 1, true, nil
	default:
		return 0, false, syntaxError(data, i, what)
	}
}

type member struct {
	key   string
	value span
}

// objectMembers lists the members of the object at obj, in order.
func objectMembers(data []byte, obj span) ([]member, error) {
	var out []member
	_, err := Members(data[:obj.end], obj.start, func(k string, value int64) (int64, error) {
		end, err := ValueEnd(data[:obj.end], value)
		out = append(out, member{key: k, value: span{value, end}})
		return end, err
	})
	return out, err
}

// arrayElements lists the spans of the elements of the array at arr.
func arrayElements(data []byte, arr span) ([]span, error) {
	var out []span
	_, err := elements(data[:arr.end], arr.start, func(value int64) (int64, error) {
		end, err := ValueEnd(data[:arr.end], value)
		out = append(out, span{value, end})
		return end, err
	})
	return out, err
}

// topValue returns the span of the document's top-level value.
func topValue(data []byte) (span, error) {
	start := skipSpace(data, 0)
	if start >= int64(len(data)) {
		return span{}, errors.New("empty document")
	}
	end, err := ValueEnd(data, start)
	if err != nil {
		return span{}, err
	}
	return span{start, end}, nil
}

// Span returns where the value at path (object keys, and array indexes as
// decimal strings) starts and ends; the empty path is the top-level value.
// Of duplicate keys, the last is followed, as encoding/json reads it. ok is
// false when the path does not exist.
func Span(data []byte, path []string) (start, end int64, ok bool) {
	if len(path) == 0 {
		root, err := topValue(data)
		return root.start, root.end, err == nil
	}
	// The search reads the top-level value to its end.
	root := skipSpace(data, 0)
	if root >= int64(len(data)) || data[root] != '{' && data[root] != '[' {
		return 0, 0, false
	}
	s := search{data: data, path: path}
	_, loc, pathErr, err := s.in(root, 0)
	if err != nil || pathErr != nil || !loc.found || loc.depth != len(path) {
		return 0, 0, false
	}
	return loc.value.start, loc.value.end, true
}

// rootObject returns the span of the top-level object.
func rootObject(data []byte) (span, error) {
	root, err := topValue(data)
	if err != nil {
		return span{}, err
	}
	if data[root.start] != '{' {
		return span{}, errors.New("not a JSON object")
	}
	return root, nil
}
