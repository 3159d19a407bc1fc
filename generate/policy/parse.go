package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Error is a problem with a policy document, located by a path such as
// Statement[1].Effect.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func errorf(path, format string, args ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a policy document in any shape AWS accepts.
func Parse(data []byte) (*Document, error) {
	data = bytes.TrimSpace(data)
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, &Error{Msg: "not JSON: " + err.Error()}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, &Error{Msg: "a policy document must be a JSON object"}
	}
	d := &Document{}
	for k := range top {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, errorf(k, "unknown policy element (want Version, Id, Statement)")
		}
	}
	if raw, ok := top["Version"]; ok {
		if err := json.Unmarshal(raw, &d.Version); err != nil {
			return nil, errorf("Version", "must be a string")
		}
		if d.Version != "2012-10-17" && d.Version != "2008-10-17" {
			return nil, errorf("Version", "must be \"2012-10-17\" or \"2008-10-17\", got %q", d.Version)
		}
		d.hasVersion = true
	}
	if raw, ok := top["Id"]; ok {
		if err := json.Unmarshal(raw, &d.ID); err != nil {
			return nil, errorf("Id", "must be a string")
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errorf("", "missing Statement")
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		s, err := parseStatement(raw, "Statement")
		if err != nil {
			return nil, err
		}
		d.Statements = []Statement{s}
		d.statementWasObject = true
	case len(raw) > 0 && raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, errorf("Statement", "must be an object or a list of objects")
		}
		for i, r := range list {
			s, err := parseStatement(r, fmt.Sprintf("Statement[%d]", i))
			if err != nil {
				return nil, err
			}
			d.Statements = append(d.Statements, s)
		}
	default:
		return nil, errorf("Statement", "must be an object or a list of objects")
	}
	return d, nil
}

func parseStatement(raw json.RawMessage, path string) (Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Statement{}, errorf(path, "a statement must be a JSON object")
	}
	s := Statement{raw: append(json.RawMessage(nil), bytes.TrimSpace(raw)...)}
	var compact bytes.Buffer
	if err := json.Compact(&compact, s.raw); err != nil {
		return Statement{}, errorf(path, "a statement must be a JSON object")
	}
	s.compact = compact.String()
	for k, v := range fields {
		p := k
		if path != "" {
			p = path + "." + k
		}
		var err error
		switch k {
		case "Sid":
			if json.Unmarshal(v, &s.Sid) != nil {
				err = errorf(p, "must be a string")
			}
		case "Effect":
			var e string
			if json.Unmarshal(v, &e) != nil || (e != string(Allow) && e != string(Deny)) {
				err = errorf(p, "must be \"Allow\" or \"Deny\", got %s", v)
			}
			s.Effect = Effect(e)
		case "Principal":
			s.Principal, err = parsePrincipal(v, p)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipal(v, p)
		case "Action":
			s.Action, err = parseValues(v, p)
		case "NotAction":
			s.NotAction, err = parseValues(v, p)
		case "Resource":
			s.Resource, err = parseValues(v, p)
		case "NotResource":
			s.NotResource, err = parseValues(v, p)
		case "Condition":
			s.Condition, err = parseConditions(v, p)
		default:
			err = errorf(p, "unknown statement element")
		}
		if err != nil {
			return Statement{}, err
		}
	}
	switch {
	case s.Effect == "":
		return Statement{}, errorf(path, "missing Effect")
	case s.Action.IsSet() == s.NotAction.IsSet():
		return Statement{}, errorf(path, "needs exactly one of Action and NotAction")
	case s.Resource.IsSet() && s.NotResource.IsSet():
		return Statement{}, errorf(path, "has both Resource and NotResource")
	case s.Principal != nil && s.NotPrincipal != nil:
		return Statement{}, errorf(path, "has both Principal and NotPrincipal")
	}
	return s, nil
}

