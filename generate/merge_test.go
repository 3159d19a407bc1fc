package generate

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

func statementStrings(d *policy.Document) []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, st := range d.Statements {
		out = append(out, st.String())
	}
	return out
}

// TestChangesKeepsUnrelatedStatements checks that statements kmsgrant did
// not write come out byte for byte as they went in, in their order, with
// kmsgrant's statements after them.
func TestChangesKeepsUnrelatedStatements(t *testing.T) {
	bucketPolicy := `{
	  "Version": "2012-10-17",
	  "Id": "bucket-policy-1",
	  "Statement": [
	    {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::doc-example-bucket","arn:aws:s3:::doc-example-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}},
	    {"Sid": "Z-last-sorted", "Resource": "arn:aws:s3:::doc-example-bucket/public/*", "Action": ["s3:GetObject"], "Principal": {"AWS": ["arn:aws:iam::777788889999:root", "999988887777"]}, "Effect": "Allow"},
	    {"Sid": "Cloudfront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/site/*",
	     "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}}},
	    {"Sid": "KmsgrantGetObject00000000", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:role/old"}, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::doc-example-bucket/old/*"}
	  ]
	}`
	keyPolicy := `{
	  "Version": "2012-10-17",
	  "Id": "key-consolepolicy-3",
	  "Statement": [
	    ` + defaultKeyStatement + `,
	    {"Sid": "Allow access for Key Administrators", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"},
	     "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
	     "Resource": "*"}
	  ]
	}`
	iamPolicy := `{"Version":"2012-10-17","Statement":{"Sid":"Mine","Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-west-2:444455556666:q"}}`
	singleBucketStatement := `{"Version": "2012-10-17", "Statement": {"Sid": "One", "Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/x/*"}}`
	tests := []struct {
		name   string
		bucket string
		key    string
		iam    string
		added  map[string]int
	}{
		{name: "lists of statements", bucket: bucketPolicy, key: keyPolicy, iam: iamPolicy,
			added: map[string]int{KindBucketPolicy: 2, KindKeyPolicy: 1, KindIAMPolicy: 3}},
		{name: "single statement objects", bucket: singleBucketStatement, key: keyPolicy, iam: iamPolicy,
			added: map[string]int{KindBucketPolicy: 2, KindKeyPolicy: 1, KindIAMPolicy: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			in.Bucket.Policy = doc(tt.bucket)
			in.Key.Policy = doc(tt.key)
			in.Grantee.Inline = []NamedPolicy{
				{Name: "other", Doc: docOf(`{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}`)},
				{Name: seedPolicyName, Doc: doc(tt.iam)},
			}
			current := map[string]*policy.Document{
				KindBucketPolicy: in.Bucket.Policy,
				KindKeyPolicy:    in.Key.Policy,
				KindIAMPolicy:    in.Grantee.Inline[1].Doc,
			}
			r := plan(t, seedGrant("list", "read"), in)
			for kind, cur := range current {
				c := change(t, r, kind)
				if c.Action != Update {
					t.Errorf("%s action = %s, want update", kind, c.Action)
					continue
				}
				if c.Before != cur.Pretty() {
					t.Errorf("%s Before is not the current document", kind)
				}
				before := statementStrings(cur)
				after := statementStrings(c.Policy)
				if len(after) != len(before)+tt.added[kind] {
					t.Fatalf("%s has %d statements, want %d", kind, len(after), len(before)+tt.added[kind])
				}
				if diff := cmp.Diff(before, after[:len(before)]); diff != "" {
					t.Errorf("%s existing statements (-before +after):\n%s", kind, diff)
				}
				for _, st := range c.Policy.Statements[len(before):] {
					if !sidRE.MatchString(st.Sid) {
						t.Errorf("%s added statement with Sid %q", kind, st.Sid)
					}
				}
				// The document's own elements are kept too.
				if c.Policy.ID != cur.ID || c.Policy.Version != cur.Version {
					t.Errorf("%s Id, Version = %q, %q; want %q, %q", kind, c.Policy.ID, c.Policy.Version, cur.ID, cur.Version)
				}
				// And the new document reads back as it is written.
				back, err := policy.Parse([]byte(c.After))
				if err != nil {
					t.Fatalf("%s After does not parse: %v", kind, err)
				}
				if diff := cmp.Diff(after, statementStrings(back)); diff != "" {
					t.Errorf("%s After round trip (-want +got):\n%s", kind, diff)
				}
			}
			// Other inline policies are not part of the change.
			if c := change(t, r, KindIAMPolicy); c.PolicyName != seedPolicyName {
				t.Errorf("iam_policy name = %s", c.PolicyName)
			}
		})
	}
}

