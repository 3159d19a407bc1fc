package grantsfile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseYAML(t *testing.T) {
	data := `# Consumers of the data lake.
profiles:
  "111122223333": data-owner
  012345678901: analytics
grants:
  - bucket: doc-example-bucket
    prefix: reports/
    grantee: arn:aws:iam::444455556666:role/reader
  - bucket: doc-example-bucket
    prefix: [logs/, raw/]
    grantee:
      - arn:aws:iam::444455556666:role/a
      - "012345678901"
    key: alias/app-data
    access: [read, list]
    iam_policy_name: lake
`
	f, err := Parse("grants.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		// Account IDs are kept as written, leading zero and all, never
		// read as numbers.
		Profiles: map[string]string{"111122223333": "data-owner", "012345678901": "analytics"},
		Grants: []Entry{
			{Line: 6, Index: 1, Where: "grants.yaml:6 (grant 1)", Bucket: "doc-example-bucket", Prefixes: []string{"reports/"},
				Grantees: []string{"arn:aws:iam::444455556666:role/reader"}},
			{Line: 9, Index: 2, Where: "grants.yaml:9 (grant 2)", Bucket: "doc-example-bucket", Prefixes: []string{"logs/", "raw/"},
				Grantees: []string{"arn:aws:iam::444455556666:role/a", "012345678901"}, Key: "alias/app-data",
				Access: "read,list", IAMPolicyName: "lake"},
		},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

// Aliases stand for their anchors' values: a whole list, a list item, a
// whole grant.
func TestParseAliases(t *testing.T) {
	data := `grants:
  - &first
    bucket: b
    grantee: [&r arn:aws:iam::444455556666:role/r, arn:aws:iam::444455556666:role/s]
  - bucket: c
    grantee: [*r]
  - *first
`
	f, err := Parse("g.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Grants) != 3 || f.Grants[1].Grantees[0] != "arn:aws:iam::444455556666:role/r" || f.Grants[2].Bucket != "b" || len(f.Grants[2].Grantees) != 2 {
		t.Errorf("grants = %+v", f.Grants)
	}
}

// JSON is read by the same parser, with the same lines.
func TestParseJSON(t *testing.T) {
	data := `{
  "grants": [
    {"bucket": "b1", "grantee": "444455556666"},
    {
      "bucket": "b2",
      "grantee": ["arn:aws:iam::444455556666:role/x"]
    }
  ]
}`
	f, err := Parse("grants.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Grants) != 2 || f.Grants[1].Where != "grants.json:4 (grant 2)" || f.Grants[0].Prefixes[0] != "" {
		t.Errorf("grants = %+v", f.Grants)
	}
}

func TestParseErrorsNameFileLineAndGrant(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "g.yaml: the file is empty; want a grants list"},
		{"not YAML", "grants: [", "g.yaml: line 1: did not find expected node content"},
		{"list at the top", "- bucket: b\n", "g.yaml:1: want a mapping with a grants list at the top"},
		{"grants twice", "grants:\n  - {bucket: a, grantee: x}\ngrants:\n  - {bucket: b, grantee: x}\n", "g.yaml:3: grants is given twice"},
		{"merge key", "base: &b {bucket: a}\ngrants:\n  - <<: *b\n    grantee: x\n", "g.yaml:1: unknown top-level field \"base\" (want grants, profiles)"},
		{"merge key in a grant", "grants:\n  - <<: {bucket: a}\n    grantee: x\n", "g.yaml:2 (grant 1): YAML merge keys (<<) are not taken; give the fields in each grant, or use an anchor for a whole list"},
		{"two documents", "grants:\n  - {bucket: b, grantee: x}\n---\ngrants: []\n", "g.yaml:3: a second YAML document; a grants file holds one"},
		{"no grants", "profiles: {}\n", "g.yaml: no grants list"},
		{"empty grants", "grants: []\n", "g.yaml:1: grants: the list is empty"},
		{"unknown top-level", "grant:\n  - bucket: b\n", `g.yaml:1: unknown top-level field "grant" (want grants, profiles)`},
		{"misspelt field", "grants:\n  - bucket: b\n    grantee: 444455556666\n    prefx: a/\n", `g.yaml:4 (grant 1): unknown field "prefx" (did you mean prefix?)`},
		{"plural field", "grants:\n  - bucket: b\n    grantees: [444455556666]\n", `g.yaml:3 (grant 1): unknown field "grantees" (did you mean grantee?)`},
		{"missing", "grants:\n  - bucket: b\n    grantee: x\n  - prefix: a/\n", "g.yaml:4 (grant 2): bucket and grantee are required"},
		{"missing grantee", "grants:\n  - bucket: b\n", "g.yaml:2 (grant 1): grantee is required"},
		{"list of buckets", "grants:\n  - bucket: [a, b]\n    grantee: x\n", "g.yaml:2 (grant 1): bucket: want a string"},
		{"map grantee", "grants:\n  - bucket: b\n    grantee: {arn: x}\n", "g.yaml:3 (grant 1): grantee: want a string or a list of strings"},
		{"null grantee", "grants:\n  - bucket: b\n    grantee:\n", "g.yaml:3 (grant 1): grantee: want a string or a list of strings"},
		{"twice", "grants:\n  - bucket: b\n    bucket: c\n    grantee: x\n", "g.yaml:3 (grant 1): bucket is given twice"},
		{"grant not a mapping", "grants:\n  - b\n", "g.yaml:2 (grant 1): want a mapping of bucket, grantee and the other fields"},
		{"bad account", "profiles:\n  4444: p\ngrants:\n  - {bucket: b, grantee: x}\n", `g.yaml:2: profiles: "4444" is not a 12-digit account ID`},
		{"profile twice", "profiles:\n  \"444455556666\": p\n  444455556666: q\ngrants:\n  - {bucket: b, grantee: x}\n", "g.yaml:3: profiles: account 444455556666 is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("g.yaml", []byte(tc.data))
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// Whatever the bytes, Parse answers without panicking, and a file it takes
// has a bucket and a grantee in every grant, and a prefix list.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"grants:\n  - bucket: b\n    grantee: x\n",
		"profiles:\n  \"111122223333\": p\ngrants:\n  - {bucket: b, grantee: [x, y], prefix: [a/, b/], access: [read, list]}\n",
		`{"grants": [{"bucket": "b", "grantee": "444455556666"}]}`,
		"grants:\n  - &g {bucket: b, grantee: x}\n  - *g\n",
		"grants: [",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		for _, g := range file.Grants {
			if g.Bucket == "" || len(g.Grantees) == 0 || len(g.Prefixes) == 0 {
				t.Fatalf("grant %+v taken from %q", g, data)
			}
		}
	})
}
