package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t *testing.T, in string) *Document {
	t.Helper()
	d, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse(%s): %v", in, err)
	}
	return d
}

func mustParseStatement(t *testing.T, in string) Statement {
	t.Helper()
	s, err := ParseStatement([]byte(in))
	if err != nil {
		t.Fatalf("ParseStatement(%s): %v", in, err)
	}
	return s
}

// fullStatement uses every statement element except the Not forms of
// Principal and Action, in an order kmsgrant would not write.
const fullStatement = `{
  "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:CallerAccount": ["444455556666"]},
                "Bool": {"aws:SecureTransport": true},
                "NumericLessThan": {"s3:max-keys": 10}},
  "Resource": "*",
  "Action": ["kms:Decrypt", "kms:DescribeKey"],
  "Principal": {"Service": "s3.amazonaws.com", "AWS": "arn:aws:iam::444455556666:role/Reader"},
  "Effect": "Allow",
  "Sid": "AllowReader"
}`

func TestStatementCloneIsDeep(t *testing.T) {
	orig := mustParseStatement(t, fullStatement)
	before := orig.String()
	pristine := mustParseStatement(t, fullStatement)

	c := orig.Clone()
	c.Sid = "Changed"
	c.Effect = Deny
	c.Action.List[0] = "kms:Encrypt"
	c.Action.List = append(c.Action.List, "kms:GenerateDataKey")
	c.Resource.List[0] = "arn:aws:kms:us-west-2:111122223333:key/x"
	c.Principal.Types["AWS"].List[0] = "arn:aws:iam::444455556666:role/Other"
	c.Principal.Types["Federated"] = Strings("cognito-identity.amazonaws.com")
	c.Principal.Wildcard = true
	c.Condition[0].Values.List[0] = "s3.eu-west-1.amazonaws.com"
	c.Condition[1].Key = "kms:Other"
	c.Condition = append(c.Condition, Condition{Operator: "Null", Key: "aws:x", Values: Strings("true")})

	if diff := cmp.Diff(pristine, orig, ignoreRaw); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, orig.String()); diff != "" {
		t.Errorf("changing the clone changed the original's JSON (-want +got):\n%s", diff)
	}
}

func TestStatementCloneOfNotElementsIsDeep(t *testing.T) {
	const in = `{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob"]},"NotAction":["s3:GetObject"],"NotResource":["arn:aws:s3:::b/public/*"]}`
	orig := mustParseStatement(t, in)
	c := orig.Clone()
	c.NotPrincipal.Types["AWS"].List[0] = "x"
	c.NotAction.List[0] = "x"
	c.NotResource.List[0] = "x"
	if diff := cmp.Diff(mustParseStatement(t, in), orig, ignoreRaw); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
}

func TestStatementCloneMarshalsFromFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "elements in canonical order, condition operators grouped in first-seen order, values as strings",
			in:   fullStatement,
			want: `{"Sid":"AllowReader","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/Reader","Service":"s3.amazonaws.com"},` +
				`"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*",` +
				`"Condition":{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com","kms:CallerAccount":["444455556666"]},` +
				`"Bool":{"aws:SecureTransport":"true"},"NumericLessThan":{"s3:max-keys":"10"}}}`,
		},
		{
			name: "Not elements and a wildcard Principal",
			in:   `{"NotResource":"arn:aws:s3:::b/public/*","NotAction":["s3:Get*"],"NotPrincipal":"*","Effect":"Deny"}`,
			want: `{"Effect":"Deny","NotPrincipal":"*","NotAction":["s3:Get*"],"NotResource":"arn:aws:s3:::b/public/*"}`,
		},
		{
			name: "principal types ordered AWS, Service, Federated, CanonicalUser",
			in:   `{"Effect":"Allow","Action":"a:b","Principal":{"CanonicalUser":"c","Federated":"f","Service":"s","AWS":"a"}}`,
			want: `{"Effect":"Allow","Principal":{"AWS":"a","Service":"s","Federated":"f","CanonicalUser":"c"},"Action":"a:b"}`,
		},
		{
			name: "no Sid, no Condition and an empty Condition object is dropped",
			in:   `{"Action":"a:b","Effect":"Allow","Condition":{}}`,
			want: `{"Effect":"Allow","Action":"a:b"}`,
		},
		{
			name: "whitespace and HTML characters",
			in:   "{ \"Effect\" : \"Allow\", \"Action\" : \"s3:ListBucket\", \"Condition\": {\"StringLike\": {\"s3:prefix\": \"<a>&b/*\"}} }",
			want: `{"Effect":"Allow","Action":"s3:ListBucket","Condition":{"StringLike":{"s3:prefix":"<a>&b/*"}}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := mustParseStatement(t, tc.in)
			if diff := cmp.Diff(compact(t, tc.in), orig.String()); diff != "" {
				t.Errorf("parsed statement is not written from its original bytes (-want +got):\n%s", diff)
			}
			c := orig.Clone()
			if diff := cmp.Diff(tc.want, c.String()); diff != "" {
				t.Errorf("clone's String() mismatch (-want +got):\n%s", diff)
			}
			// A clone equals its original in every field.
			if diff := cmp.Diff(orig, c, ignoreRaw); diff != "" {
				t.Errorf("clone's fields differ from the original's (-want +got):\n%s", diff)
			}
			// The clone's JSON parses back to the same fields, apart from
			// condition values, which are written as strings.
			back := mustParseStatement(t, c.String())
			if diff := cmp.Diff(c.String(), back.Clone().String()); diff != "" {
				t.Errorf("clone's JSON does not survive a round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatementCloneKeepsNilAndSingleShapes(t *testing.T) {
	s := Statement{Effect: Allow, Action: Strings("a:b")}
	c := s.Clone()
	if c.Condition != nil {
		t.Errorf("Clone of a statement without conditions has Condition %#v, want nil", c.Condition)
	}
	if c.Principal != nil || c.NotPrincipal != nil {
		t.Errorf("Clone invented a principal: %v %v", c.Principal, c.NotPrincipal)
	}
	if c.Resource.IsSet() || c.NotAction.IsSet() || c.NotResource.IsSet() {
		t.Errorf("Clone set an element that was unset: %+v", c)
	}
	if diff := cmp.Diff(s, c, ignoreRaw); diff != "" {
		t.Errorf("Clone mismatch (-want +got):\n%s", diff)
	}
}

func TestDocumentClone(t *testing.T) {
	const in = `{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow","Action":"a:b"}}`
	d := mustParse(t, in)
	c := d.Clone()
	if diff := cmp.Diff(d.Compact(), c.Compact()); diff != "" {
		t.Errorf("clone marshals differently (-want +got):\n%s", diff)
	}
	c.Statements[0] = Statement{Sid: "B", Effect: Deny, Action: Strings("c:d")}
	c.Append(Statement{Effect: Allow, Action: Strings("e:f")})
	c.Version = "2008-10-17"
	c.ID = "y"
	if diff := cmp.Diff(compact(t, in), string(d.Compact())); diff != "" {
		t.Errorf("changing the clone changed the original (-want +got):\n%s", diff)
	}
	var nilDoc *Document
	if got := nilDoc.Clone(); got != nil {
		t.Errorf("(*Document)(nil).Clone() = %v, want nil", got)
	}
}

func TestAppend(t *testing.T) {
	added := Statement{Sid: "New", Effect: Allow, Principal: &Principal{Types: map[string]Values{"AWS": Strings("arn:aws:iam::444455556666:role/R")}}, Action: Strings("s3:GetObject"), Resource: Strings("arn:aws:s3:::b/*")}
	const addedJSON = `{"Sid":"New","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/R"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`
	tests := []struct {
		name   string
		in     string
		append []Statement
		want   string
	}{
		{
			name:   "single-object Statement becomes a list, keeping the original statement's bytes",
			in:     `{"Version":"2012-10-17","Statement":{"Resource":"*","Effect":"Allow","Action":"x:y"}}`,
			append: []Statement{added},
			want:   `{"Version":"2012-10-17","Statement":[{"Resource":"*","Effect":"Allow","Action":"x:y"},` + addedJSON + `]}`,
		},
		{
			name: "appending nothing still turns a single object into a list",
			in:   `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"x:y"}}`,
			want: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"x:y"}]}`,
		},
		{
			name:   "list Statement grows",
			in:     `{"Id":"i","Statement":[{"Effect":"Deny","Action":"x:y"}]}`,
			append: []Statement{added, added},
			want:   `{"Id":"i","Statement":[{"Effect":"Deny","Action":"x:y"},` + addedJSON + `,` + addedJSON + `]}`,
		},
		{
			name:   "empty list",
			in:     `{"Version":"2012-10-17","Statement":[]}`,
			append: []Statement{added},
			want:   `{"Version":"2012-10-17","Statement":[` + addedJSON + `]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, tc.in)
			d.Append(tc.append...)
			if diff := cmp.Diff(tc.want, string(d.Compact())); diff != "" {
				t.Errorf("Compact() after Append mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewDocument(t *testing.T) {
	d := New()
	if diff := cmp.Diff(`{"Version":"2012-10-17","Statement":[]}`, string(d.Compact())); diff != "" {
		t.Errorf("New() mismatch (-want +got):\n%s", diff)
	}
	d.Append(Statement{Effect: Allow, Action: Strings("s3:GetObject", "s3:GetObjectVersion"), Resource: Strings("arn:aws:s3:::b/*")})
	want := "{\n" +
		"  \"Version\": \"2012-10-17\",\n" +
		"  \"Statement\": [\n" +
		"    {\n" +
		"      \"Effect\": \"Allow\",\n" +
		"      \"Action\": [\n" +
		"        \"s3:GetObject\",\n" +
		"        \"s3:GetObjectVersion\"\n" +
		"      ],\n" +
		"      \"Resource\": \"arn:aws:s3:::b/*\"\n" +
		"    }\n" +
		"  ]\n" +
		"}\n"
	if diff := cmp.Diff(want, d.Pretty()); diff != "" {
		t.Errorf("Pretty() mismatch (-want +got):\n%s", diff)
	}
}

func TestMarshalBuiltDocuments(t *testing.T) {
	tests := []struct {
		name string
		doc  *Document
		want string
	}{
		{name: "zero document", doc: &Document{}, want: `{"Statement":[]}`},
		{name: "Id without Version", doc: &Document{ID: "i"}, want: `{"Id":"i","Statement":[]}`},
		{name: "Version set by hand", doc: &Document{Version: "2008-10-17"}, want: `{"Version":"2008-10-17","Statement":[]}`},
		{
			name: "built statement with every element",
			doc: &Document{Version: DefaultVersion, Statements: []Statement{{
				Sid:          "All",
				Effect:       Deny,
				NotPrincipal: &Principal{Types: map[string]Values{"Zeta": Strings("z"), "AWS": Strings("a1", "a2"), "Alpha": Strings("x")}},
				NotAction:    Strings("s3:GetObject"),
				NotResource:  Values{List: []string{"arn:aws:s3:::b/*"}},
				Condition: Conditions{
					{Operator: "StringEquals", Key: "k1", Values: Strings("v1")},
					{Operator: "Bool", Key: "k2", Values: Strings("false")},
					{Operator: "StringEquals", Key: "k3", Values: Strings("v3", "v4")},
				},
			}}},
			want: `{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Deny","NotPrincipal":{"AWS":["a1","a2"],"Alpha":"x","Zeta":"z"},` +
				`"NotAction":"s3:GetObject","NotResource":["arn:aws:s3:::b/*"],` +
				`"Condition":{"StringEquals":{"k1":"v1","k3":["v3","v4"]},"Bool":{"k2":"false"}}}]}`,
		},
		{
			name: "strings are escaped for JSON but not for HTML",
			doc:  &Document{ID: `a"b\c<d>&`, Statements: []Statement{{Effect: Allow, Action: Strings("x:y"), Condition: Conditions{{Operator: "StringLike", Key: "s3:prefix", Values: Strings("<home>/&*")}}}}},
			want: `{"Id":"a\"b\\c<d>&","Statement":[{"Effect":"Allow","Action":"x:y","Condition":{"StringLike":{"s3:prefix":"<home>/&*"}}}]}`,
		},
		{
			name: "single-element list without Single is written as a list",
			doc:  &Document{Statements: []Statement{{Effect: Allow, Action: Values{List: []string{"x:y"}}}}},
			want: `{"Statement":[{"Effect":"Allow","Action":["x:y"]}]}`,
		},
		{
			name: "Single with several elements is written as a list",
			doc:  &Document{Statements: []Statement{{Effect: Allow, Action: Values{List: []string{"a:b", "c:d"}, Single: true}}}},
			want: `{"Statement":[{"Effect":"Allow","Action":["a:b","c:d"]}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.doc.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON error: %v", err)
			}
			if diff := cmp.Diff(tc.want, string(b)); diff != "" {
				t.Errorf("MarshalJSON mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, string(tc.doc.Compact())); diff != "" {
				t.Errorf("Compact mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(indent(t, tc.want), tc.doc.Pretty()); diff != "" {
				t.Errorf("Pretty mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrettyOfNilDocument(t *testing.T) {
	var d *Document
	if got := d.Pretty(); got != "" {
		t.Errorf("(*Document)(nil).Pretty() = %q, want \"\"", got)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name      string
		in        []string
		want      Values
		wantIsSet bool
	}{
		{name: "none", in: nil, want: Values{}, wantIsSet: false},
		{name: "one is Single", in: []string{"a"}, want: Values{List: []string{"a"}, Single: true}, wantIsSet: true},
		{name: "two are a list", in: []string{"a", "b"}, want: Values{List: []string{"a", "b"}}, wantIsSet: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Strings(tc.in...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Strings mismatch (-want +got):\n%s", diff)
			}
			if got.IsSet() != tc.wantIsSet {
				t.Errorf("IsSet() = %v, want %v", got.IsSet(), tc.wantIsSet)
			}
		})
	}
}

func TestValuesSingleFromParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Values
	}{
		{name: "string", in: `"a:b"`, want: Values{List: []string{"a:b"}, Single: true}},
		{name: "one-element list", in: `["a:b"]`, want: Values{List: []string{"a:b"}}},
		{name: "two-element list", in: `["a:b","c:d"]`, want: Values{List: []string{"a:b", "c:d"}}},
		{name: "empty list", in: `[]`, want: Values{List: []string{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParseStatement(t, `{"Effect":"Allow","Action":`+tc.in+`}`)
			if diff := cmp.Diff(tc.want, s.Action); diff != "" {
				t.Errorf("Action mismatch (-want +got):\n%s", diff)
			}
			if !s.Action.IsSet() {
				t.Errorf("IsSet() = false for a present Action")
			}
		})
	}
}

func TestPrincipalAWS(t *testing.T) {
	tests := []struct {
		name string
		p    *Principal
		want []string
	}{
		{name: "nil principal", p: nil, want: nil},
		{name: "wildcard", p: &Principal{Wildcard: true}, want: nil},
		{name: "service only", p: &Principal{Types: map[string]Values{"Service": Strings("s3.amazonaws.com")}}, want: nil},
		{name: "AWS values", p: &Principal{Types: map[string]Values{"AWS": Strings("a", "b"), "Service": Strings("s")}}, want: []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.p.AWS()); diff != "" {
				t.Errorf("AWS() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		name  string
		sid   string
		index int
		want  string
	}{
		{name: "Sid wins over position", sid: "AllowReader", index: 3, want: `statement "AllowReader"`},
		{name: "Sid with spaces is quoted", sid: "Enable IAM User Permissions", index: 0, want: `statement "Enable IAM User Permissions"`},
		{name: "first statement without Sid", index: 0, want: "statement #1"},
		{name: "fifth statement without Sid", index: 4, want: "statement #5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Statement{Sid: tc.sid, Effect: Allow, Action: Strings("a:b")}
			if diff := cmp.Diff(tc.want, s.Label(tc.index)); diff != "" {
				t.Errorf("Label(%d) mismatch (-want +got):\n%s", tc.index, diff)
			}
		})
	}
}

func TestHasSidPrefix(t *testing.T) {
	tests := []struct {
		sid, prefix string
		want        bool
	}{
		{"KmsgrantReadB", "Kmsgrant", true},
		{"Kmsgrant", "Kmsgrant", true},
		{"kmsgrantReadB", "Kmsgrant", false},
		{"", "Kmsgrant", false},
		{"Anything", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.sid+"/"+tc.prefix, func(t *testing.T) {
			s := Statement{Sid: tc.sid}
			if got := s.HasSidPrefix(tc.prefix); got != tc.want {
				t.Errorf("HasSidPrefix(%q) on Sid %q = %v, want %v", tc.prefix, tc.sid, got, tc.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "with path", err: &Error{Path: "Statement[1].Effect", Msg: "bad"}, want: "Statement[1].Effect: bad"},
		{name: "without path", err: &Error{Msg: "not JSON"}, want: "not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.err.Error()); diff != "" {
				t.Errorf("Error() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