// TestChangesSecondGrantee checks that a second grantee given the same
// access joins the first one's statements instead of adding near-copies.
func TestChangesSecondGrantee(t *testing.T) {
	tests := []struct {
		name    string
		second  string
		access  []string
		bucketN int // Kmsgrant statements in the bucket policy
	}{
		{"same account, read", analystARN, []string{"read"}, 1},
		{"same account, list and read", analystARN, []string{"list", "read"}, 2},
		{"other account", "arn:aws:iam::777788889999:role/auditor", []string{"read"}, 1},
		{"user", aliceARN, []string{"list", "read", "write"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			first := plan(t, seedGrant(tt.access...), in)
			in = applied(t, in, first)
			firstBucket := in.Bucket.Policy.Pretty()
			firstKey := in.Key.Policy.Pretty()

			g := seedGrant(tt.access...)
			g.Grantee = principal(tt.second)
			in.Grantee = &Grantee{Principal: g.Grantee}
			r := plan(t, g, in)
			if len(r.Blockers) > 0 {
				t.Fatalf("blockers: %v", r.Blockers)
			}
			want := []string{"bucket_policy update", "key_policy update", "iam_policy create"}
			if diff := cmp.Diff(want, actions(r)); diff != "" {
				t.Fatalf("actions (-want +got):\n%s", diff)
			}
			for kind, firstDoc := range map[string]*policy.Document{KindBucketPolicy: in.Bucket.Policy, KindKeyPolicy: in.Key.Policy} {
				c := change(t, r, kind)
				was, now := kmsgrantStatements(firstDoc), kmsgrantStatements(c.Policy)
				if len(now) != len(was) {
					t.Fatalf("%s: %d Kmsgrant statements, want %d (joined)", kind, len(now), len(was))
				}
				if len(c.Policy.Statements) != len(firstDoc.Statements) {
					t.Errorf("%s: %d statements, want %d", kind, len(c.Policy.Statements), len(firstDoc.Statements))
				}
				for i := range now {
					if now[i].Sid != was[i].Sid {
						t.Errorf("%s statement %d Sid = %s, want %s", kind, i, now[i].Sid, was[i].Sid)
					}
					if diff := cmp.Diff([]string{readerARN, tt.second}, now[i].Principal.AWS()); diff != "" {
						t.Errorf("%s %s principals (-want +got):\n%s", kind, now[i].Sid, diff)
					}
					// Only the principal changed.
					a, b := now[i].Clone(), was[i].Clone()
					a.Principal, b.Principal = nil, nil
					if diff := cmp.Diff(shape(b), shape(a)); diff != "" {
						t.Errorf("%s %s changed beyond its principal (-want +got):\n%s", kind, now[i].Sid, diff)
					}
				}
			}
			if got := len(kmsgrantStatements(change(t, r, KindBucketPolicy).Policy)); got != tt.bucketN {
				t.Errorf("bucket policy has %d Kmsgrant statements, want %d", got, tt.bucketN)
			}
			// The documents given were not changed by the join.
			if in.Bucket.Policy.Pretty() != firstBucket || in.Key.Policy.Pretty() != firstKey {
				t.Error("the input documents were changed")
			}
			// And a third run with both grantees settles.
			again := plan(t, g, applied(t, in, r))
			for _, c := range again.Changes {
				if c.Action != NoOp {
					t.Errorf("third run: %s %s, want no-op (%s)", c.Kind, c.Action, c.Reason)
				}
			}
			// The first grantee still has access.
			in2 := applied(t, in, r)
			in2.Grantee = &Grantee{Principal: principal(readerARN)}
			check := plan(t, seedGrant(tt.access...), in2)
			for _, kind := range []string{KindBucketPolicy, KindKeyPolicy} {
				if c := change(t, check, kind); c.Action != NoOp {
					t.Errorf("first grantee after the join: %s %s, want no-op", kind, c.Action)
				}
			}
		})
	}
}

