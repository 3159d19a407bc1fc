package generate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate/arns"
)

const awsManagedKeyARN = "arn:aws:kms:us-west-2:111122223333:key/abcd1234-a123-456a-a12b-a123b4cd56ef"

func TestChangesBlockers(t *testing.T) {
	bucketDeny := func(statement string) func(*Inputs) {
		return func(in *Inputs) { in.Bucket.Policy = docOf(denyInsecureTransport, statement) }
	}
	keyDeny := func(statement string) func(*Inputs) {
		return func(in *Inputs) { in.Key.Policy = docOf(defaultKeyStatement, statement) }
	}
	tests := []struct {
		name   string
		access []string
		mod    func(*Inputs, *Grant)
		want   []codeTarget
		// exact, when set, is the whole blocker list wanted.
		exact []Finding
	}{
		{
			name: "AWS managed key",
			mod: func(in *Inputs, g *Grant) {
				in.Key.ARN, in.Key.Manager, in.Key.Aliases = awsManagedKeyARN, KeyManagerAWS, []string{"alias/aws/s3"}
				in.Bucket.Encryption.KMSMasterKeyID = awsManagedKeyARN
			},
			want: []codeTarget{{CodeAWSManagedKey, awsManagedKeyARN}},
		},
		{
			name: "AWS managed key named by alias",
			mod: func(in *Inputs, g *Grant) {
				in.Key.ARN, in.Key.Manager, in.Key.Aliases = awsManagedKeyARN, KeyManagerAWS, []string{"alias/aws/s3"}
				in.Bucket.Encryption.KMSMasterKeyID = "alias/aws/s3"
			},
			want: []codeTarget{{CodeAWSManagedKey, awsManagedKeyARN}},
		},
		{
			name: "key disabled",
			mod:  func(in *Inputs, g *Grant) { in.Key.State = "Disabled" },
			want: []codeTarget{{CodeKeyDisabled, seedKeyARN}},
		},
		{
			name: "key pending deletion",
			mod:  func(in *Inputs, g *Grant) { in.Key.State = "PendingDeletion" },
			want: []codeTarget{{CodeKeyDisabled, seedKeyARN}},
		},
		{
			name: "key in another Region",
			mod: func(in *Inputs, g *Grant) {
				arn := strings.Replace(seedKeyARN, seedRegion, "us-east-1", 1)
				in.Key.ARN, in.Key.Region = arn, "us-east-1"
				in.Bucket.Encryption.KMSMasterKeyID = arn
			},
			want: []codeTarget{{CodeRegionMismatch, strings.Replace(seedKeyARN, seedRegion, "us-east-1", 1)}},
		},
		{
			name: "key not found, by ARN: located in the ARN's account and Region",
			mod:  func(in *Inputs, g *Grant) { in.Key, in.KeyRef, in.KeyErr = nil, otherKeyARN, ErrKeyNotFound },
			exact: []Finding{{Code: CodeKeyNotFound, Target: otherKeyARN,
				Message: "key " + otherKeyARN + " does not exist in account 111122223333, us-west-2",
				Fix:     "check the key ARN; key IDs resolve in the bucket owner's account and Region"}},
		},
		{
			name: "alias not found: located in the bucket owner's account and Region",
			mod:  func(in *Inputs, g *Grant) { in.Key, in.KeyRef, in.KeyErr = nil, "alias/missing", ErrAliasNotFound },
			exact: []Finding{{Code: CodeAliasNotFound, Target: "alias/missing",
				Message: "alias alias/missing does not exist in account 111122223333, us-west-2 (aliases resolve in the bucket owner's account and Region)",
				Fix:     "name the key by its full key ARN, or create the alias in the bucket owner's account"}},
		},
		{
			name: "alias/aws/s3 not listed is the AWS managed key",
			mod:  func(in *Inputs, g *Grant) { in.Key, in.KeyRef, in.KeyErr = nil, "alias/aws/s3", ErrAliasNotFound },
			want: []codeTarget{{CodeAWSManagedKey, "alias/aws/s3"}},
		},
		{
			name: "bucket not found",
			mod:  func(in *Inputs, g *Grant) { *in = Inputs{} },
			want: []codeTarget{{CodeBucketNotFound, seedBucket}},
		},
		{
			name: "legacy bucket name not found: where alone it could be",
			mod:  func(in *Inputs, g *Grant) { *in, g.Bucket = Inputs{}, "Doc_Example_Bucket" },
			exact: []Finding{{Code: CodeBucketNotFound, Target: "Doc_Example_Bucket",
				Message: `bucket "Doc_Example_Bucket" does not exist (a legacy name like it can only be a bucket created in us-east-1 before March 2018)`,
				Fix:     "check the bucket name, and that the owner account's credentials or state file hold it"}},
		},
		{
			name: "grantee in the bucket's account",
			mod: func(in *Inputs, g *Grant) {
				g.Grantee = principal("arn:aws:iam::111122223333:role/reader")
				in.Grantee = nil
			},
			want: []codeTarget{{CodeNotCrossAccount, "arn:aws:iam::111122223333:role/reader"}},
		},
		{
			name: "the bucket's own account",
			mod: func(in *Inputs, g *Grant) {
				g.Grantee = arns.Principal{Kind: arns.Account, Partition: "aws", Account: ownerAccount}
				in.Grantee = nil
			},
			want: []codeTarget{{CodeNotCrossAccount, "arn:aws:iam::111122223333:root"}},
		},
		{
			// s3:prefix is set by listings only: a negated operator on
			// it holds for every read.
			name: "bucket policy: deny on a key reads never carry",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Sid": "HomeOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"StringNotLike": {"s3:prefix": "home/*"}}}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "bucket policy: Null deny on a key reads never carry",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Sid": "NeedsACL", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"Null": {"s3:x-amz-acl": "true"}}}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			// Every role and user of the grantee account is outside
			// the list, so the Deny covers the account grantee.
			name: "bucket policy: deny on aws:PrincipalArn listing the owner's principals, account grantee",
			mod: func(in *Inputs, g *Grant) {
				g.Grantee = arns.Principal{Kind: arns.Account, Partition: "aws", Account: granteeAccount}
				in.Grantee = nil
				bucketDeny(`{"Sid": "OwnersOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/admin"]}}}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "bucket policy: NotPrincipal deny",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Sid": "OnlyOwner", "Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/admin"]}, "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "bucket policy: deny naming the role",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "bucket policy: deny naming the grantee's account",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "s3:Get*", "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "bucket policy: perimeter deny on aws:PrincipalAccount",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"], "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "bucket policy: deny of a wider prefix",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/rep*"}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "key policy: deny to the grantee's account",
			mod: func(in *Inputs, g *Grant) {
				keyDeny(`{"Sid": "NoPartner", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedKeyARN}},
		},
		{
			name: "key policy: NotPrincipal deny",
			mod: func(in *Inputs, g *Grant) {
				keyDeny(`{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedKeyARN}},
		},
		{
			name:   "key policy: deny of GenerateDataKey for writers",
			access: []string{"read", "write"},
			mod: func(in *Inputs, g *Grant) {
				keyDeny(`{"Effect": "Deny", "Principal": "*", "Action": "kms:GenerateDataKey*", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "444455556666"}}}`)(in)
			},
			want: []codeTarget{{CodeExplicitDeny, seedKeyARN}},
		},
		{
			name: "IAM: inline deny",
			mod: func(in *Inputs, g *Grant) {
				in.Grantee.Inline = []NamedPolicy{{Name: "guard", Doc: docOf(`{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}`)}}
			},
			want: []codeTarget{{CodeExplicitDeny, readerARN}},
		},
		{
			name: "IAM: attached deny of kms",
			mod: func(in *Inputs, g *Grant) {
				in.Grantee.Attached = []NamedPolicy{{Name: "arn:aws:iam::444455556666:policy/no-kms", Doc: docOf(`{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}`)}}
			},
			want: []codeTarget{{CodeExplicitDeny, readerARN}},
		},
		{
			name: "IAM: NotAction deny",
			mod: func(in *Inputs, g *Grant) {
				in.Grantee.Inline = []NamedPolicy{{Name: "only-ec2", Doc: docOf(`{"Effect": "Deny", "NotAction": "ec2:*", "Resource": "*"}`)}}
			},
			want: []codeTarget{{CodeExplicitDeny, readerARN}},
		},
		{
			name: "permissions boundary without kms",
			mod: func(in *Inputs, g *Grant) {
				in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: docOf(`{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}`)}
			},
			want: []codeTarget{{CodeBoundaryDenies, readerARN}},
		},
		{
			name: "permissions boundary for another bucket",
			mod: func(in *Inputs, g *Grant) {
				in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: docOf(`{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": ["arn:aws:s3:::other-bucket/*", "arn:aws:kms:*:*:key/*"]}`)}
			},
			want: []codeTarget{{CodeBoundaryDenies, readerARN}},
		},
		{
			name: "permissions boundary with a deny",
			mod: func(in *Inputs, g *Grant) {
				in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: docOf(
					`{"Effect": "Allow", "Action": "*", "Resource": "*"}`,
					`{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}`)}
			},
			want: []codeTarget{{CodeExplicitDeny, readerARN}},
		},
		{
			// IAM reference, NotPrincipal: a Deny with NotPrincipal always
			// applies to a principal that has a permissions boundary,
			// whatever the element lists.
			name: "bucket policy: NotPrincipal deny listing the role, role with a boundary",
			mod: func(in *Inputs, g *Grant) {
				bucketDeny(`{"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:role/reader", "arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:root"]}, "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)(in)
				in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: docOf(`{"Effect": "Allow", "Action": "*", "Resource": "*"}`)}
			},
			want: []codeTarget{{CodeExplicitDeny, seedBucketARN}},
		},
		{
			name: "several at once",
			mod: func(in *Inputs, g *Grant) {
				in.Key.State = "Disabled"
				bucketDeny(`{"Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "s3:*", "Resource": "*"}`)(in)
				in.Grantee.Inline = []NamedPolicy{{Name: "guard", Doc: docOf(`{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}`)}}
			},
			want: []codeTarget{{CodeKeyDisabled, seedKeyARN}, {CodeExplicitDeny, seedBucketARN}, {CodeExplicitDeny, readerARN}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			g := seedGrant(tt.access...)
			tt.mod(&in, &g)
			r := plan(t, g, in)
			if tt.exact != nil {
				if diff := cmp.Diff(tt.exact, r.Blockers); diff != "" {
					t.Errorf("blockers (-want +got):\n%s", diff)
				}
			} else if diff := cmp.Diff(tt.want, codeTargets(r.Blockers)); diff != "" {
				t.Errorf("blockers (-want +got):\n%s", diff)
			}
			for _, b := range r.Blockers {
				if b.Message == "" || b.Fix == "" {
					t.Errorf("blocker %s lacks a message or fix: %+v", b.Code, b)
				}
			}
			if r.Changes != nil {
				t.Errorf("blocked plan has changes: %v", actions(r))
			}
			if r.HasChanges() {
				t.Error("HasChanges() = true for a blocked plan")
			}
		})
	}
}

// Statements that look like denies but cannot deny the grantee's requests
// block nothing.
func TestChangesHarmlessDenies(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Inputs)
		access []string
	}{
		{name: "deny of insecure transport", mod: func(in *Inputs) { in.Bucket.Policy = docOf(denyInsecureTransport) }},
		{name: "perimeter deny that exempts the grantee's account", mod: func(in *Inputs) {
			in.Bucket.Policy = docOf(`{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ["111122223333", "444455556666"]}}}`)
		}},
		{name: "deny of another prefix", mod: func(in *Inputs) {
			in.Bucket.Policy = docOf(`{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/secret/*"}`)
		}},
		{name: "deny of deletes", mod: func(in *Inputs) {
			in.Bucket.Policy = docOf(`{"Effect": "Deny", "Principal": "*", "Action": ["s3:DeleteObject", "s3:DeleteBucket"], "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"]}`)
		}},
		{name: "key deny outside S3", mod: func(in *Inputs) {
			in.Key.Policy = docOf(defaultKeyStatement, `{"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringNotLike": {"kms:ViaService": "s3.*.amazonaws.com"}}}`)
		}},
		{name: "NotPrincipal deny exempting the grantee's account", mod: func(in *Inputs) {
			in.Key.Policy = docOf(defaultKeyStatement, `{"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}`)
		}},
		{name: "IAM deny of another bucket", mod: func(in *Inputs) {
			in.Grantee.Inline = []NamedPolicy{{Name: "guard", Doc: docOf(`{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::prod-*"}`)}}
		}},
		{name: "boundary allowing everything needed", mod: func(in *Inputs) {
			in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: docOf(`{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}`)}
		}, access: []string{"list", "read", "write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			tt.mod(&in)
			r := plan(t, seedGrant(tt.access...), in)
			if len(r.Blockers) > 0 {
				t.Errorf("blockers: %v", r.Blockers)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("warnings: %v", r.Warnings)
			}
			if !r.HasChanges() {
				t.Error("HasChanges() = false")
			}
			checkConverges(t, seedGrant(tt.access...), in, r)
		})
	}
}

// padded returns a statement of exactly n bytes in compact JSON, granting
// something unrelated to the grant.
func padded(kind string, n int) string {
	var head, tail string
	switch kind {
	case KindBucketPolicy:
		head, tail = `{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::doc-example-bucket/pad-`, `"}`
	case KindKeyPolicy:
		head, tail = `{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:pad":"`, `"}}}`
	default:
		head, tail = `{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-west-2:444455556666:pad-`, `"}`
	}
	if n < len(head)+len(tail)+1 {
		panic(fmt.Sprintf("padded(%s, %d): too small", kind, n))
	}
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// TestChangesPolicyTooLarge checks each size limit at its edge: a document
// exactly at the limit is fine, one byte or character more is blocked.
func TestChangesPolicyTooLarge(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		user   bool
		limit  int
		target string
		// set puts a padding statement of n bytes where it counts.
		set func(in *Inputs, n int)
		// size measures what the limit applies to in a plan.
		size func(r *Result, in Inputs) int
	}{
		{
			name: "bucket policy, 20 KB", kind: KindBucketPolicy, limit: 20 * 1024, target: seedBucketARN,
			set: func(in *Inputs, n int) { in.Bucket.Policy = docOf(denyInsecureTransport, padded(KindBucketPolicy, n)) },
			size: func(r *Result, in Inputs) int {
				return len(changeNamed(r, KindBucketPolicy).Policy.Compact())
			},
		},
		{
			name: "key policy, 32 KB", kind: KindKeyPolicy, limit: 32 * 1024, target: seedKeyARN,
			set: func(in *Inputs, n int) { in.Key.Policy = docOf(defaultKeyStatement, padded(KindKeyPolicy, n)) },
			size: func(r *Result, in Inputs) int {
				return len(changeNamed(r, KindKeyPolicy).Policy.Compact())
			},
		},
		{
			name: "role inline policies, 10,240 characters", kind: KindIAMPolicy, limit: 10240, target: readerARN,
			set: func(in *Inputs, n int) {
				// Two other inline policies, pretty-printed: whitespace is
				// not counted, every other character is.
				half := doc("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    " + padded(KindIAMPolicy, 200) + "\n  ]\n}\n")
				in.Grantee.Inline = []NamedPolicy{
					{Name: "a", Doc: half},
					{Name: "b", Doc: docOf(padded(KindIAMPolicy, n))},
				}
			},
			size: inlineSize,
		},
		{
			name: "user inline policies, 2,048 characters", kind: KindIAMPolicy, user: true, limit: 2048, target: aliceARN,
			set: func(in *Inputs, n int) {
				in.Grantee.Inline = []NamedPolicy{{Name: "b", Doc: docOf(padded(KindIAMPolicy, n))}}
			},
			size: inlineSize,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			build := func(n int) (Grant, Inputs) {
				in := seedInputs()
				g := seedGrant()
				if tt.user {
					g.Grantee = principal(aliceARN)
					in.Grantee = &Grantee{Principal: g.Grantee}
				}
				tt.set(&in, n)
				return g, in
			}
			// Measure with a small padding, then grow it to the limit.
			const base = 300
			g, in := build(base)
			r := plan(t, g, in)
			if len(r.Blockers) > 0 {
				t.Fatalf("small policy blocked: %v", r.Blockers)
			}
			atLimit := base + tt.limit - tt.size(r, in)

			g, in = build(atLimit)
			r = plan(t, g, in)
			if len(r.Blockers) > 0 {
				t.Fatalf("policy at the limit blocked: %v", r.Blockers)
			}
			if got := tt.size(r, in); got != tt.limit {
				t.Fatalf("size at the limit = %d, want %d", got, tt.limit)
			}

			g, in = build(atLimit + 1)
			r = plan(t, g, in)
			if diff := cmp.Diff([]codeTarget{{CodePolicyTooLarge, tt.target}}, codeTargets(r.Blockers)); diff != "" {
				t.Errorf("blockers one over the limit (-want +got):\n%s", diff)
			}
			if r.Changes != nil {
				t.Errorf("blocked plan has changes: %v", actions(r))
			}
			if len(r.Blockers) > 0 && !strings.Contains(r.Blockers[0].Message, fmt.Sprint(tt.limit)) {
				t.Errorf("message %q does not name the limit %d", r.Blockers[0].Message, tt.limit)
			}
		})
	}
}

// TestChangesInlineSizeReplacesOwnPolicy checks that the grantee's current
// kmsgrant policy is not counted twice: it is replaced, not added to.
func TestChangesInlineSizeReplacesOwnPolicy(t *testing.T) {
	in := seedInputs()
	g := seedGrant()
	g.Grantee = principal(aliceARN)
	in.Grantee = &Grantee{Principal: g.Grantee}
	// The user's kmsgrant policy already holds 1,500 characters; the new
	// statements add some 600, which fits only if the old document is not
	// counted on top of the new one.
	in.Grantee.Inline = []NamedPolicy{{Name: seedPolicyName, Doc: docOf(padded(KindIAMPolicy, 1400))}}
	r := plan(t, g, in)
	if len(r.Blockers) > 0 {
		t.Errorf("blockers: %v", r.Blockers)
	}
	if c := change(t, r, KindIAMPolicy); c.Action != Update {
		t.Errorf("iam_policy action = %s, want update", c.Action)
	}
}

// Attached managed policies do not count toward the inline limit.
func TestChangesInlineSizeIgnoresAttached(t *testing.T) {
	in := seedInputs()
	g := seedGrant()
	g.Grantee = principal(aliceARN)
	in.Grantee = &Grantee{Principal: g.Grantee, Attached: []NamedPolicy{{Name: "arn:aws:iam::444455556666:policy/big", Doc: docOf(padded(KindIAMPolicy, 6000))}}}
	r := plan(t, g, in)
	if len(r.Blockers) > 0 {
		t.Errorf("blockers: %v", r.Blockers)
	}
}

func changeNamed(r *Result, kind string) Change {
	for _, c := range r.Changes {
		if c.Kind == kind {
			return c
		}
	}
	return Change{}
}

// inlineSize counts the non-whitespace characters of all the grantee's
// inline policies once the plan's own is written.
func inlineSize(r *Result, in Inputs) int {
	c := changeNamed(r, KindIAMPolicy)
	count := func(b []byte) int {
		n := 0
		for _, r := range string(b) {
			if r != ' ' && r != '\n' && r != '\t' && r != '\r' {
				n++
			}
		}
		return n
	}
	total := count(c.Policy.Compact())
	for _, np := range in.Grantee.Inline {
		if np.Name != c.PolicyName {
			total += count(np.Doc.Compact())
		}
	}
	return total
}

func TestChangesWarnings(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Inputs)
		want []codeTarget
		// actions, when set, is the plan's "kind action" list.
		actions []string
	}{
		{
			name: "possible deny: aws:PrincipalOrgID in the bucket policy",
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}`)
			},
			want:    []codeTarget{{CodePossibleDeny, seedBucketARN}},
			actions: []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"},
		},
		{
			name: "possible deny: aws:PrincipalOrgID in the key policy",
			mod: func(in *Inputs) {
				in.Key.Policy = docOf(defaultKeyStatement, `{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}`)
			},
			want: []codeTarget{{CodePossibleDeny, seedKeyARN}},
		},
		{
			name: "possible deny: aws:SourceIp in the IAM policy",
			mod: func(in *Inputs) {
				in.Grantee.Inline = []NamedPolicy{{Name: "ip", Doc: docOf(`{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}`)}}
			},
			want: []codeTarget{{CodePossibleDeny, readerARN}},
		},
		{
			// A role acts through sessions whose ARNs a NotPrincipal rarely
			// lists, so listing the role does not surely exempt it.
			name: "possible deny: NotPrincipal listing the role",
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:role/reader", "arn:aws:iam::111122223333:root"]}, "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)
			},
			want: []codeTarget{{CodePossibleDeny, seedBucketARN}},
		},
		{
			name: "possible deny: part of the prefix",
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/secret/*"}`)
			},
			want: []codeTarget{{CodePossibleDeny, seedBucketARN}},
		},
		{
			name: "object ownership ObjectWriter",
			mod:  func(in *Inputs) { in.Bucket.Ownership = "ObjectWriter" },
			want: []codeTarget{{CodeObjectOwnership, seedBucketARN}},
		},
		{
			name: "object ownership BucketOwnerPreferred",
			mod:  func(in *Inputs) { in.Bucket.Ownership = "BucketOwnerPreferred" },
			want: []codeTarget{{CodeObjectOwnership, seedBucketARN}},
		},
		{
			name: "object ownership not configured",
			mod:  func(in *Inputs) { in.Bucket.Ownership = "" },
			want: []codeTarget{{CodeObjectOwnership, seedBucketARN}},
		},
		{
			name: "objects owned by another account",
			mod: func(in *Inputs) {
				in.Bucket.Ownership = "ObjectWriter"
				in.Bucket.Objects["reports/from-partner.csv"] = Object{Algorithm: "aws:kms", KMSKeyID: seedKeyARN, Owner: granteeAccount}
			},
			want: []codeTarget{{CodeObjectOwnership, seedBucketARN}, {CodeObjectOwnership, seedBucketARN}},
		},
		{
			name: "objects owned by another account, ownership enforced",
			mod: func(in *Inputs) {
				in.Bucket.Objects["reports/from-partner.csv"] = Object{Algorithm: "aws:kms", KMSKeyID: seedKeyARN, Owner: granteeAccount}
			},
		},
		{
			name: "objects under the prefix with another key",
			mod: func(in *Inputs) {
				in.Bucket.Objects["reports/old.csv"] = Object{Algorithm: "aws:kms", KMSKeyID: otherKeyARN, Owner: ownerAccount}
			},
			want: []codeTarget{{CodeObjectsOtherKey, seedBucketARN}},
		},
		{
			name: "objects with another key outside the prefix",
			mod: func(in *Inputs) {
				in.Bucket.Objects["archive/old.csv"] = Object{Algorithm: "aws:kms", KMSKeyID: otherKeyARN, Owner: ownerAccount}
			},
		},
		{
			// Readable without the key, but not protected by it.
			name: "objects under the prefix with SSE-S3",
			mod: func(in *Inputs) {
				in.Bucket.Objects["reports/plain.csv"] = Object{Algorithm: "AES256", Owner: ownerAccount}
			},
			want: []codeTarget{{CodeObjectsSSES3, seedBucketARN}},
		},
		{
			name: "SSE-S3 bucket",
			mod: func(in *Inputs) {
				in.Key = nil
				in.Bucket.Encryption = &Encryption{Algorithm: "AES256"}
				in.Bucket.Objects = nil
			},
			want:    []codeTarget{{CodeSSES3, seedBucketARN}},
			actions: []string{"bucket_policy update", "iam_policy create"},
		},
		{
			name: "no default encryption",
			mod: func(in *Inputs) {
				in.Key = nil
				in.Bucket.Encryption = nil
				in.Bucket.Objects = nil
			},
			want:    []codeTarget{{CodeSSES3, seedBucketARN}},
			actions: []string{"bucket_policy update", "iam_policy create"},
		},
		{
			name: "default encryption names another key",
			mod:  func(in *Inputs) { in.Bucket.Encryption.KMSMasterKeyID = otherKeyARN },
			want: []codeTarget{{CodeOtherKey, seedBucketARN}},
			// The default encryption is not this grant's to change.
			actions: []string{"bucket_policy update", "key_policy update", "iam_policy create"},
		},
		{
			name:    "default encryption names another alias",
			mod:     func(in *Inputs) { in.Bucket.Encryption.KMSMasterKeyID = "alias/other" },
			want:    []codeTarget{{CodeOtherKey, seedBucketARN}},
			actions: []string{"bucket_policy update", "key_policy update", "iam_policy create"},
		},
		{
			name: "default encryption names the alias in another account",
			mod: func(in *Inputs) {
				in.Bucket.Encryption.KMSMasterKeyID = "arn:aws:kms:us-west-2:777788889999:alias/app-data"
			},
			want:    []codeTarget{{CodeOtherKey, seedBucketARN}},
			actions: []string{"bucket_policy update", "key_policy update", "iam_policy create"},
		},
		{
			name: "attached policy unreadable",
			mod: func(in *Inputs) {
				in.Grantee.Attached = []NamedPolicy{{Name: "arn:aws:iam::444455556666:policy/secret"}}
			},
			want: []codeTarget{{CodePolicyUnreadable, "arn:aws:iam::444455556666:policy/secret"}},
		},
		{
			name: "permissions boundary unreadable",
			mod: func(in *Inputs) {
				in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary"}
			},
			want: []codeTarget{{CodePolicyUnreadable, "arn:aws:iam::444455556666:policy/boundary"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			tt.mod(&in)
			r := plan(t, seedGrant(), in)
			if len(r.Blockers) > 0 {
				t.Fatalf("blockers: %v", r.Blockers)
			}
			if diff := cmp.Diff(tt.want, codeTargets(r.Warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			for _, w := range r.Warnings {
				if w.Message == "" || w.Fix == "" {
					t.Errorf("warning %s lacks a message or fix: %+v", w.Code, w)
				}
			}
			if tt.actions != nil {
				if diff := cmp.Diff(tt.actions, actions(r)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
			}
			checkConverges(t, seedGrant(), in, r)
		})
	}
}

func TestChangesSSES3Statements(t *testing.T) {
	in := seedInputs()
	in.Key = nil
	in.Bucket.Encryption = &Encryption{Algorithm: "AES256"}
	r := plan(t, seedGrant(), in)
	if r.Grant.KeyARN != "" {
		t.Errorf("Grant.KeyARN = %q, want none", r.Grant.KeyARN)
	}
	checkStatements(t, change(t, r, KindBucketPolicy), wantBucketObjectsRead)
	checkStatements(t, change(t, r, KindIAMPolicy), wantIAMObjectsRead)
}

func TestChangesObjectsOtherKeyMessage(t *testing.T) {
	in := seedInputs()
	for i := range 5 {
		in.Bucket.Objects[fmt.Sprintf("reports/old-%d.csv", i)] = Object{Algorithm: "aws:kms", KMSKeyID: otherKeyARN}
	}
	r := plan(t, seedGrant(), in)
	if len(r.Warnings) != 1 {
		t.Fatalf("warnings: %v", r.Warnings)
	}
	msg := r.Warnings[0].Message
	for _, want := range []string{"5 object(s)", "reports/old-0.csv", otherKeyARN, "and 2 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestChangesKeyWithoutPolicy(t *testing.T) {
	in := seedInputs()
	in.Key.Policy = nil
	if _, err := Changes(seedGrant(), in); err == nil {
		t.Error("Changes with a key without a policy: no error")
	}
}

// KNOWLEDGE.md: SCPs apply in the principal's organization and RCPs in the
// resource's; kmsgrant cannot read them, so it must say it did not check
// them.
func TestChangesSaysControlsNotChecked(t *testing.T) {
	r := plan(t, seedGrant(), seedInputs())
	var targets []string
	for _, f := range r.NotChecked {
		if f.Code != CodeUncheckedControls {
			t.Errorf("not_checked entry with code %q", f.Code)
		}
		targets = append(targets, f.Target)
	}
	want := []string{"service control policies", "resource control policies", "VPC endpoint policies", "session policies"}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("not checked (-want +got):\n%s", diff)
	}
}

// When the granted key is not what the bucket's default encryption uses,
// objects written without naming a key are encrypted otherwise: aws:kms
// without a key ID means the AWS managed key aws/s3, which no other account
// can ever use. No bucket_encryption change is planned: the default is not
// this grant's to change.
func TestChangesDefaultEncryptionWithoutTheKey(t *testing.T) {
	tests := []struct {
		name string
		enc  *Encryption
	}{
		{"aws:kms without a key ID (aws/s3)", &Encryption{Algorithm: "aws:kms"}},
		{"aws:kms without a key ID, bucket keys on", &Encryption{Algorithm: "aws:kms", BucketKeyEnabled: true}},
		{"SSE-S3", &Encryption{Algorithm: "AES256"}},
		{"no default encryption", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			in.Bucket.Encryption = tt.enc
			r := plan(t, seedGrant(), in)
			if diff := cmp.Diff([]codeTarget{{CodeOtherKey, seedBucketARN}}, codeTargets(r.Warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			want := []string{"bucket_policy update", "key_policy update", "iam_policy create"}
			if diff := cmp.Diff(want, actions(r)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// Objects kmsgrant knows to be KMS-encrypted under the prefix stay
// unreadable when the grant plans no key at all.
func TestChangesSSES3WithKMSObjects(t *testing.T) {
	in := seedInputs()
	in.Key = nil
	in.Bucket.Encryption = &Encryption{Algorithm: "AES256"}
	r := plan(t, seedGrant(), in)
	want := []codeTarget{{CodeSSES3, seedBucketARN}, {CodeObjectsOtherKey, seedBucketARN}}
	if diff := cmp.Diff(want, codeTargets(r.Warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
