// Package policy models IAM, S3 bucket and KMS key policy documents.
//
// Parsing is strict about what AWS rejects (unknown elements, a missing
// Effect) and lossless about everything else: a statement read from JSON is
// written back byte for byte, in its original key order and with its original
// value shapes, unless kmsgrant replaced it. That is what lets kmsgrant promise
// that statements it did not write are never altered.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Effect is a statement's Effect element.
type Effect string

// The two effects AWS accepts.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// DefaultVersion is the policy language version kmsgrant writes.
const DefaultVersion = "2012-10-17"

// Document is one policy document.
type Document struct {
	Version    string
	ID         string
	Statements []Statement

	// statementWasObject records that Statement was written as a single
	// object rather than a list, so an untouched document keeps that shape.
	statementWasObject bool
	// hasVersion records whether Version was present at all.
	hasVersion bool
}

// Statement is one statement of a policy document.
//
// A Statement returned by Parse remembers its original bytes and is
// marshalled from them. Code that wants to change a statement builds a new
// one (see Clone), which is marshalled from its fields.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       Values
	NotAction    Values
	Resource     Values
	NotResource  Values
	Condition    Conditions

	raw json.RawMessage
	// compact is raw compacted, kept since statements are compared by
	// their text over and over.
	compact string
}

// Values is an element that AWS accepts as a string or a list of strings.
// Single records the string form so it can be written back the same way.
type Values struct {
	List   []string
	Single bool
}

// Strings builds Values from a list, written as a string when it has one
// element.
func Strings(s ...string) Values {
	return Values{List: s, Single: len(s) == 1}
}

// IsSet reports whether the element was present.
func (v Values) IsSet() bool { return v.List != nil }

// Principal is a Principal or NotPrincipal element: either the bare string
// "*" or a map from principal type (AWS, Service, Federated, CanonicalUser)
// to values.
type Principal struct {
	Wildcard bool
	Types    map[string]Values
}

// AWS returns the principal's AWS values (ARNs or account IDs).
func (p *Principal) AWS() []string {
	if p == nil {
		return nil
	}
	return p.Types["AWS"].List
}

// Conditions is a Condition element, in its original order.
type Conditions []Condition

// Condition is one key under one operator of a Condition element, for
// example StringEquals / kms:ViaService / ["s3.us-west-2.amazonaws.com"].
// Values holds booleans and numbers in their JSON text form.
type Condition struct {
	Operator string
	Key      string
	Values   Values
}

// Clone returns a deep copy that has forgotten its original bytes, so it is
// marshalled from its fields. Use it to derive a changed statement.
func (s Statement) Clone() Statement {
	c := s
	c.raw, c.compact = nil, ""
	c.Action = cloneValues(s.Action)
	c.NotAction = cloneValues(s.NotAction)
	c.Resource = cloneValues(s.Resource)
	c.NotResource = cloneValues(s.NotResource)
	c.Principal = clonePrincipal(s.Principal)
	c.NotPrincipal = clonePrincipal(s.NotPrincipal)
	c.Condition = make(Conditions, len(s.Condition))
	for i, cond := range s.Condition {
		cond.Values = cloneValues(cond.Values)
		c.Condition[i] = cond
	}
	if s.Condition == nil {
		c.Condition = nil
	}
	return c
}

func cloneValues(v Values) Values {
	if v.List == nil {
		return v
	}
	return Values{List: append(make([]string, 0, len(v.List)), v.List...), Single: v.Single}
}

func clonePrincipal(p *Principal) *Principal {
	if p == nil {
		return nil
	}
	c := &Principal{Wildcard: p.Wildcard}
	if p.Types != nil {
		c.Types = make(map[string]Values, len(p.Types))
		for k, v := range p.Types {
			c.Types[k] = cloneValues(v)
		}
	}
	return c
}

// New returns an empty document of the default version.
func New() *Document {
	return &Document{Version: DefaultVersion, hasVersion: true}
}

// StatementIsObject reports whether Statement is written as one object
// rather than a list.
func (d *Document) StatementIsObject() bool {
	return d.statementWasObject && len(d.Statements) == 1
}

// Append adds statements at the end, turning a single-object Statement into
// a list.
func (d *Document) Append(s ...Statement) {
	d.Statements = append(d.Statements, s...)
	d.statementWasObject = false
}

// Clone returns a copy whose statement slice can be changed independently.
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := *d
	c.Statements = append([]Statement(nil), d.Statements...)
	return &c
}