// TestChangesIdempotent applies a plan and plans again: everything must be
// a no-op the second time.
func TestChangesIdempotent(t *testing.T) {
	tests := []struct {
		name      string
		access    []string
		prefix    string
		bucketKey bool
		noPolicy  bool
		grantee   string
	}{
		{name: "read", access: []string{"read"}, prefix: seedPrefix, bucketKey: true},
		{name: "read, no bucket keys", access: []string{"read"}, prefix: seedPrefix},
		{name: "list read write", access: []string{"list", "read", "write"}, prefix: seedPrefix, bucketKey: true},
		{name: "whole bucket", access: []string{"list", "read"}, prefix: ""},
		{name: "no bucket policy", access: []string{"read", "write"}, prefix: "a/b/", noPolicy: true},
		{name: "user", access: []string{"read"}, prefix: seedPrefix, grantee: aliceARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			in.Bucket.Encryption.BucketKeyEnabled = tt.bucketKey
			if tt.noPolicy {
				in.Bucket.Policy = nil
			}
			g := seedGrant(tt.access...)
			g.Prefix = tt.prefix
			if tt.grantee != "" {
				g.Grantee = principal(tt.grantee)
				in.Grantee = &Grantee{Principal: g.Grantee}
			}
			first := plan(t, g, in)
			if !first.HasChanges() {
				t.Fatal("first run has no changes")
			}
			second := plan(t, g, applied(t, in, first))
			if len(second.Blockers) > 0 {
				t.Fatalf("second run blockers: %v", second.Blockers)
			}
			want := []string{"bucket_policy no-op", "key_policy no-op", "iam_policy no-op"}
			if diff := cmp.Diff(want, actions(second)); diff != "" {
				t.Errorf("second run actions (-want +got):\n%s", diff)
			}
			if second.HasChanges() {
				t.Error("second run HasChanges() = true")
			}
			for _, c := range second.Changes {
				if c.Before != c.After {
					t.Errorf("%s: no-op with Before != After", c.Kind)
				}
			}
		})
	}
}