func parseValues(raw json.RawMessage, path string) (Values, error) {
	if isNull(raw) {
		return Values{}, errorf(path, "must be a string or a list of strings, not null")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return Values{List: []string{one}, Single: true}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return Values{}, errorf(path, "must be a string or a list of strings")
	}
	v := Values{List: make([]string, len(list))}
	for i, r := range list {
		if isNull(r) || json.Unmarshal(r, &v.List[i]) != nil {
			return Values{}, errorf(fmt.Sprintf("%s[%d]", path, i), "must be a string")
		}
	}
	return v, nil
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func parsePrincipal(raw json.RawMessage, path string) (*Principal, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one != "*" {
			return nil, errorf(path, "must be \"*\" or an object such as {\"AWS\": \"arn:…\"}, got %q", one)
		}
		return &Principal{Wildcard: true}, nil
	}
	var types map[string]json.RawMessage
	if err := json.Unmarshal(raw, &types); err != nil || types == nil {
		return nil, errorf(path, "must be \"*\" or an object such as {\"AWS\": \"arn:…\"}")
	}
	p := &Principal{Types: map[string]Values{}}
	for t, v := range types {
		switch t {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, errorf(path+"."+t, "unknown principal type (want AWS, Service, Federated or CanonicalUser)")
		}
		vals, err := parseValues(v, path+"."+t)
		if err != nil {
			return nil, err
		}
		p.Types[t] = vals
	}
	return p, nil
}

func parseConditions(raw json.RawMessage, path string) (Conditions, error) {
	ops, err := orderedObject(raw)
	if err != nil {
		return nil, errorf(path, "must be an object of condition operators")
	}
	var out Conditions
	for _, op := range ops {
		keys, err := orderedObject(op.value)
		if err != nil {
			return nil, errorf(path+"."+op.key, "must be an object of condition keys")
		}
		for _, k := range keys {
			vals, err := parseConditionValues(k.value)
			if err != nil {
				return nil, errorf(path+"."+op.key+"."+k.key, "%v", err)
			}
			out = append(out, Condition{Operator: op.key, Key: k.key, Values: vals})
		}
	}
	return out, nil
}

// parseConditionValues accepts strings, booleans and numbers, alone or in a
// list, as AWS does.
func parseConditionValues(raw json.RawMessage) (Values, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return Values{}, err
		}
		v := Values{List: []string{}}
		for _, r := range list {
			s, err := scalar(r)
			if err != nil {
				return Values{}, err
			}
			v.List = append(v.List, s)
		}
		return v, nil
	}
	s, err := scalar(raw)
	if err != nil {
		return Values{}, err
	}
	return Values{List: []string{s}, Single: true}, nil
}

func scalar(raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	}
	return "", errors.New("condition values must be strings, numbers or booleans")
}

type member struct {
	key   string
	value json.RawMessage
}

// orderedObject decodes a JSON object keeping its members' order.
func orderedObject(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, value: v})
	}
	return out, nil
}

// ParseStatement reads one statement.
func ParseStatement(data []byte) (Statement, error) {
	if !json.Valid(data) {
		return Statement{}, &Error{Msg: "not JSON"}
	}
	return parseStatement(data, "")
}

// CheckResourcePolicy checks what AWS requires of bucket and key policy
// statements beyond the grammar: each names who it applies to (Principal or
// NotPrincipal) and what (Resource or NotResource).
func (d *Document) CheckResourcePolicy() error {
	for i, s := range d.Statements {
		path := d.statementPath(i)
		switch {
		case s.Principal == nil && s.NotPrincipal == nil:
			return errorf(path, "a resource policy statement needs Principal or NotPrincipal")
		case !s.Resource.IsSet() && !s.NotResource.IsSet():
			return errorf(path, "needs Resource or NotResource")
		}
	}
	return nil
}

// CheckIdentityPolicy checks what AWS requires of IAM policy statements
// beyond the grammar: no Principal, and a Resource or NotResource.
func (d *Document) CheckIdentityPolicy() error {
	for i, s := range d.Statements {
		path := d.statementPath(i)
		switch {
		case s.Principal != nil || s.NotPrincipal != nil:
			return errorf(path, "an IAM policy statement cannot have Principal or NotPrincipal")
		case !s.Resource.IsSet() && !s.NotResource.IsSet():
			return errorf(path, "needs Resource or NotResource")
		}
	}
	return nil
}

func (d *Document) statementPath(i int) string {
	if d.statementWasObject {
		return "Statement"
	}
	return fmt.Sprintf("Statement[%d]", i)
}
