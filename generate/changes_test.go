package generate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// The statements the seed grant needs, as the templates write them.
const (
	wantBucketObjectsRead = `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["s3:GetObject"],
  "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
}`
	wantKeyDecrypt = `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["kms:Decrypt"],
  "Resource": "*",
  "Condition": {
    "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
    "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/reports/*"]}
  }
}`
	wantIAMObjectsRead = `{
  "Effect": "Allow",
  "Action": ["s3:GetObject"],
  "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
}`
	wantIAMDecrypt = `{
  "Effect": "Allow",
  "Action": ["kms:Decrypt"],
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  "Condition": {
    "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
    "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/reports/*"]}
  }
}`
)

func TestChangesSeed(t *testing.T) {
	tests := []struct {
		name   string
		access []string
		mod    func(*Inputs)
		want   []string // "kind action", in order
		bucket []string
		key    []string
		iam    []string
	}{
		{
			name:   "read, bucket policy exists",
			access: []string{"read"},
			want:   []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"},
			bucket: []string{wantBucketObjectsRead},
			key:    []string{wantKeyDecrypt},
			iam:    []string{wantIAMObjectsRead, wantIAMDecrypt},
		},
		{
			name:   "read, no bucket policy",
			access: []string{"read"},
			mod:    func(in *Inputs) { in.Bucket.Policy = nil },
			want:   []string{"bucket_encryption update", "bucket_policy create", "key_policy update", "iam_policy create"},
			bucket: []string{wantBucketObjectsRead},
			key:    []string{wantKeyDecrypt},
			iam:    []string{wantIAMObjectsRead, wantIAMDecrypt},
		},
		{
			name:   "default encryption names the key by key ID",
			access: []string{"read"},
			mod: func(in *Inputs) {
				in.Bucket.Encryption.KMSMasterKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
			},
			want:   []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"},
			bucket: []string{wantBucketObjectsRead},
			key:    []string{wantKeyDecrypt},
			iam:    []string{wantIAMObjectsRead, wantIAMDecrypt},
		},
		{
			name:   "default encryption already names the key ARN",
			access: []string{"read"},
			mod:    func(in *Inputs) { in.Bucket.Encryption.KMSMasterKeyID = seedKeyARN },
			want:   []string{"bucket_policy update", "key_policy update", "iam_policy create"},
			bucket: []string{wantBucketObjectsRead},
			key:    []string{wantKeyDecrypt},
			iam:    []string{wantIAMObjectsRead, wantIAMDecrypt},
		},
		{
			name:   "list, read, write",
			access: []string{"list", "read", "write"},
			want:   []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"},
			bucket: []string{`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["s3:GetObject", "s3:PutObject"],
  "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
}`, `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["s3:ListBucket"],
  "Resource": "arn:aws:s3:::doc-example-bucket",
  "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}}
}`},
			key: []string{`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
  "Resource": "*",
  "Condition": {
    "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
    "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/reports/*"]}
  }
}`},
			iam: []string{`{
  "Effect": "Allow",
  "Action": ["s3:GetObject", "s3:PutObject"],
  "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"
}`, `{
  "Effect": "Allow",
  "Action": ["s3:ListBucket"],
  "Resource": "arn:aws:s3:::doc-example-bucket",
  "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}}
}`, `{
  "Effect": "Allow",
  "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  "Condition": {
    "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
    "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/reports/*"]}
  }
}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			if tt.mod != nil {
				tt.mod(&in)
			}
			g := seedGrant(tt.access...)
			r := plan(t, g, in)
			if diff := cmp.Diff(tt.want, actions(r)); diff != "" {
				t.Fatalf("actions (-want +got):\n%s", diff)
			}
			if len(r.Blockers) > 0 {
				t.Errorf("blockers: %v", r.Blockers)
			}
			if len(r.Warnings) > 0 {
				t.Errorf("warnings: %v", r.Warnings)
			}
			if !r.HasChanges() {
				t.Error("HasChanges() = false")
			}
			bp := change(t, r, KindBucketPolicy)
			checkStatements(t, bp, tt.bucket...)
			if bp.Account != ownerAccount || bp.Target != seedBucketARN {
				t.Errorf("bucket_policy account, target = %s, %s; want %s, %s", bp.Account, bp.Target, ownerAccount, seedBucketARN)
			}
			kp := change(t, r, KindKeyPolicy)
			checkStatements(t, kp, tt.key...)
			if kp.Account != ownerAccount || kp.Target != seedKeyARN {
				t.Errorf("key_policy account, target = %s, %s; want %s, %s", kp.Account, kp.Target, ownerAccount, seedKeyARN)
			}
			ip := change(t, r, KindIAMPolicy)
			checkStatements(t, ip, tt.iam...)
			if ip.Account != granteeAccount || ip.Target != readerARN || ip.PolicyName != seedPolicyName {
				t.Errorf("iam_policy account, target, name = %s, %s, %s; want %s, %s, %s",
					ip.Account, ip.Target, ip.PolicyName, granteeAccount, readerARN, seedPolicyName)
			}
			if ip.Grantee == nil || ip.Grantee.ARN() != readerARN {
				t.Errorf("iam_policy Grantee = %v, want %s", ip.Grantee, readerARN)
			}
			// Every statement the IAM policy holds is kmsgrant's: it was
			// created.
			if got, want := len(ip.Policy.Statements), len(tt.iam); got != want {
				t.Errorf("iam_policy has %d statements, want %d", got, want)
			}
			// Before and After are the documents' canonical JSON.
			if bp.After != bp.Policy.Pretty() || kp.After != kp.Policy.Pretty() || ip.After != ip.Policy.Pretty() {
				t.Error("After differs from Policy.Pretty()")
			}
			if in.Bucket.Policy != nil && bp.Before != in.Bucket.Policy.Pretty() {
				t.Errorf("bucket_policy Before = %s, want %s", bp.Before, in.Bucket.Policy.Pretty())
			}
			if kp.Before != in.Key.Policy.Pretty() {
				t.Errorf("key_policy Before = %s, want %s", kp.Before, in.Key.Policy.Pretty())
			}
			if ip.Before != "" {
				t.Errorf("iam_policy Before = %q, want none", ip.Before)
			}
			checkConverges(t, g, in, r)
		})
	}
}

func TestChangesSeedEncryption(t *testing.T) {
	in := seedInputs()
	r := plan(t, seedGrant(), in)
	c := change(t, r, KindBucketEncryption)
	want := &Encryption{Algorithm: "aws:kms", KMSMasterKeyID: seedKeyARN, BucketKeyEnabled: true}
	if diff := cmp.Diff(want, c.Encryption); diff != "" {
		t.Errorf("Encryption (-want +got):\n%s", diff)
	}
	if c.Action != Update || c.Account != ownerAccount || c.Target != seedBucketARN {
		t.Errorf("action, account, target = %s, %s, %s; want update, %s, %s", c.Action, c.Account, c.Target, ownerAccount, seedBucketARN)
	}
	wantBefore := "{\n  \"sse_algorithm\": \"aws:kms\",\n  \"kms_master_key_id\": \"alias/app-data\",\n  \"bucket_key_enabled\": true\n}\n"
	wantAfter := "{\n  \"sse_algorithm\": \"aws:kms\",\n  \"kms_master_key_id\": \"" + seedKeyARN + "\",\n  \"bucket_key_enabled\": true\n}\n"
	if diff := cmp.Diff(wantBefore, c.Before); diff != "" {
		t.Errorf("Before (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantAfter, c.After); diff != "" {
		t.Errorf("After (-want +got):\n%s", diff)
	}
	// The inputs are not changed.
	if in.Bucket.Encryption.KMSMasterKeyID != seedAlias {
		t.Errorf("input encryption changed to %q", in.Bucket.Encryption.KMSMasterKeyID)
	}
	// Bucket keys off stays off.
	in = seedInputs()
	in.Bucket.Encryption.BucketKeyEnabled = false
	c = change(t, plan(t, seedGrant(), in), KindBucketEncryption)
	if c.Encryption == nil || c.Encryption.BucketKeyEnabled || c.Encryption.KMSMasterKeyID != seedKeyARN {
		t.Errorf("Encryption = %+v, want the key ARN with bucket keys off", c.Encryption)
	}
}

func TestChangesResolved(t *testing.T) {
	r := plan(t, seedGrant("list", "read"), seedInputs())
	want := Resolved{
		Bucket:         seedBucket,
		BucketARN:      seedBucketARN,
		Prefix:         seedPrefix,
		ObjectsARN:     seedObjects,
		Region:         seedRegion,
		OwnerAccount:   ownerAccount,
		KeyARN:         seedKeyARN,
		Grantee:        readerARN,
		GranteeKind:    "role",
		GranteeAccount: granteeAccount,
		Access:         []string{"list", "read"},
		IAMPolicyName:  seedPolicyName,
	}
	if diff := cmp.Diff(want, r.Grant); diff != "" {
		t.Errorf("Grant (-want +got):\n%s", diff)
	}
}

func TestChangesWholeBucket(t *testing.T) {
	g := seedGrant("list", "read")
	g.Prefix = ""
	r := plan(t, g, seedInputs())
	checkStatements(t, change(t, r, KindBucketPolicy), `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["s3:GetObject"],
  "Resource": "arn:aws:s3:::doc-example-bucket/*"
}`, `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["s3:ListBucket"],
  "Resource": "arn:aws:s3:::doc-example-bucket"
}`)
	checkStatements(t, change(t, r, KindKeyPolicy), `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
  "Action": ["kms:Decrypt"],
  "Resource": "*",
  "Condition": {
    "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"},
    "StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"]}
  }
}`)
}

func TestChangesUserGrantee(t *testing.T) {
	in := seedInputs()
	in.Grantee = &Grantee{Principal: principal(aliceARN)}
	g := seedGrant()
	g.Grantee = principal(aliceARN)
	r := plan(t, g, in)
	if diff := cmp.Diff([]string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy create"}, actions(r)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	for _, kind := range []string{KindBucketPolicy, KindKeyPolicy} {
		sts := kmsgrantStatements(change(t, r, kind).Policy)
		if len(sts) != 1 {
			t.Fatalf("%s: %d Kmsgrant statements, want 1", kind, len(sts))
		}
		if diff := cmp.Diff([]string{aliceARN}, sts[0].Principal.AWS()); diff != "" {
			t.Errorf("%s principal (-want +got):\n%s", kind, diff)
		}
	}
	if got := change(t, r, KindIAMPolicy).Target; got != aliceARN {
		t.Errorf("iam_policy target = %s, want %s", got, aliceARN)
	}
}

// TestChangesMinimal checks that access granted in any of the ways AWS
// accepts makes that layer a no-op, that access not surely granted does
// not, and that only the missing actions are added.
func TestChangesMinimal(t *testing.T) {
	bucketAllow := func(principal, action, resource string) func(*Inputs) {
		return func(in *Inputs) {
			in.Bucket.Policy = docOf(denyInsecureTransport, `{"Sid": "Existing", "Effect": "Allow", "Principal": `+principal+`, "Action": `+action+`, "Resource": `+resource+`}`)
		}
	}
	keyAllow := func(statement string) func(*Inputs) {
		return func(in *Inputs) { in.Key.Policy = docOf(defaultKeyStatement, statement) }
	}
	inline := func(name string, statements ...string) func(*Inputs) {
		return func(in *Inputs) {
			in.Grantee.Inline = append(in.Grantee.Inline, NamedPolicy{Name: name, Doc: docOf(statements...)})
		}
	}
	const iamS3Read = `{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`
	const iamDecrypt = `{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "` + seedKeyARN + `"}`
	tests := []struct {
		name   string
		access []string
		mod    func(*Inputs)
		kind   string
		want   Action
		// added, when set, is the actions of the Kmsgrant statements of
		// the change.
		added [][]string
	}{
		// Bucket policy.
		{name: "bucket: bare account ID, s3:GetObject", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: bare account ID in a list", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": ["999988887777", "444455556666"]}`, `["s3:GetObject"]`, `["arn:aws:s3:::doc-example-bucket/*"]`)},
		{name: "bucket: root ARN, s3:Get*", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "arn:aws:iam::444455556666:root"}`, `"s3:Get*"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: exact role ARN", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "arn:aws:iam::444455556666:role/reader"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/reports/*"`)},
		{name: "bucket: Principal *, s3:*", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`"*"`, `"s3:*"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: AWS *, action *", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "*"}`, `"*"`, `"*"`)},
		// A direct read carries aws:ViaAWSService false, or not at all:
		// either satisfies BoolIfExists false.
		{name: "bucket: allow for direct calls (BoolIfExists aws:ViaAWSService false)", kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(denyInsecureTransport, `{"Sid": "Direct", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"BoolIfExists": {"aws:ViaAWSService": "false"}}}`)
			}},
		{name: "bucket: allow for direct calls (Bool aws:ViaAWSService false) is not sure", kind: KindBucketPolicy, want: Update,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(denyInsecureTransport, `{"Sid": "Direct", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}`)
			}},
		{name: "bucket: action case differs", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"S3:getobject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: NotAction", kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "NotAction": ["s3:DeleteObject", "s3:PutBucketPolicy"], "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)
			}},
		{name: "bucket: NotAction excluding GetObject", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "NotAction": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)
			}},
		{name: "bucket: NotResource excluding another bucket", kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::other-bucket/*"}`)
			}},
		{name: "bucket: NotResource excluding this prefix", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::doc-example-bucket/reports/*"}`)
			}},
		{name: "bucket: another role of the account", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: bucketAllow(`{"AWS": "arn:aws:iam::444455556666:role/analyst"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: another account", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: bucketAllow(`{"AWS": "arn:aws:iam::777788889999:root"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: another bucket", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket-2/*"`)},
		{name: "bucket: unknown condition key (aws:SourceIp) does not count", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}`)
			}},
		{name: "bucket: aws:PrincipalOrgID condition does not count", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}`)
			}},
		{name: "bucket: aws:SecureTransport true counts", kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}`)
			}},
		{name: "bucket: aws:SecureTransport as a JSON boolean counts", kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"Bool": {"aws:SecureTransport": true}}}`)
			}},
		{name: "bucket: aws:PrincipalAccount condition with Principal * counts", kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "444455556666"}}}`)
			}},
		{name: "bucket: narrower prefix does not count", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/reports/2024/*"`)},
		{name: "bucket: single object does not count", kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:GetObject"}},
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/reports/q1.csv"`)},
		{name: "bucket: wider prefix counts", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/rep*"`)},
		{name: "bucket: same prefix counts", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/reports/*"`)},
		{name: "bucket: partial access adds only PutObject", access: []string{"read", "write"}, kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:PutObject"}},
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: partial access adds only ListBucket", access: []string{"list", "read"}, kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:ListBucket"}},
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: ListBucket on objects ARN does not count", access: []string{"list", "read"}, kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:ListBucket"}},
			mod: bucketAllow(`{"AWS": "444455556666"}`, `["s3:GetObject", "s3:ListBucket"]`, `"arn:aws:s3:::doc-example-bucket/*"`)},
		{name: "bucket: s3:Get* and s3:List* on bucket and objects", access: []string{"list", "read"}, kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "444455556666"}`, `["s3:Get*", "s3:List*"]`, `["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"]`)},
		{name: "bucket: ListBucket limited to the same s3:prefix counts", access: []string{"list", "read"}, kind: KindBucketPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(
					`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`,
					`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::doc-example-bucket", "Condition": {"StringLike": {"s3:prefix": "reports/*"}}}`)
			}},
		{name: "bucket: ListBucket limited to a narrower s3:prefix does not count", access: []string{"list", "read"}, kind: KindBucketPolicy, want: Update, added: [][]string{{"s3:ListBucket"}},
			mod: func(in *Inputs) {
				in.Bucket.Policy = docOf(
					`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`,
					`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::doc-example-bucket", "Condition": {"StringLike": {"s3:prefix": "reports/2024/*"}}}`)
			}},
		{name: "bucket: Deny of insecure transport does not stop an Allow", kind: KindBucketPolicy, want: NoOp,
			mod: bucketAllow(`{"AWS": "444455556666"}`, `"s3:GetObject"`, `"arn:aws:s3:::doc-example-bucket/*"`)},

		// Key policy.
		{name: "key: delegation to the grantee's account root", kind: KindKeyPolicy, want: NoOp,
			mod: keyAllow(`{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}`)},
		{name: "key: bare account ID, kms:*", kind: KindKeyPolicy, want: NoOp,
			mod: keyAllow(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:*", "Resource": "*"}`)},
		{name: "key: role with matching conditions", kind: KindKeyPolicy, want: NoOp,
			mod: keyAllow(`{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:CallerAccount": "444455556666"}}}`)},
		{name: "key: ViaService of another Region does not count", kind: KindKeyPolicy, want: Update, added: [][]string{{"kms:Decrypt"}},
			mod: keyAllow(`{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}`)},
		{name: "key: unknown condition key does not count", kind: KindKeyPolicy, want: Update, added: [][]string{{"kms:Decrypt"}},
			mod: keyAllow(`{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}`)},
		{name: "key: the owner's root statement does not cover the grantee", kind: KindKeyPolicy, want: Update, added: [][]string{{"kms:Decrypt"}},
			mod: func(in *Inputs) {}},
		{name: "key: partial access adds only GenerateDataKey", access: []string{"read", "write"}, kind: KindKeyPolicy, want: Update, added: [][]string{{"kms:GenerateDataKey"}},
			mod: keyAllow(`{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}`)},

		// Grantee's IAM policies.
		{name: "iam: AdministratorAccess attached", kind: KindIAMPolicy, want: NoOp,
			mod: func(in *Inputs) {
				in.Grantee.Attached = []NamedPolicy{{Name: "arn:aws:iam::aws:policy/AdministratorAccess", Doc: docOf(`{"Effect": "Allow", "Action": "*", "Resource": "*"}`)}}
			}},
		{name: "iam: inline Allow *", kind: KindIAMPolicy, want: NoOp,
			mod: inline("admin", `{"Effect": "Allow", "Action": "*", "Resource": "*"}`)},
		{name: "iam: inline s3 and kms on the key", kind: KindIAMPolicy, want: NoOp,
			mod: inline("data", iamS3Read, iamDecrypt)},
		{name: "iam: split across inline and attached", kind: KindIAMPolicy, want: NoOp,
			mod: func(in *Inputs) {
				inline("data", iamS3Read)(in)
				in.Grantee.Attached = []NamedPolicy{{Name: "arn:aws:iam::444455556666:policy/kms", Doc: docOf(`{"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-west-2:111122223333:key/*"}`)}}
			}},
		{name: "iam: kms on the alias ARN does not count", kind: KindIAMPolicy, want: Create, added: [][]string{{"kms:Decrypt"}},
			mod: inline("data", iamS3Read, `{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-west-2:111122223333:alias/app-data"}`)},
		{name: "iam: unknown condition key does not count", kind: KindIAMPolicy, want: Create, added: [][]string{{"s3:GetObject"}},
			mod: inline("data", iamDecrypt, `{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}`)},
		{name: "iam: narrower prefix does not count", kind: KindIAMPolicy, want: Create, added: [][]string{{"s3:GetObject"}},
			mod: inline("data", iamDecrypt, `{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/reports/2024/*"}`)},
		{name: "iam: partial access adds only the missing actions", access: []string{"read", "write"}, kind: KindIAMPolicy, want: Create, added: [][]string{{"s3:PutObject"}, {"kms:GenerateDataKey"}},
			mod: inline("data", iamS3Read, iamDecrypt)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			tt.mod(&in)
			access := tt.access
			if access == nil {
				access = []string{"read"}
			}
			r := plan(t, seedGrant(access...), in)
			if len(r.Blockers) > 0 {
				t.Fatalf("blockers: %v", r.Blockers)
			}
			c := change(t, r, tt.kind)
			if c.Action != tt.want {
				t.Fatalf("%s action = %s, want %s (reason: %s)", tt.kind, c.Action, tt.want, c.Reason)
			}
			if tt.want == NoOp {
				if c.After != c.Before {
					t.Errorf("no-op changes the document:\nbefore %s\nafter %s", c.Before, c.After)
				}
				if !strings.HasPrefix(c.Reason, "already grants access") {
					t.Errorf("reason = %q, want it to say access is granted", c.Reason)
				}
				return
			}
			if tt.added != nil {
				if diff := cmp.Diff(tt.added, statementActions(c)); diff != "" {
					t.Errorf("added actions (-want +got):\n%s", diff)
				}
			}
			checkConverges(t, seedGrant(access...), in, r)
		})
	}
}

// checkConverges applies a plan that has no findings, plans again, and
// checks that every layer now surely grants the access: the plan wrote
// what it said it would.
func checkConverges(t *testing.T, g Grant, in Inputs, r *Result) {
	t.Helper()
	if len(r.Blockers) > 0 {
		return
	}
	again := plan(t, g, applied(t, in, r))
	for _, c := range again.Changes {
		if c.Action != NoOp || !strings.HasPrefix(c.Reason, "already grants access") {
			t.Errorf("after applying the plan: %s %s (%s)", c.Kind, c.Action, c.Reason)
		}
	}
}

// TestChangesBucketKeys checks that with S3 Bucket Keys on, a key policy
// statement pinned to object ARNs no longer counts: the encryption context
// is then the bucket ARN.
func TestChangesBucketKeys(t *testing.T) {
	const objectsOnly = `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "kms:Decrypt", "Resource": "*",
	  "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::doc-example-bucket/reports/*"}}}`
	const bucketOnly = `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "kms:Decrypt", "Resource": "*",
	  "Condition": {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::doc-example-bucket"}}}`
	const both = `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "kms:Decrypt", "Resource": "*",
	  "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"]}}}`
	tests := []struct {
		name      string
		statement string
		bucketKey bool
		want      Action
	}{
		{"object ARNs, bucket keys on", objectsOnly, true, Update},
		{"object ARNs, bucket keys off", objectsOnly, false, NoOp},
		// Objects written before Bucket Keys were turned on still carry
		// the object ARN.
		{"bucket ARN only, bucket keys on", bucketOnly, true, Update},
		{"bucket ARN only, bucket keys off", bucketOnly, false, Update},
		{"both, bucket keys on", both, true, NoOp},
		{"both, bucket keys off", both, false, NoOp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			in.Bucket.Encryption.BucketKeyEnabled = tt.bucketKey
			in.Key.Policy = docOf(defaultKeyStatement, tt.statement)
			r := plan(t, seedGrant(), in)
			c := change(t, r, KindKeyPolicy)
			if c.Action != tt.want {
				t.Fatalf("key_policy action = %s, want %s (reason: %s)", c.Action, tt.want, c.Reason)
			}
			if c.Action == Update {
				checkStatements(t, c, wantKeyDecrypt)
			}
		})
	}
}

func TestChangesAccountGrantee(t *testing.T) {
	in := seedInputs()
	in.Grantee = nil
	g := seedGrant("list", "read")
	g.Grantee = arns.Principal{Kind: arns.Account, Partition: "aws", Account: granteeAccount}
	r := plan(t, g, in)
	if len(r.Blockers) > 0 {
		t.Fatalf("blockers: %v", r.Blockers)
	}
	want := []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy manual"}
	if diff := cmp.Diff(want, actions(r)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	for _, kind := range []string{KindBucketPolicy, KindKeyPolicy} {
		sts := kmsgrantStatements(change(t, r, kind).Policy)
		if len(sts) == 0 {
			t.Fatalf("%s: no Kmsgrant statement", kind)
		}
		for _, st := range sts {
			if diff := cmp.Diff([]string{rootB}, st.Principal.AWS()); diff != "" {
				t.Errorf("%s %s principal (-want +got):\n%s", kind, st.Sid, diff)
			}
		}
	}
	ip := change(t, r, KindIAMPolicy)
	if ip.Target != rootB || ip.Account != granteeAccount || ip.PolicyName != seedPolicyName {
		t.Errorf("iam_policy target, account, name = %s, %s, %s", ip.Target, ip.Account, ip.PolicyName)
	}
	checkStatements(t, ip, wantIAMObjectsRead, `{
  "Effect": "Allow",
  "Action": ["s3:ListBucket"],
  "Resource": "arn:aws:s3:::doc-example-bucket",
  "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}}
}`, wantIAMDecrypt)
	if ip.After == "" || ip.After != ip.Policy.Pretty() {
		t.Errorf("manual iam_policy After = %q, want the policy to attach", ip.After)
	}
	if diff := cmp.Diff([]codeTarget{{CodeManualIAM, rootB}}, codeTargets(r.Warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if r.Grant.Grantee != rootB || r.Grant.GranteeKind != "account" {
		t.Errorf("Grant.Grantee, GranteeKind = %s, %s", r.Grant.Grantee, r.Grant.GranteeKind)
	}
	// A manual change alone writes nothing.
	res := &Result{Changes: []Change{ip}}
	if res.HasChanges() {
		t.Error("HasChanges() = true for a manual change alone")
	}
}

func TestChangesAccountGranteeAlreadyDelegated(t *testing.T) {
	in := seedInputs()
	in.Grantee = nil
	in.Bucket.Encryption.KMSMasterKeyID = seedKeyARN
	in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)
	in.Key.Policy = docOf(defaultKeyStatement, `{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}`)
	g := seedGrant()
	g.Grantee = arns.Principal{Kind: arns.Account, Partition: "aws", Account: granteeAccount}
	r := plan(t, g, in)
	want := []string{"bucket_policy no-op", "key_policy no-op", "iam_policy manual"}
	if diff := cmp.Diff(want, actions(r)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	if r.HasChanges() {
		t.Error("HasChanges() = true")
	}
}

// A role statement does not grant the whole account.
func TestChangesAccountGranteeRoleStatementDoesNotCount(t *testing.T) {
	in := seedInputs()
	in.Grantee = nil
	in.Bucket.Policy = docOf(`{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}`)
	g := seedGrant()
	g.Grantee = arns.Principal{Kind: arns.Account, Partition: "aws", Account: granteeAccount}
	r := plan(t, g, in)
	if c := change(t, r, KindBucketPolicy); c.Action != Update {
		t.Errorf("bucket_policy action = %s, want update", c.Action)
	}
}

func TestChangesPartitions(t *testing.T) {
	tests := []struct {
		name       string
		region     string
		partition  string
		viaService string
	}{
		{"China", "cn-north-1", "aws-cn", "s3.cn-north-1.amazonaws.com.cn"},
		{"GovCloud", "us-gov-west-1", "aws-us-gov", "s3.us-gov-west-1.amazonaws.com"},
		{"commercial", "eu-central-1", "aws", "s3.eu-central-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyARN := "arn:" + tt.partition + ":kms:" + tt.region + ":111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			bucketARN := "arn:" + tt.partition + ":s3:::doc-example-bucket"
			roleARN := "arn:" + tt.partition + ":iam::444455556666:role/reader"
			in := seedInputs()
			in.Bucket.Region = tt.region
			in.Bucket.Policy = nil
			in.Key.ARN, in.Key.Region = keyARN, tt.region
			in.Key.Policy = doc(`{"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:` + tt.partition + `:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}`)
			in.Bucket.Objects = nil
			g := seedGrant()
			g.Grantee = principal(roleARN)
			in.Grantee = &Grantee{Principal: g.Grantee}
			r := plan(t, g, in)
			if len(r.Blockers) > 0 {
				t.Fatalf("blockers: %v", r.Blockers)
			}
			if r.Grant.BucketARN != bucketARN || r.Grant.ObjectsARN != bucketARN+"/reports/*" {
				t.Errorf("Grant ARNs = %s, %s", r.Grant.BucketARN, r.Grant.ObjectsARN)
			}
			ec := `["` + bucketARN + `", "` + bucketARN + `/reports/*"]`
			checkStatements(t, change(t, r, KindBucketPolicy), `{"Effect": "Allow", "Principal": {"AWS": "`+roleARN+`"}, "Action": ["s3:GetObject"], "Resource": "`+bucketARN+`/reports/*"}`)
			checkStatements(t, change(t, r, KindKeyPolicy), `{"Effect": "Allow", "Principal": {"AWS": "`+roleARN+`"}, "Action": ["kms:Decrypt"], "Resource": "*",
			  "Condition": {"StringEquals": {"kms:ViaService": "`+tt.viaService+`"}, "StringLike": {"kms:EncryptionContext:aws:s3:arn": `+ec+`}}}`)
			checkStatements(t, change(t, r, KindIAMPolicy),
				`{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "`+bucketARN+`/reports/*"}`,
				`{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "`+keyARN+`",
				  "Condition": {"StringEquals": {"kms:ViaService": "`+tt.viaService+`"}, "StringLike": {"kms:EncryptionContext:aws:s3:arn": `+ec+`}}}`)
			if c := change(t, r, KindBucketEncryption); c.Encryption.KMSMasterKeyID != keyARN {
				t.Errorf("bucket_encryption key = %s, want %s", c.Encryption.KMSMasterKeyID, keyARN)
			}
		})
	}
}

func TestChangesCrossPartitionGrantee(t *testing.T) {
	tests := []struct {
		name    string
		region  string
		grantee string
	}{
		{"commercial role, China bucket", "cn-north-1", "arn:aws:iam::444455556666:role/reader"},
		{"China role, commercial bucket", "us-west-2", "arn:aws-cn:iam::444455556666:role/reader"},
		{"GovCloud user, commercial bucket", "us-west-2", "arn:aws-us-gov:iam::444455556666:user/alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := seedInputs()
			in.Bucket.Region = tt.region
			in.Key = nil
			g := seedGrant()
			g.Grantee = principal(tt.grantee)
			in.Grantee = &Grantee{Principal: g.Grantee}
			r := plan(t, g, in)
			if diff := cmp.Diff([]codeTarget{{CodeNotCrossAccount, tt.grantee}}, codeTargets(r.Blockers)); diff != "" {
				t.Errorf("blockers (-want +got):\n%s", diff)
			}
			if r.Changes != nil {
				t.Errorf("changes = %v, want none", actions(r))
			}
		})
	}
}

// An account named by its root ARN in another partition is another
// account altogether: account IDs do not cross partitions.
func TestChangesCrossPartitionAccountGrantee(t *testing.T) {
	in := seedInputs()
	in.Grantee = nil
	g := seedGrant()
	g.Grantee = principal("arn:aws-cn:iam::444455556666:root")
	r := plan(t, g, in)
	if diff := cmp.Diff([]codeTarget{{CodeNotCrossAccount, "arn:aws-cn:iam::444455556666:root"}}, codeTargets(r.Blockers)); diff != "" {
		t.Errorf("blockers (-want +got):\n%s", diff)
	}
}

// The planner must not change the documents it was given.
func TestChangesDoesNotChangeInputs(t *testing.T) {
	in := seedInputs()
	in.Bucket.Policy = docOf(denyInsecureTransport, `{"Sid": "KmsgrantGetObjectDEADBEEF", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/analyst"}, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::doc-example-bucket/reports/*"}`)
	in.Grantee.Inline = []NamedPolicy{{Name: seedPolicyName, Doc: docOf(`{"Sid": "Mine", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}`)}}
	before := []string{in.Bucket.Policy.Pretty(), in.Key.Policy.Pretty(), in.Grantee.Inline[0].Doc.Pretty()}
	plan(t, seedGrant("list", "read", "write"), in)
	after := []string{in.Bucket.Policy.Pretty(), in.Key.Policy.Pretty(), in.Grantee.Inline[0].Doc.Pretty()}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("inputs changed (-before +after):\n%s", diff)
	}
}

// A role whose IAM side could not be read gets a manual IAM change too.
func TestChangesUnreadableGrantee(t *testing.T) {
	in := seedInputs()
	in.Grantee = nil
	r := plan(t, seedGrant(), in)
	want := []string{"bucket_encryption update", "bucket_policy update", "key_policy update", "iam_policy manual"}
	if diff := cmp.Diff(want, actions(r)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	// Owner-side statements still name the role, not its account.
	sts := kmsgrantStatements(change(t, r, KindBucketPolicy).Policy)
	if len(sts) != 1 || !cmp.Equal(sts[0].Principal.AWS(), []string{readerARN}) {
		t.Errorf("bucket policy statements: %v", shapes(t, sts))
	}
	checkStatements(t, change(t, r, KindIAMPolicy), wantIAMObjectsRead, wantIAMDecrypt)
	if diff := cmp.Diff([]codeTarget{{CodeManualIAM, readerARN}}, codeTargets(r.Warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestChangesUnreadableGranteeWording(t *testing.T) {
	in := seedInputs()
	in.Grantee = nil
	r := plan(t, seedGrant(), in)
	c := change(t, r, KindIAMPolicy)
	if strings.Contains(c.Reason, "whole account") {
		t.Errorf("reason calls a role a whole account: %q", c.Reason)
	}
	for _, w := range r.Warnings {
		if w.Code == CodeManualIAM && strings.Contains(w.Fix, "grant a specific role or user ARN") {
			t.Errorf("manual_iam fix tells a role grantee to name a role: %q", w.Fix)
		}
	}
}

func TestReversed(t *testing.T) {
	policyBefore := `{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	t.Run("policy goes back to its Before", func(t *testing.T) {
		back, err := Change{Kind: KindBucketPolicy, Target: "b", Action: Update, Before: policyBefore, After: "{}"}.Reversed()
		if err != nil {
			t.Fatal(err)
		}
		if back.Action != Update || back.Policy == nil || back.Policy.Statements[0].Sid != "Theirs" {
			t.Errorf("Reversed = %+v, want an update writing the Before policy", back)
		}
		if back.Before != "{}" || back.After != policyBefore {
			t.Errorf("Before/After not swapped: %q / %q", back.Before, back.After)
		}
	})
	t.Run("a created policy is deleted", func(t *testing.T) {
		back, err := Change{Kind: KindIAMPolicy, Target: "r", Action: Create, After: policyBefore}.Reversed()
		if err != nil {
			t.Fatal(err)
		}
		if back.Action != Delete || back.Policy != nil {
			t.Errorf("Reversed = %+v, want a delete", back)
		}
	})
	t.Run("encryption goes back to its key", func(t *testing.T) {
		back, err := Change{Kind: KindBucketEncryption, Target: "b", Action: Update, Before: `{"sse_algorithm":"aws:kms","kms_master_key_id":"alias/old"}`}.Reversed()
		if err != nil {
			t.Fatal(err)
		}
		if back.Action != Update || back.Encryption == nil || back.Encryption.KMSMasterKeyID != "alias/old" {
			t.Errorf("Reversed = %+v, want the old key written back", back)
		}
	})
	for name, c := range map[string]Change{
		"broken policy":      {Kind: KindKeyPolicy, Target: "k", Before: `{"Statement":`},
		"missing encryption": {Kind: KindBucketEncryption, Target: "b"},
	} {
		t.Run(name+" is an error", func(t *testing.T) {
			if _, err := c.Reversed(); err == nil || !strings.Contains(err.Error(), "restoring "+c.Kind+" of "+c.Target) {
				t.Errorf("Reversed error = %v, want one naming the target", err)
			}
		})
	}
}
