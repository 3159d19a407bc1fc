package statefile

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// reparsing returns a copy of f, parsed from its bytes, whose writes parse
// the whole file again instead of checking the entity they edit: what Write
// did before take checked entities, and what it must agree with.
func reparsing(t *testing.T, f *File) *File {
	t.Helper()
	full, err := Parse(f.name, f.Bytes())
	if err != nil {
		t.Fatalf("Bytes() does not parse: %v", err)
	}
	full.mergedFields = true
	return full
}

// writeAgrees makes change c on f and on a copy that parses the whole file
// after the write. Both must refuse it with the same message, or make the
// same bytes, read back as the same state and the same policies.
func writeAgrees(t *testing.T, f *File, c generate.Change) error {
	t.Helper()
	ctx := context.Background()
	full := reparsing(t, f)
	before := string(f.Bytes())
	err, fullErr := f.Write(ctx, c), full.Write(ctx, c)
	if (err == nil) != (fullErr == nil) || err != nil && err.Error() != fullErr.Error() {
		t.Fatalf("%s %s: Write error = %v\nparsing the whole file: %v", c.Kind, c.Target, err, fullErr)
	}
	if err != nil {
		if string(f.Bytes()) != before {
			t.Fatalf("%s %s: a refused Write changed the bytes", c.Kind, c.Target)
		}
		return err
	}
	if diff := cmp.Diff(string(full.Bytes()), string(f.Bytes())); diff != "" {
		t.Fatalf("%s %s: bytes after Write (-parsing the whole file +checking the entity):\n%s", c.Kind, c.Target, diff)
	}
	if diff := cmp.Diff(full.st, f.st); diff != "" {
		t.Fatalf("%s %s: state after Write (-parsing the whole file +checking the entity):\n%s", c.Kind, c.Target, diff)
	}
	if diff := cmp.Diff(prettyDocs(full), prettyDocs(f)); diff != "" {
		t.Fatalf("%s %s: policies after Write (-parsing the whole file +checking the entity):\n%s", c.Kind, c.Target, diff)
	}
	return nil
}

func prettyDocs(f *File) map[string]string {
	out := map[string]string{}
	for p, doc := range f.docs {
		out[strings.ReplaceAll(p, "\x00", ".")] = doc.Pretty()
	}
	return out
}

// TestWriteChecksAsParseDoes: a write checks only the entity it edits, and
// must accept and refuse exactly what parsing the whole file again would,
// with the same messages, leaving the same state.
func TestWriteChecksAsParseDoes(t *testing.T) {
	t.Run("the write cases, one by one", func(t *testing.T) {
		for _, tt := range writeCases() {
			f := mustParse(t, fixture)
			if err := writeAgrees(t, f, tt.change(t, f)); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	})
	t.Run("the write cases, one after another", func(t *testing.T) {
		f := mustParse(t, fixture)
		for _, tt := range writeCases() {
			if err := writeAgrees(t, f, tt.change(t, f)); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	})
	reader := mustPrincipal(t, "arn:aws:iam::444455556666:role/reader")
	stranger := mustPrincipal(t, "arn:aws:iam::999988887777:role/stranger")
	for _, tt := range []struct {
		name   string
		data   string
		change generate.Change
		// want is the message of a refused write; "" when it is taken.
		want string
		// merged: a known field is given twice, so writes parse the
		// whole file.
		merged bool
	}{
		{
			name:   "a bucket policy statement without Principal",
			data:   fixture,
			change: generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::plain-bucket", Policy: mustPolicy(t, iamPolicy)},
			want:   "accounts.111122223333.buckets.plain-bucket.policy: not a valid policy: Statement[0]: a resource policy statement needs Principal or NotPrincipal",
		},
		{
			name:   "an inline policy with a Principal",
			data:   fixture,
			change: generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: reader.ARN(), PolicyName: "p", Grantee: &reader, Policy: mustPolicy(t, plainBucketPoly)},
			want:   "accounts.444455556666.iam_roles.reader.inline_policies.p: not a valid policy: Statement[0]: an IAM policy statement cannot have Principal or NotPrincipal",
		},
		{
			name:   "a key policy on a key listed under another account",
			data:   fixture,
			change: generate.Change{Kind: generate.KindKeyPolicy, Account: partner, Target: key1ARN, Policy: mustPolicy(t, plainBucketPoly)},
			want:   "key ARN names account 111122223333 but is listed under account 444455556666",
		},
		{
			name:   "an inline policy of a role in an account the file does not have",
			data:   fixture,
			change: generate.Change{Kind: generate.KindIAMPolicy, Account: stranger.Account, Target: stranger.ARN(), PolicyName: "p", Grantee: &stranger, Policy: mustPolicy(t, iamPolicy)},
		},
		{
			name:   "an account ID that is not one",
			data:   fixture,
			change: generate.Change{Kind: generate.KindBucketPolicy, Account: "12345", Target: "arn:aws:s3:::plain-bucket", Policy: mustPolicy(t, plainBucketPoly)},
			want:   "accounts.12345: account IDs are 12 digits",
		},
		{
			name:   "deleting an inline policy",
			data:   fixture,
			change: generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: "arn:aws:iam::444455556666:user/team/alice", PolicyName: "kmsgrant-doc-example-bucket", Grantee: &arns.Principal{Kind: arns.User, Partition: "aws", Account: partner, Path: "/team/", Name: "alice"}, Action: generate.Delete},
		},
		{
			name:   "deleting a policy that is not there",
			data:   fixture,
			change: generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::plain-bucket", Action: generate.Delete},
		},
		{
			name:   "a bucket under buckets given twice, which encoding/json merges",
			data:   ownerFile(`{ "buckets": { "bkt-one": { "region": "us-west-2" } }, "buckets": { "bkt-two": { "region": "us-west-2" } } }`),
			change: generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::bkt-one", Policy: mustPolicy(t, plainBucketPoly)},
			want:   "accounts.111122223333.buckets.bkt-one.region: want a Region such as us-west-2",
			merged: true,
		},
		{
			name:   "a bucket given twice under one name",
			data:   ownerFile(`{ "buckets": { "bkt-one": { "region": "us-west-2", "policy": {"Statement": []} }, "bkt-one": { "region": "eu-west-1" } } }`),
			change: generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::bkt-one", Policy: mustPolicy(t, plainBucketPoly)},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.data)
			if f.mergedFields != tt.merged {
				t.Errorf("mergedFields = %t, want %t", f.mergedFields, tt.merged)
			}
			err := writeAgrees(t, f, tt.change)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Write: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Write error = %v, want one with %q", err, tt.want)
			}
		})
	}
}
