package policy

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sortConditions compares conditions as a set: rebuilding groups them by
// operator, which does not change their meaning.
var sortConditions = cmpopts.SortSlices(func(a, b Condition) bool {
	if a.Operator != b.Operator {
		return a.Operator < b.Operator
	}
	return a.Key < b.Key
})

// FuzzParse checks that any document Parse accepts is written back as valid
// JSON that parses again to the same document.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":[]}`,
		`{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r"]},"NotAction":["s3:Get*"],"NotResource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}}]}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com","CanonicalUser":"79a5"},"Action":["kms:Decrypt"],"Resource":["*"],"Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-1/*","<html>&"]}}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		pretty := doc.Pretty()
		if !json.Valid([]byte(pretty)) {
			t.Fatalf("Pretty is not JSON:\n%s", pretty)
		}
		again, err := Parse([]byte(pretty))
		if err != nil {
			t.Fatalf("Pretty does not parse again: %v\n%s", err, pretty)
		}
		if got := again.Pretty(); got != pretty {
			t.Fatalf("round trip changed the document:\nfirst:\n%s\nsecond:\n%s", pretty, got)
		}
		// A statement rebuilt from its fields (as kmsgrant does for its own
		// statements) means the same as the original.
		for i, st := range doc.Statements {
			rebuilt, err := ParseStatement([]byte(st.Clone().String()))
			if err != nil {
				t.Fatalf("statement %d rebuilt from fields does not parse: %v\n%s", i, err, st.Clone().String())
			}
			if diff := cmp.Diff(st, rebuilt, cmpopts.IgnoreUnexported(Statement{}), cmpopts.EquateEmpty(), sortConditions); diff != "" {
				t.Fatalf("statement %d changed meaning when rebuilt (-orig +rebuilt):\n%s", i, diff)
			}
		}
	})
}
