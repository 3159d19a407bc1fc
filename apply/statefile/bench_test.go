package statefile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// BenchmarkLargeStateFile plans and applies one grant against a state file
// of tens of megabytes: 84 accounts with buckets, keys, roles, users
// and their policies, the grant's bucket, key and role among them.
//
//   - Parse: checking the file's bytes, as Open does after reading them.
//   - plan: Open, then the reads of a plan (apply.NewPlan).
//   - apply: the same, then the four writes of an apply (bucket policy, key
//     policy, the role's inline policy, default encryption), each after
//     reading its target again as apply.Execute does, and Flush. It
//     reports the time and memory of its plan part and of the whole, and
//     their ratio: an apply should cost about what a plan costs.
//
// The file is generated, and written again before each apply, outside the
// timed part.
func BenchmarkLargeStateFile(b *testing.B) {
	data := largeStateFile(b, 84)
	name := filepath.Join(b.TempDir(), "state.json")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		b.Fatal(err)
	}
	fileMB := float64(len(data)) / 1e6
	ctx := context.Background()
	grant := largeGrant(b)

	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		var m measure
		for b.Loop() {
			m.start()
			if _, err := Parse(name, data); err != nil {
				b.Fatal(err)
			}
			m.stop()
		}
		m.report(b, "")
		b.ReportMetric(fileMB, "file-MB")
	})

	b.Run("plan", func(b *testing.B) {
		b.ReportAllocs()
		var m measure
		for b.Loop() {
			m.start()
			f, err := Open(name)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := apply.NewPlan(ctx, f, grant); err != nil {
				b.Fatal(err)
			}
			m.stop()
		}
		m.report(b, "plan-")
		b.ReportMetric(fileMB, "file-MB")
	})

	b.Run("apply", func(b *testing.B) {
		b.ReportAllocs()
		var plan, whole measure
		for b.Loop() {
			b.StopTimer()
			if err := os.WriteFile(name, data, 0o644); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			whole.start()
			plan.start()
			f, err := Open(name)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := apply.NewPlan(ctx, f, grant); err != nil {
				b.Fatal(err)
			}
			changes := largeChanges(b, f)
			plan.stop()
			for _, c := range changes {
				current, err := f.Current(ctx, c)
				if err != nil {
					b.Fatal(err)
				}
				if current != c.Before {
					b.Fatalf("%s %s changed since the plan", c.Kind, c.Target)
				}
				if err := f.Write(ctx, c); err != nil {
					b.Fatalf("writing %s %s: %v", c.Kind, c.Target, err)
				}
			}
			if err := f.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			whole.stop()
		}
		plan.report(b, "plan-")
		whole.report(b, "apply-")
		b.ReportMetric(whole.ms()/plan.ms(), "apply/plan")
		b.ReportMetric(fileMB, "file-MB")
	})
}

// measure adds up the time and the bytes allocated between start and stop,
// over the iterations of a benchmark.
type measure struct {
	n       int
	began   time.Time
	alloc0  uint64
	elapsed time.Duration
	alloc   uint64
}

func (m *measure) start() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.alloc0 = ms.TotalAlloc
	m.began = time.Now()
}

func (m *measure) stop() {
	m.elapsed += time.Since(m.began)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.alloc += ms.TotalAlloc - m.alloc0
	m.n++
}

func (m *measure) ms() float64 { return float64(m.elapsed.Milliseconds()) / float64(m.n) }

// report gives the time in milliseconds and the memory allocated in
// megabytes, per operation.
func (m *measure) report(b *testing.B, prefix string) {
	b.ReportMetric(m.ms(), prefix+"ms/op")
	b.ReportMetric(float64(m.alloc)/1e6/float64(m.n), prefix+"MB/op")
}

// The grant the large file is planned and applied for: the seed example's
// bucket, key and role, in a file that holds many more.
const (
	largeOwner   = "111122223333"
	largeGrantee = "444455556666"
	largeBucket  = "doc-example-bucket"
	largeKey     = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	largeRole    = "arn:aws:iam::444455556666:role/reader"
)

func largeGrant(b *testing.B) generate.Grant {
	p, err := arns.ParsePrincipal(largeRole, "aws")
	if err != nil {
		b.Fatal(err)
	}
	return generate.Grant{Bucket: largeBucket, Prefix: "reports/", Grantee: p, Access: []string{"read", "write"}, IAMPolicyName: "kmsgrant-" + largeBucket}
}