// MarshalJSON writes the document compactly: Version, Id, Statement, with
// parsed statements in their original bytes.
func (d *Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	sep := ""
	if d.hasVersion || d.Version != "" {
		b.WriteString(`"Version":`)
		writeString(&b, d.Version)
		sep = ","
	}
	if d.ID != "" {
		b.WriteString(sep + `"Id":`)
		writeString(&b, d.ID)
		sep = ","
	}
	b.WriteString(sep + `"Statement":`)
	if d.statementWasObject && len(d.Statements) == 1 {
		if err := d.Statements[0].writeTo(&b); err != nil {
			return nil, err
		}
	} else {
		b.WriteByte('[')
		for i, s := range d.Statements {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := s.writeTo(&b); err != nil {
				return nil, fmt.Errorf("statement %d: %w", i, err)
			}
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Pretty returns the document as indented JSON ending in a newline: the
// canonical form kmsgrant diffs and writes.
func (d *Document) Pretty() string {
	if d == nil {
		return ""
	}
	compact, err := d.MarshalJSON()
	if err != nil {
		// Every Statement is built from parsed JSON or from strings, so
		// marshalling cannot fail; a failure is a bug worth seeing.
		panic(fmt.Sprintf("policy: marshalling a document: %v", err))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		panic(fmt.Sprintf("policy: indenting a document: %v", err))
	}
	out.WriteByte('\n')
	return out.String()
}

// Compact returns the document as compact JSON.
func (d *Document) Compact() []byte {
	b, err := d.MarshalJSON()
	if err != nil {
		panic(fmt.Sprintf("policy: marshalling a document: %v", err))
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		panic(fmt.Sprintf("policy: compacting a document: %v", err))
	}
	return out.Bytes()
}

func (s Statement) writeTo(b *bytes.Buffer) error {
	if s.raw != nil {
		return json.Compact(b, s.raw)
	}
	b.WriteByte('{')
	first := true
	field := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(b, name)
		b.WriteByte(':')
	}
	if s.Sid != "" {
		field("Sid")
		writeString(b, s.Sid)
	}
	field("Effect")
	writeString(b, string(s.Effect))
	writePrincipal := func(name string, p *Principal) {
		if p == nil {
			return
		}
		field(name)
		if p.Wildcard {
			writeString(b, "*")
			return
		}
		b.WriteByte('{')
		for i, t := range sortedTypes(p.Types) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, t)
			b.WriteByte(':')
			writeValues(b, p.Types[t])
		}
		b.WriteByte('}')
	}
	writePrincipal("Principal", s.Principal)
	writePrincipal("NotPrincipal", s.NotPrincipal)
	for _, e := range []struct {
		name string
		v    Values
	}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
		if e.v.IsSet() {
			field(e.name)
			writeValues(b, e.v)
		}
	}
	if len(s.Condition) > 0 {
		field("Condition")
		b.WriteByte('{')
		var ops []string
		byOp := map[string][]Condition{}
		for _, c := range s.Condition {
			if _, ok := byOp[c.Operator]; !ok {
				ops = append(ops, c.Operator)
			}
			byOp[c.Operator] = append(byOp[c.Operator], c)
		}
		for i, op := range ops {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, op)
			b.WriteString(":{")
			for j, c := range byOp[op] {
				if j > 0 {
					b.WriteByte(',')
				}
				writeString(b, c.Key)
				b.WriteByte(':')
				writeValues(b, c.Values)
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return nil
}

// principalTypeOrder puts AWS first, as AWS's own documents do.
var principalTypeOrder = map[string]int{"AWS": 0, "Service": 1, "Federated": 2, "CanonicalUser": 3}

func sortedTypes(m map[string]Values) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, iok := principalTypeOrder[keys[i]]
		oj, jok := principalTypeOrder[keys[j]]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func writeValues(b *bytes.Buffer, v Values) {
	if v.Single && len(v.List) == 1 {
		writeString(b, v.List[0])
		return
	}
	b.WriteByte('[')
	for i, s := range v.List {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

// writeString writes s as a JSON string without HTML escaping, so that
// conditions such as "s3:prefix" values stay readable in diffs.
func writeString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	b.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
}

// String returns the statement's compact JSON, for messages.
func (s Statement) String() string {
	if s.raw != nil {
		return s.compact
	}
	var b bytes.Buffer
	if err := s.writeTo(&b); err != nil {
		return fmt.Sprintf("<invalid statement: %v>", err)
	}
	return b.String()
}

// Label names the statement for people: its Sid, or its position.
func (s Statement) Label(index int) string {
	if s.Sid != "" {
		return fmt.Sprintf("statement %q", s.Sid)
	}
	return fmt.Sprintf("statement #%d", index+1)
}

// HasSidPrefix reports whether the statement's Sid starts with prefix.
func (s Statement) HasSidPrefix(prefix string) bool {
	return strings.HasPrefix(s.Sid, prefix)
}
