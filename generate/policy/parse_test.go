package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreRaw compares documents and statements by their exported fields.
var ignoreRaw = cmpopts.IgnoreUnexported(Document{}, Statement{})

func TestParseAcceptsEveryShape(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Document
	}{
		{
			name: "Statement as a single object with string Action and Resource",
			in:   `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`,
			want: &Document{Version: "2012-10-17", Statements: []Statement{{
				Effect:   Allow,
				Action:   Values{List: []string{"s3:GetObject"}, Single: true},
				Resource: Values{List: []string{"arn:aws:s3:::b/*"}, Single: true},
			}}},
		},
		{
			name: "Statement as a list with list Action and Resource",
			in:   `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`,
			want: &Document{Version: "2012-10-17", Statements: []Statement{{
				Effect:   Deny,
				Action:   Values{List: []string{"s3:GetObject", "s3:PutObject"}},
				Resource: Values{List: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"}},
			}}},
		},
		{
			name: "one-element lists stay lists",
			in:   `{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}`,
			want: &Document{Statements: []Statement{{
				Effect:   Allow,
				Action:   Values{List: []string{"s3:GetObject"}},
				Resource: Values{List: []string{"*"}},
			}}},
		},
		{
			name: "Id present",
			in:   `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`,
			want: &Document{Version: "2012-10-17", ID: "key-default-1", Statements: []Statement{{
				Sid:       "Enable IAM User Permissions",
				Effect:    Allow,
				Principal: &Principal{Types: map[string]Values{"AWS": {List: []string{"arn:aws:iam::111122223333:root"}, Single: true}}},
				Action:    Values{List: []string{"kms:*"}, Single: true},
				Resource:  Values{List: []string{"*"}, Single: true},
			}}},
		},
		{
			name: "Version 2008-10-17",
			in:   `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
			want: &Document{Version: "2008-10-17", Statements: []Statement{{
				Effect:    Allow,
				Principal: &Principal{Wildcard: true},
				Action:    Values{List: []string{"s3:GetObject"}, Single: true},
				Resource:  Values{List: []string{"arn:aws:s3:::b/*"}, Single: true},
			}}},
		},
		{
			name: "no Version and no Id",
			in:   `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}`,
			want: &Document{Statements: []Statement{{
				Effect:   Allow,
				Action:   Values{List: []string{"s3:ListBucket"}, Single: true},
				Resource: Values{List: []string{"arn:aws:s3:::b"}, Single: true},
			}}},
		},
		{
			name: "Principal wildcard string",
			in:   `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`,
			want: &Document{Statements: []Statement{{
				Effect:    Allow,
				Principal: &Principal{Wildcard: true},
				Action:    Values{List: []string{"s3:GetObject"}, Single: true},
			}}},
		},
		{
			name: "Principal AWS wildcard is an object, not the bare wildcard",
			in:   `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}]}`,
			want: &Document{Statements: []Statement{{
				Effect:    Allow,
				Principal: &Principal{Types: map[string]Values{"AWS": {List: []string{"*"}, Single: true}}},
				Action:    Values{List: []string{"s3:GetObject"}, Single: true},
			}}},
		},
		{
			name: "Principal AWS list with account ID and role, plus Service string",
			in:   `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::444455556666:role/R"],"Service":"s3.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}]}`,
			want: &Document{Statements: []Statement{{
				Effect: Allow,
				Principal: &Principal{Types: map[string]Values{
					"AWS":     {List: []string{"444455556666", "arn:aws:iam::444455556666:role/R"}},
					"Service": {List: []string{"s3.amazonaws.com"}, Single: true},
				}},
				Action:   Values{List: []string{"kms:Decrypt"}, Single: true},
				Resource: Values{List: []string{"*"}, Single: true},
			}}},
		},
		{
			name: "Principal Service list, Federated and CanonicalUser",
			in:   `{"Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"sts:AssumeRole"}]}`,
			want: &Document{Statements: []Statement{{
				Effect: Allow,
				Principal: &Principal{Types: map[string]Values{
					"Service":       {List: []string{"ec2.amazonaws.com", "lambda.amazonaws.com"}},
					"Federated":     {List: []string{"cognito-identity.amazonaws.com"}, Single: true},
					"CanonicalUser": {List: []string{"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, Single: true},
				}},
				Action: Values{List: []string{"sts:AssumeRole"}, Single: true},
			}}},
		},
		{
			name: "NotPrincipal",
			in:   `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`,
			want: &Document{Statements: []Statement{{
				Effect:       Deny,
				NotPrincipal: &Principal{Types: map[string]Values{"AWS": {List: []string{"arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"}}}},
				Action:       Values{List: []string{"s3:*"}, Single: true},
				Resource:     Values{List: []string{"arn:aws:s3:::b/*"}, Single: true},
			}}},
		},
		{
			name: "NotAction",
			in:   `{"Statement":[{"Effect":"Deny","NotAction":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`,
			want: &Document{Statements: []Statement{{
				Effect:    Deny,
				NotAction: Values{List: []string{"s3:GetObject", "s3:ListBucket"}},
				Resource:  Values{List: []string{"*"}, Single: true},
			}}},
		},
		{
			name: "NotResource",
			in:   `{"Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b/public/*"}]}`,
			want: &Document{Statements: []Statement{{
				Effect:      Deny,
				Action:      Values{List: []string{"s3:*"}, Single: true},
				NotResource: Values{List: []string{"arn:aws:s3:::b/public/*"}, Single: true},
			}}},
		},
		{
			name: "Condition values as string, bool, integer, float and mixed list, in document order",
			in: `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{` +
				`"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com","aws:PrincipalAccount":["444455556666","111122223333"]},` +
				`"Bool":{"aws:SecureTransport":false},` +
				`"NumericLessThan":{"s3:max-keys":10,"s3:TlsVersion":1.2},` +
				`"ForAnyValue:StringLike":{"aws:TagKeys":["a*",true,7]},` +
				`"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}}]}`,
			want: &Document{Statements: []Statement{{
				Effect:   Deny,
				Action:   Values{List: []string{"s3:*"}, Single: true},
				Resource: Values{List: []string{"*"}, Single: true},
				Condition: Conditions{
					{Operator: "StringEquals", Key: "kms:ViaService", Values: Values{List: []string{"s3.us-west-2.amazonaws.com"}, Single: true}},
					{Operator: "StringEquals", Key: "aws:PrincipalAccount", Values: Values{List: []string{"444455556666", "111122223333"}}},
					{Operator: "Bool", Key: "aws:SecureTransport", Values: Values{List: []string{"false"}, Single: true}},
					{Operator: "NumericLessThan", Key: "s3:max-keys", Values: Values{List: []string{"10"}, Single: true}},
					{Operator: "NumericLessThan", Key: "s3:TlsVersion", Values: Values{List: []string{"1.2"}, Single: true}},
					{Operator: "ForAnyValue:StringLike", Key: "aws:TagKeys", Values: Values{List: []string{"a*", "true", "7"}}},
					{Operator: "BoolIfExists", Key: "aws:MultiFactorAuthPresent", Values: Values{List: []string{"true"}, Single: true}},
				},
			}}},
		},
		{
			name: "Condition with an empty value list",
			in:   `{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"StringEquals":{"aws:x":[]}}}]}`,
			want: &Document{Statements: []Statement{{
				Effect:    Allow,
				Action:    Values{List: []string{"s3:*"}, Single: true},
				Condition: Conditions{{Operator: "StringEquals", Key: "aws:x", Values: Values{List: []string{}}}},
			}}},
		},
		{
			name: "empty Statement list",
			in:   `{"Version":"2012-10-17","Statement":[]}`,
			want: &Document{Version: "2012-10-17"},
		},
		{
			name: "several statements in order, with and without Sid",
			in:   `{"Statement":[{"Sid":"One","Effect":"Allow","Action":"a:b"},{"Effect":"Deny","Action":"c:d"}]}`,
			want: &Document{Statements: []Statement{
				{Sid: "One", Effect: Allow, Action: Values{List: []string{"a:b"}, Single: true}},
				{Effect: Deny, Action: Values{List: []string{"c:d"}, Single: true}},
			}},
		},
		{
			name: "surrounding and inner whitespace",
			in:   "\n\t {\n  \"Statement\" : [ { \"Effect\" : \"Allow\" , \"Action\" : [ \"a:b\" ] } ]\n}\n ",
			want: &Document{Statements: []Statement{{Effect: Allow, Action: Values{List: []string{"a:b"}}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, ignoreRaw); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
			// Every accepted document is written back as its compacted
			// input (all inputs above keep the Version, Id, Statement order).
			if diff := cmp.Diff(compact(t, tc.in), string(got.Compact())); diff != "" {
				t.Errorf("Compact() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// compact returns the compact form of a JSON text.
func compact(t *testing.T, in string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(in)); err != nil {
		t.Fatalf("compacting test input: %v", err)
	}
	return b.String()
}

// indent returns the form Pretty promises: json.Indent of the compact input,
// two spaces, ending in a newline.
func indent(t *testing.T, in string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(compact(t, in)), "", "  "); err != nil {
		t.Fatalf("indenting test input: %v", err)
	}
	return b.String() + "\n"
}

func TestPrettyRoundTripsParsedDocuments(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{
			name: "AWS default key policy",
			in: `{
  "Version": "2012-10-17",
  "Id": "key-default-1",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    }
  ]
}`,
		},
		{
			name: "statement keys in unusual order stay in that order",
			in:   `{"Version":"2012-10-17","Statement":[{"Resource":"arn:aws:s3:::b/*","Action":"s3:GetObject","Principal":{"Service":"s3.amazonaws.com","AWS":"*"},"Effect":"Allow","Sid":"Z"}]}`,
		},
		{
			name: "principal types in non-canonical order stay in that order",
			in:   `{"Statement":[{"Effect":"Allow","Principal":{"CanonicalUser":"abc","Service":"s3.amazonaws.com","AWS":["444455556666"]},"Action":"s3:GetObject"}]}`,
		},
		{
			name: "single-object Statement stays an object",
			in:   `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}}`,
		},
		{
			name: "condition operators and keys in document order, values keep their JSON types",
			in: `{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],` +
				`"Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:TlsVersion":1.2,"s3:max-keys":1e3},"StringNotEquals":{"aws:PrincipalOrgID":["o-b","o-a"]},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/R"}}}]}`,
		},
		{
			name: "HTML characters and escapes are kept as written",
			in:   `{"Version":"2012-10-17","Id":"a<b>&c","Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":["<home>/&*","\u003cescaped\u003e","tab\there","é"]}}}]}`,
		},
		{
			name: "NotPrincipal, NotAction and NotResource",
			in:   `{"Version":"2008-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"NotAction":"s3:GetObject","NotResource":["arn:aws:s3:::b/public/*"]}]}`,
		},
		{
			name: "several statements with an empty Condition object",
			in:   `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{}},{"Effect":"Deny","Action":"c:d","Condition":{"StringEquals":{}}}]}`,
		},
		{
			name: "empty Statement list",
			in:   `{"Version":"2012-10-17","Statement":[]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if diff := cmp.Diff(indent(t, tc.in), d.Pretty()); diff != "" {
				t.Errorf("Pretty() mismatch (-want +got):\n%s", diff)
			}
			b, err := d.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON error: %v", err)
			}
			if diff := cmp.Diff(compact(t, tc.in), string(b)); diff != "" {
				t.Errorf("MarshalJSON() mismatch (-want +got):\n%s", diff)
			}
			// An encoder goes through MarshalJSON too (without HTML
			// escaping, which encoding/json would add on its own).
			var viaEncoder bytes.Buffer
			enc := json.NewEncoder(&viaEncoder)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(d); err != nil {
				t.Fatalf("Encode error: %v", err)
			}
			if diff := cmp.Diff(compact(t, tc.in)+"\n", viaEncoder.String()); diff != "" {
				t.Errorf("json.Encoder mismatch (-want +got):\n%s", diff)
			}
			// Parsing the output again gives the same output.
			again, err := Parse([]byte(d.Pretty()))
			if err != nil {
				t.Fatalf("re-Parse error: %v", err)
			}
			if diff := cmp.Diff(d.Pretty(), again.Pretty()); diff != "" {
				t.Errorf("Pretty() not stable across a second Parse (-want +got):\n%s", diff)
			}
			for i, s := range d.Statements {
				var list []json.RawMessage
				var doc struct{ Statement json.RawMessage }
				if err := json.Unmarshal([]byte(tc.in), &doc); err != nil {
					t.Fatal(err)
				}
				raw := doc.Statement
				if json.Unmarshal(raw, &list) == nil {
					raw = list[i]
				}
				if diff := cmp.Diff(compact(t, string(raw)), s.String()); diff != "" {
					t.Errorf("Statements[%d].String() mismatch (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// Version, Id and Statement are written in that order, whatever the input's.
func TestMarshalOrdersTopLevelKeys(t *testing.T) {
	d, err := Parse([]byte(`{"Statement":[{"Effect":"Allow","Action":"a:b"}],"Id":"x","Version":"2012-10-17"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Action":"a:b"}]}`
	if diff := cmp.Diff(want, string(d.Compact())); diff != "" {
		t.Errorf("Compact() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantPath string
		// wantMsg is a substring of the message.
		wantMsg string
	}{
		{name: "empty input", in: "", wantMsg: "not JSON"},
		{name: "not JSON", in: "Version: 2012-10-17", wantMsg: "not JSON"},
		{name: "truncated JSON", in: `{"Statement":[`, wantMsg: "not JSON"},
		{name: "trailing garbage", in: `{"Statement":[]} x`, wantMsg: "not JSON"},
		{name: "top-level list", in: `[{"Statement":[]}]`, wantMsg: "a policy document must be a JSON object"},
		{name: "top-level string", in: `"policy"`, wantMsg: "a policy document must be a JSON object"},
		{name: "top-level null", in: `null`, wantMsg: "a policy document must be a JSON object"},
		{name: "top-level number", in: `42`, wantMsg: "a policy document must be a JSON object"},
		{name: "unknown top-level element", in: `{"Version":"2012-10-17","Statement":[],"Comment":"x"}`, wantPath: "Comment", wantMsg: "unknown policy element"},
		{name: "top-level element names are case-sensitive", in: `{"Version":"2012-10-17","statement":[]}`, wantPath: "statement", wantMsg: "unknown policy element"},
		{name: "missing Statement", in: `{"Version":"2012-10-17"}`, wantMsg: "missing Statement"},
		{name: "Version not a string", in: `{"Version":2012,"Statement":[]}`, wantPath: "Version", wantMsg: "must be a string"},
		{name: "unknown Version", in: `{"Version":"2012-10-18","Statement":[]}`, wantPath: "Version", wantMsg: `got "2012-10-18"`},
		{name: "Id not a string", in: `{"Id":1,"Statement":[]}`, wantPath: "Id", wantMsg: "must be a string"},
		{name: "Statement a string", in: `{"Statement":"Allow"}`, wantPath: "Statement", wantMsg: "must be an object or a list of objects"},
		{name: "Statement null", in: `{"Statement":null}`, wantPath: "Statement", wantMsg: "must be an object or a list of objects"},
		{name: "Statement list holding a string", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},"x"]}`, wantPath: "Statement[1]", wantMsg: "a statement must be a JSON object"},
		{name: "unknown statement element", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b","Actions":"c:d"}]}`, wantPath: "Statement[1].Actions", wantMsg: "unknown statement element"},
		{name: "unknown element in a single-object Statement", in: `{"Statement":{"Effect":"Allow","Action":"a:b","Foo":1}}`, wantPath: "Statement.Foo", wantMsg: "unknown statement element"},
		{name: "missing Effect", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Action":"a:b"}]}`, wantPath: "Statement[1]", wantMsg: "missing Effect"},
		{name: "Effect in lower case", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"allow","Action":"a:b"}]}`, wantPath: "Statement[1].Effect", wantMsg: `must be "Allow" or "Deny", got "allow"`},
		{name: "Effect not a string", in: `{"Statement":[{"Effect":true,"Action":"a:b"}]}`, wantPath: "Statement[0].Effect", wantMsg: `must be "Allow" or "Deny", got true`},
		{name: "Effect empty", in: `{"Statement":{"Effect":"","Action":"a:b"}}`, wantPath: "Statement.Effect", wantMsg: `must be "Allow" or "Deny"`},
		{name: "both Action and NotAction", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b","NotAction":"c:d"}]}`, wantPath: "Statement[1]", wantMsg: "needs exactly one of Action and NotAction"},
		{name: "neither Action nor NotAction", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Resource":"*"}]}`, wantPath: "Statement[1]", wantMsg: "needs exactly one of Action and NotAction"},
		{name: "both Resource and NotResource", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","NotResource":"x"}]}`, wantPath: "Statement[0]", wantMsg: "has both Resource and NotResource"},
		{name: "both Principal and NotPrincipal", in: `{"Statement":[{"Effect":"Deny","Action":"a:b","Principal":"*","NotPrincipal":{"AWS":"444455556666"}}]}`, wantPath: "Statement[0]", wantMsg: "has both Principal and NotPrincipal"},
		{name: "Sid not a string", in: `{"Statement":[{"Sid":1,"Effect":"Allow","Action":"a:b"}]}`, wantPath: "Statement[0].Sid", wantMsg: "must be a string"},
		{name: "Action a number", in: `{"Statement":[{"Effect":"Allow","Action":1}]}`, wantPath: "Statement[0].Action", wantMsg: "must be a string or a list of strings"},
		{name: "Action list holding a number", in: `{"Statement":[{"Effect":"Allow","Action":["a:b",2]}]}`, wantPath: "Statement[0].Action[1]", wantMsg: "must be a string"},
		{name: "Action null", in: `{"Statement":[{"Effect":"Allow","Action":null}]}`, wantPath: "Statement[0].Action", wantMsg: "must be a string or a list of strings"},
		{name: "Action list holding null", in: `{"Statement":[{"Effect":"Allow","Action":["a:b",null]}]}`, wantPath: "Statement[0].Action[1]", wantMsg: "must be a string"},
		{name: "Resource null", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":null}]}`, wantPath: "Statement[0].Resource", wantMsg: "must be a string or a list of strings"},
		{name: "NotResource an object", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","NotResource":{"x":"y"}}]}`, wantPath: "Statement[0].NotResource", wantMsg: "must be a string or a list of strings"},
		{name: "NotAction a bool", in: `{"Statement":[{"Effect":"Allow","NotAction":false}]}`, wantPath: "Statement[0].NotAction", wantMsg: "must be a string or a list of strings"},
		{name: "Principal an ARN string", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b","Principal":"arn:aws:iam::444455556666:root"}]}`, wantPath: "Statement[1].Principal", wantMsg: `must be "*" or an object`},
		{name: "Principal an account ID string", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Principal":"444455556666"}]}`, wantPath: "Statement[0].Principal", wantMsg: `got "444455556666"`},
		{name: "Principal a number", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Principal":444455556666}]}`, wantPath: "Statement[0].Principal", wantMsg: `must be "*" or an object`},
		{name: "Principal a list", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Principal":["*"]}]}`, wantPath: "Statement[0].Principal", wantMsg: `must be "*" or an object`},
		{name: "unknown principal type", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b","Principal":{"Aws":"*"}}]}`, wantPath: "Statement[1].Principal.Aws", wantMsg: "unknown principal type"},
		{name: "unknown NotPrincipal type", in: `{"Statement":[{"Effect":"Deny","Action":"a:b","NotPrincipal":{"User":"Bob"}}]}`, wantPath: "Statement[0].NotPrincipal.User", wantMsg: "unknown principal type"},
		{name: "principal value a number", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Principal":{"AWS":444455556666}}]}`, wantPath: "Statement[0].Principal.AWS", wantMsg: "must be a string or a list of strings"},
		{name: "Condition a list", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":[]}]}`, wantPath: "Statement[0].Condition", wantMsg: "must be an object of condition operators"},
		{name: "condition operator holding a string", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringEquals":"x"}}]}`, wantPath: "Statement[0].Condition.StringEquals", wantMsg: "must be an object of condition keys"},
		{name: "condition value an object", in: `{"Statement":[{"Effect":"Allow","Action":"a:b"},{"Effect":"Allow","Action":"a:b","Condition":{"StringEquals":{"aws:PrincipalTag/team":{"x":"y"}}}}]}`, wantPath: "Statement[1].Condition.StringEquals.aws:PrincipalTag/team", wantMsg: "condition values must be strings, numbers or booleans"},
		{name: "condition value list holding an object", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringLike":{"s3:prefix":["a/*",{"x":1}]}}}]}`, wantPath: "Statement[0].Condition.StringLike.s3:prefix", wantMsg: "condition values must be strings, numbers or booleans"},
		{name: "condition value a nested list", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"StringLike":{"s3:prefix":[["a"]]}}}]}`, wantPath: "Statement[0].Condition.StringLike.s3:prefix", wantMsg: "condition values must be strings, numbers or booleans"},
		{name: "condition value null", in: `{"Statement":[{"Effect":"Allow","Action":"a:b","Condition":{"Null":{"aws:x":null}}}]}`, wantPath: "Statement[0].Condition.Null.aws:x", wantMsg: "condition values must be strings, numbers or booleans"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%s) = %s, want an error", tc.in, d.Compact())
			}
			if d != nil {
				t.Errorf("Parse returned a document with its error")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *policy.Error", err, err)
			}
			if diff := cmp.Diff(tc.wantPath, pe.Path); diff != "" {
				t.Errorf("error path mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if !strings.Contains(pe.Msg, tc.wantMsg) {
				t.Errorf("error message %q does not contain %q", pe.Msg, tc.wantMsg)
			}
			wantText := tc.wantPath + ": " + pe.Msg
			if tc.wantPath == "" {
				wantText = pe.Msg
			}
			if diff := cmp.Diff(wantText, err.Error()); diff != "" {
				t.Errorf("Error() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStatement(t *testing.T) {
	in := `{"Sid":"S","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}`
	got, err := ParseStatement([]byte(in))
	if err != nil {
		t.Fatalf("ParseStatement error: %v", err)
	}
	want := Statement{
		Sid:       "S",
		Effect:    Allow,
		Principal: &Principal{Types: map[string]Values{"AWS": {List: []string{"444455556666"}, Single: true}}},
		Action:    Values{List: []string{"s3:GetObject"}},
		Resource:  Values{List: []string{"arn:aws:s3:::b/*"}, Single: true},
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Errorf("ParseStatement mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(in, got.String()); diff != "" {
		t.Errorf("String() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseStatementErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantPath string
		wantMsg  string
	}{
		{name: "not JSON", in: `{"Effect":`, wantMsg: "not JSON"},
		{name: "not an object", in: `["Allow"]`, wantMsg: "a statement must be a JSON object"},
		{name: "missing Effect", in: `{"Action":"a:b"}`, wantMsg: "missing Effect"},
		{name: "neither Action nor NotAction", in: `{"Effect":"Deny"}`, wantMsg: "needs exactly one of Action and NotAction"},
		{
			name: "bad Effect is located at Effect", in: `{"Effect":"Permit","Action":"a:b"}`, wantPath: "Effect", wantMsg: `must be "Allow" or "Deny"`,
		},
		{
			name: "unknown element is located at its name", in: `{"Effect":"Allow","Action":"a:b","Foo":1}`, wantPath: "Foo", wantMsg: "unknown statement element",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStatement([]byte(tc.in))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *policy.Error", err, err)
			}
			if diff := cmp.Diff(tc.wantPath, pe.Path); diff != "" {
				t.Errorf("error path mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(pe.Msg, tc.wantMsg) {
				t.Errorf("error message %q does not contain %q", pe.Msg, tc.wantMsg)
			}
		})
	}
}

func TestCheckPolicyKinds(t *testing.T) {
	for _, tt := range []struct {
		name        string
		doc         string
		resourceErr string
		identityErr string
	}{
		{
			name:        "resource policy statement",
			doc:         `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`,
			identityErr: "Statement[0]: an IAM policy statement cannot have Principal or NotPrincipal",
		},
		{
			name:        "identity policy statement",
			doc:         `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/*"}}`,
			resourceErr: "Statement: a resource policy statement needs Principal or NotPrincipal",
		},
		{
			name:        "no resource at all",
			doc:         `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}`,
			resourceErr: "Statement[0]: a resource policy statement needs Principal or NotPrincipal",
			identityErr: "Statement[1]: an IAM policy statement cannot have Principal or NotPrincipal",
		},
		{
			name:        "resource policy without Resource",
			doc:         `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*"}]}`,
			resourceErr: "Statement[0]: needs Resource or NotResource",
			identityErr: "Statement[0]: an IAM policy statement cannot have Principal or NotPrincipal",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			errText := func(err error) string {
				if err == nil {
					return ""
				}
				return err.Error()
			}
			if got := errText(d.CheckResourcePolicy()); got != tt.resourceErr {
				t.Errorf("CheckResourcePolicy() = %q, want %q", got, tt.resourceErr)
			}
			if got := errText(d.CheckIdentityPolicy()); got != tt.identityErr {
				t.Errorf("CheckIdentityPolicy() = %q, want %q", got, tt.identityErr)
			}
		})
	}
}