// largeChanges are the four writes of an apply, built from what f holds,
// each with the Before a plan would show.
func largeChanges(b *testing.B, f *File) []generate.Change {
	ctx := context.Background()
	grantee, err := arns.ParsePrincipal(largeRole, "aws")
	if err != nil {
		b.Fatal(err)
	}
	bucket, err := f.Bucket(ctx, largeBucket)
	if err != nil || bucket == nil {
		b.Fatalf("Bucket: %v, %v", bucket, err)
	}
	ref, _ := arns.ParseKeyRef(largeKey)
	key, err := f.Key(ctx, ref, largeOwner, "us-west-2")
	if err != nil {
		b.Fatal(err)
	}
	with := func(doc *policy.Document, stmt string) *policy.Document {
		s, err := policy.ParseStatement([]byte(stmt))
		if err != nil {
			b.Fatal(err)
		}
		d := doc.Clone()
		d.Append(s)
		return d
	}
	enc := *bucket.Encryption
	enc.KMSMasterKeyID = largeKey
	changes := []generate.Change{
		{Kind: generate.KindBucketPolicy, Account: largeOwner, Target: arns.BucketARN("aws", largeBucket), Action: generate.Update,
			Policy: with(bucket.Policy, `{"Sid":"KmsgrantReadWrite","Effect":"Allow","Principal":{"AWS":"`+largeRole+`"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::doc-example-bucket/reports/*"}`)},
		{Kind: generate.KindKeyPolicy, Account: largeOwner, Target: largeKey, Action: generate.Update,
			Policy: with(key.Policy, `{"Sid":"KmsgrantDecrypt","Effect":"Allow","Principal":{"AWS":"`+largeRole+`"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}}`)},
		{Kind: generate.KindIAMPolicy, Account: largeGrantee, Target: largeRole, PolicyName: "kmsgrant-" + largeBucket, Grantee: &grantee, Action: generate.Create,
			Policy: mustBenchPolicy(b, `{"Version":"2012-10-17","Statement":[{"Sid":"KmsgrantReadWrite","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::doc-example-bucket/reports/*"},{"Sid":"KmsgrantDecrypt","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"`+largeKey+`"}]}`)},
		{Kind: generate.KindBucketEncryption, Account: largeOwner, Target: arns.BucketARN("aws", largeBucket), Action: generate.Update, Encryption: &enc},
	}
	for i := range changes {
		if changes[i].Before, err = f.Current(ctx, changes[i]); err != nil {
			b.Fatal(err)
		}
	}
	return changes
}