func TestMerge(t *testing.T) {
	const (
		reader  = "arn:aws:iam::444455556666:role/reader"
		analyst = "arn:aws:iam::444455556666:role/analyst"
	)
	mine := `{"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}`
	// grant is the statement kmsgrant writes for principals on object
	// ARNs, with the Sid it gives that form.
	grant := func(principals []string, resources ...string) string {
		st := policy.Statement{Effect: policy.Allow, Action: policy.Strings("s3:GetObject"), Resource: policy.Strings(resources...)}
		st.Action.Single = false
		if principals != nil {
			st.Principal = &policy.Principal{Types: map[string]policy.Values{"AWS": policy.Strings(principals...)}}
		}
		st.Sid = sidFor(KindBucketPolicy, st.Action.List, st)
		return st.String()
	}
	p := func(ps ...string) []string { return ps }
	st := func(s string) policy.Statement {
		p, err := policy.ParseStatement([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	edited := strings.Replace(grant(p(reader), "arn:aws:s3:::b/a/*"), "b/a/*", "b/a/2024/*", 1)
	tests := []struct {
		name string
		doc  *policy.Document
		add  []string
		want []string // statements of the result
	}{
		{
			name: "nil document",
			add:  []string{grant(p(reader), "arn:aws:s3:::b/a/*")},
			want: []string{grant(p(reader), "arn:aws:s3:::b/a/*")},
		},
		{
			name: "appends after others",
			doc:  docOf(mine),
			add:  []string{grant(p(reader), "arn:aws:s3:::b/a/*")},
			want: []string{mine, grant(p(reader), "arn:aws:s3:::b/a/*")},
		},
		{
			name: "a second grantee of a prefix joins its statement, in place",
			doc:  docOf(grant(p(reader), "arn:aws:s3:::b/a/*"), mine),
			add:  []string{grant(p(analyst), "arn:aws:s3:::b/a/*")},
			want: []string{grant(p(reader, analyst), "arn:aws:s3:::b/a/*"), mine},
		},
		{
			name: "the same grant again changes nothing",
			doc:  docOf(mine, grant(p(reader), "arn:aws:s3:::b/a/*")),
			add:  []string{grant(p(reader), "arn:aws:s3:::b/a/*")},
			want: []string{mine, grant(p(reader), "arn:aws:s3:::b/a/*")},
		},
		{
			name: "a second prefix of the same grantees joins their statement's list",
			doc:  docOf(mine, grant(p(reader, analyst), "arn:aws:s3:::b/a/*")),
			add:  []string{grant(p(reader), "arn:aws:s3:::b/c/*"), grant(p(analyst), "arn:aws:s3:::b/c/*")},
			want: []string{mine, grant(p(reader, analyst), "arn:aws:s3:::b/a/*", "arn:aws:s3:::b/c/*")},
		},
		{
			// Listing both on both would give analyst b/c/. Of the two
			// exact ways, the shorter: a statement for each principal's
			// prefixes, as principal ARNs are longer than these.
			name: "grantees with different prefixes do not share a statement",
			doc:  docOf(grant(p(reader, analyst), "arn:aws:s3:::b/a/*")),
			add:  []string{grant(p(reader), "arn:aws:s3:::b/c/*")},
			want: []string{grant(p(analyst), "arn:aws:s3:::b/a/*"), grant(p(reader), "arn:aws:s3:::b/a/*", "arn:aws:s3:::b/c/*")},
		},
		{
			// The same, with long prefixes: a statement for each set of
			// prefixes the same principals hold is the shorter.
			name: "the shorter of the two exact ways",
			doc:  docOf(grant(p(reader, analyst), "arn:aws:s3:::b/"+strings.Repeat("a", 80)+"/*")),
			add:  []string{grant(p(reader), "arn:aws:s3:::b/"+strings.Repeat("c", 80)+"/*")},
			want: []string{grant(p(reader, analyst), "arn:aws:s3:::b/"+strings.Repeat("a", 80)+"/*"), grant(p(reader), "arn:aws:s3:::b/"+strings.Repeat("c", 80)+"/*")},
		},
		{
			name: "an identity policy's statements share one list",
			doc:  docOf(grant(nil, "arn:aws:s3:::b/a/*")),
			add:  []string{grant(nil, "arn:aws:s3:::x/c/*")},
			want: []string{grant(nil, "arn:aws:s3:::b/a/*", "arn:aws:s3:::x/c/*")},
		},
		{
			// Its Sid no longer tells its form: it is someone's now.
			name: "an edited kmsgrant statement is left as it is",
			doc:  docOf(edited),
			add:  []string{grant(p(analyst), "arn:aws:s3:::b/a/*")},
			want: []string{edited, strings.Replace(grant(p(analyst), "arn:aws:s3:::b/a/*"), `","Effect"`, `V2","Effect"`, 1)},
		},
		{
			// ...and the added statement takes a Sid of its own, since
			// policies need unique Sids.
			name: "a Sid without the prefix is never joined",
			doc:  docOf(`{"Sid": "GetObjectABCD1234", "Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}`),
			add:  []string{`{"Sid": "GetObjectABCD1234", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}`},
			want: []string{
				`{"Sid": "GetObjectABCD1234", "Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}`,
				`{"Sid": "GetObjectABCD1234V2", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before string
			if tt.doc != nil {
				before = tt.doc.Pretty()
			}
			var add []policy.Statement
			for _, s := range tt.add {
				add = append(add, st(s))
			}
			got := Merge(KindBucketPolicy, tt.doc, add)
			var gotShapes []string
			for _, s := range got.Statements {
				gotShapes = append(gotShapes, shape(s)+" sid="+s.Sid)
			}
			var wantShapes []string
			for _, s := range tt.want {
				p := st(s)
				wantShapes = append(wantShapes, shape(p)+" sid="+p.Sid)
			}
			if diff := cmp.Diff(wantShapes, gotShapes); diff != "" {
				t.Errorf("Merge (-want +got):\n%s", diff)
			}
			if tt.doc != nil && tt.doc.Pretty() != before {
				t.Error("Merge changed its input")
			}
			if tt.doc != nil {
				// Statements kmsgrant did not write keep their bytes.
				for _, s := range tt.doc.Statements {
					if !s.HasSidPrefix(SidPrefix) && !strings.Contains(got.Pretty(), s.String()) && !slices.ContainsFunc(got.Statements, func(g policy.Statement) bool { return g.String() == s.String() }) {
						t.Errorf("statement %s was changed or lost", s.Sid)
					}
				}
			}
		})
	}
}

// TestChangesEditedKmsgrantStatement: a Kmsgrant statement that someone
// narrowed after kmsgrant wrote it keeps its Sid, so the Sid no longer
// tells its shape. The plan must still make access work, or say why not;
// a silent no-op leaves the grantee denied with nothing to go on.
func TestChangesEditedKmsgrantStatement(t *testing.T) {
	tests := []struct {
		name    string
		grantee string
	}{
		{"same grantee", readerARN},
		{"second grantee", analystARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			first := plan(t, seedGrant(), in)
			in = applied(t, in, first)
			edited := strings.Replace(in.Bucket.Policy.Pretty(), "doc-example-bucket/reports/*", "doc-example-bucket/reports/2024/*", 1)
			in.Bucket.Policy = doc(edited)

			g := seedGrant()
			g.Grantee = principal(tt.grantee)
			in.Grantee = &Grantee{Principal: g.Grantee}
			r := plan(t, g, in)
			if len(r.Blockers)+len(r.Warnings) > 0 {
				return // the plan says what is wrong
			}
			checkConverges(t, g, in, r)
		})
	}
}