func mustBenchPolicy(b *testing.B, s string) *policy.Document {
	d, err := policy.Parse([]byte(s))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// largeStateFile generates a state file of about half a megabyte per
// account, the same on every run: each account has 40 buckets with a
// policy of 6 statements and 20 objects, 10 keys, 30 roles with two inline
// policies each, 10 users in groups; the grant's owner and grantee accounts
// are among them, and 200 managed policies follow.
func largeStateFile(b *testing.B, accounts int) []byte {
	b.Helper()
	st := state{FormatVersion: FormatVersion, Accounts: map[string]*account{}, ManagedPolicies: map[string]json.RawMessage{}}
	ids := []string{largeOwner, largeGrantee}
	for i := 0; len(ids) < accounts; i++ {
		// Spread over the ID space, so that the grant's accounts are in
		// the middle of the file, not at one end.
		ids = append(ids, fmt.Sprintf("%012d", 100000000000+i*7000000007))
	}
	for n, id := range ids {
		acct := &account{Buckets: map[string]*bucket{}, KMSKeys: map[string]*key{}, IAMRoles: map[string]*identity{}, IAMUsers: map[string]*identity{}, IAMGroups: map[string]*group{}}
		st.Accounts[id] = acct
		other := ids[(n+1)%len(ids)]
		region := []string{"us-west-2", "us-east-1", "eu-west-1"}[n%3]
		for k := range 10 {
			arn := fmt.Sprintf("arn:aws:kms:%s:%s:key/%08x-0000-4000-8000-%012x", region, id, n, k)
			acct.KMSKeys[arn] = &key{KeyManager: "CUSTOMER", KeyState: "Enabled", Aliases: []string{fmt.Sprintf("alias/data-%d", k)},
				Policy: raw(largePolicy(b, id, other, "kms", "*", 4, true))}
		}
		for i := range 40 {
			name := fmt.Sprintf("bucket-%s-%03d", id, i)
			bk := &bucket{Region: region, ObjectOwnership: "BucketOwnerEnforced",
				DefaultEncryption: &encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: fmt.Sprintf("alias/data-%d", i%10), BucketKeyEnabled: true},
				Objects:           map[string]*object{}}
			bk.Policy = raw(largePolicy(b, id, other, "s3", "arn:aws:s3:::"+name+"/*", 6, true))
			for o := range 20 {
				bk.Objects[fmt.Sprintf("data/%04d/part-%05d.parquet", i, o)] = &object{SSEAlgorithm: "aws:kms", SSEKMSKeyID: fmt.Sprintf("arn:aws:kms:%s:%s:key/%08x-0000-4000-8000-%012x", region, id, n, o%10), Owner: id}
			}
			acct.Buckets[name] = bk
		}
		for g := range 3 {
			acct.IAMGroups[fmt.Sprintf("group-%d", g)] = &group{
				InlinePolicies:   map[string]json.RawMessage{"access": raw(largePolicy(b, id, other, "s3", "*", 2, false))},
				AttachedPolicies: []string{fmt.Sprintf("arn:aws:iam::aws:policy/Managed%03d", (n+g)%200)},
			}
		}
		for r := range 30 {
			acct.IAMRoles[fmt.Sprintf("role-%03d", r)] = &identity{Path: "/", AttachedPolicies: []string{fmt.Sprintf("arn:aws:iam::aws:policy/Managed%03d", (n+r)%200)},
				InlinePolicies: map[string]json.RawMessage{
					"read":  raw(largePolicy(b, id, other, "s3", "*", 3, false)),
					"write": raw(largePolicy(b, id, other, "s3", "*", 3, false)),
				}}
		}
		for u := range 10 {
			acct.IAMUsers[fmt.Sprintf("user-%03d", u)] = &identity{Path: "/team/", AttachedPolicies: []string{}, Groups: []string{fmt.Sprintf("group-%d", u%3)},
				InlinePolicies: map[string]json.RawMessage{"own": raw(largePolicy(b, id, other, "s3", "*", 2, false))}}
		}
	}
	for m := range 200 {
		st.ManagedPolicies[fmt.Sprintf("arn:aws:iam::aws:policy/Managed%03d", m)] = raw(largePolicy(b, "", "", "s3", "*", 3, false))
	}
	// The grant's bucket, key and role, as in the seed example.
	owner := st.Accounts[largeOwner]
	owner.Buckets[largeBucket] = &bucket{Region: "us-west-2", ObjectOwnership: "BucketOwnerEnforced",
		DefaultEncryption: &encryption{SSEAlgorithm: "aws:kms", KMSMasterKeyID: "alias/app-data", BucketKeyEnabled: true},
		Policy:            raw(largePolicy(b, largeOwner, largeGrantee, "s3", "arn:aws:s3:::"+largeBucket+"/*", 6, true))}
	owner.KMSKeys[largeKey] = &key{KeyManager: "CUSTOMER", KeyState: "Enabled", Aliases: []string{"alias/app-data"},
		Policy: raw(largePolicy(b, largeOwner, largeGrantee, "kms", "*", 4, true))}
	st.Accounts[largeGrantee].IAMRoles["reader"] = &identity{Path: "/", InlinePolicies: map[string]json.RawMessage{}, AttachedPolicies: []string{}}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// largePolicy is a policy of n statements on service's actions: resource
// policies name roles of account other, identity policies name none.
func largePolicy(b *testing.B, account, other, service, resource string, n int, resourcePolicy bool) *policy.Document {
	b.Helper()
	var sts []string
	for i := range n {
		principal := ""
		if resourcePolicy {
			principal = fmt.Sprintf(`"Principal":{"AWS":["arn:aws:iam::%s:role/role-%03d","arn:aws:iam::%s:root"]},`, other, i, account)
		}
		sts = append(sts, fmt.Sprintf(`{"Sid":"Statement%d","Effect":"Allow",%s"Action":["%s:Get*","%s:List*","%s:Describe*"],"Resource":["%s"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-exampleorg%d"},"Bool":{"aws:SecureTransport":"true"}}}`,
			i, principal, service, service, service, resource, i))
	}
	doc, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`))
	if err != nil {
		b.Fatal(err)
	}
	return doc
}
