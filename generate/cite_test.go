package generate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate/denial"
)

func TestCite(t *testing.T) {
	const (
		getObject = "s3:GetObject"
		decrypt   = "kms:Decrypt"
	)
	noAllow := func(name string, actions ...string) Check {
		return Check{Name: name, Status: Fail, Detail: "no allow", lacksAllow: true, actions: actions}
	}
	denies := func(name, action string) Check {
		return Check{Name: name, Status: Fail, Detail: "a deny", actions: []string{action}}
	}
	pass := func(name string) Check { return Check{Name: name, Status: Pass, Detail: "allowed"} }
	notChecked := func(name string) Check { return Check{Name: name, Status: NotChecked, Detail: "not checked"} }
	s3 := func(l *denial.Layer) *denial.Denial {
		return &denial.Denial{Source: denial.FromMessage, Action: getObject, Layer: l}
	}
	kms := func(l *denial.Layer, viaS3 bool) *denial.Denial {
		return &denial.Denial{Source: denial.FromMessage, Action: decrypt, Layer: l, ViaS3: viaS3}
	}
	type row struct{ Name, Status string }
	tests := []struct {
		name   string
		checks []Check
		d      *denial.Denial
		want   []row // the checks' names and statuses, cited ones marked "*"
	}{
		{"the cited layer comes first",
			[]Check{pass("object"), noAllow("bucket policy", getObject), noAllow("key policy", decrypt), notChecked("service control policies")},
			s3(&denial.Layer{Type: denial.ResourceBased}),
			[]row{{"*bucket policy", Fail}, {"object", Pass}, {"key policy", Fail}, {"service control policies", NotChecked}}},
		{"a resource-based policy of kms: is the key policy",
			[]Check{noAllow("bucket policy", getObject), noAllow("key policy", decrypt)},
			kms(&denial.Layer{Type: denial.ResourceBased}, false),
			[]row{{"*key policy", Fail}, {"bucket policy", Fail}}},
		{"an explicit deny where kmsgrant finds only no Allow",
			[]Check{noAllow("bucket policy", getObject)},
			s3(&denial.Layer{Type: denial.ResourceBased, Explicit: true}),
			[]row{{"*bucket policy", Fail}, {"*bucket policy", Warn}}},
		{"an explicit deny kmsgrant finds",
			[]Check{noAllow("bucket policy", getObject), denies("bucket policy", getObject)},
			s3(&denial.Layer{Type: denial.ResourceBased, Explicit: true}),
			[]row{{"*bucket policy", Fail}, {"*bucket policy", Fail}}},
		{"a possible deny agrees with AWS",
			[]Check{pass("bucket policy"), {Name: "bucket policy", Status: Warn, actions: []string{getObject}}},
			s3(&denial.Layer{Type: denial.ResourceBased, Explicit: true}),
			[]row{{"*bucket policy", Pass}, {"*bucket policy", Warn}}},
		{"a cited layer kmsgrant finds allowing",
			[]Check{pass("object"), pass("bucket policy"), pass("IAM policies")},
			s3(&denial.Layer{Type: denial.ResourceBased}),
			[]row{{"*bucket policy", Pass}, {"*bucket policy", Warn}, {"object", Pass}, {"IAM policies", Pass}}},
		{"a layer that fails for another action",
			[]Check{noAllow("IAM policies", getObject), pass("key policy")},
			kms(&denial.Layer{Type: denial.IdentityBased}, false),
			[]row{{"*IAM policies", Fail}, {"*IAM policies", Warn}, {"key policy", Pass}}},
		{"a layer kmsgrant cannot see",
			[]Check{pass("bucket policy"), notChecked("service control policies")},
			s3(&denial.Layer{Type: denial.SCP, Explicit: true}),
			[]row{{"*service control policies", NotChecked}, {"bucket policy", Pass}}},
		{"a boundary kmsgrant finds none of",
			[]Check{pass("bucket policy"), pass("IAM policies")},
			s3(&denial.Layer{Type: denial.Boundary}),
			[]row{{"*permissions boundary", Warn}, {"bucket policy", Pass}, {"IAM policies", Pass}}},
		{"the Decrypt S3 made, after a GetObject kmsgrant finds denied",
			[]Check{noAllow("bucket policy", getObject), noAllow("IAM policies", getObject, decrypt), noAllow("key policy", decrypt)},
			kms(&denial.Layer{Type: denial.ResourceBased}, true),
			[]row{{"*key policy", Fail}, {"bucket policy", Fail}, {"bucket policy", Warn}, {"IAM policies", Fail}, {"IAM policies", Warn}}},
		{"a short message of a read kmsgrant finds allowed",
			[]Check{pass("bucket policy"), notChecked("session policies")},
			&denial.Denial{Source: denial.FromMessage},
			[]row{{DeniedCall, Warn}, {"bucket policy", Pass}, {"session policies", NotChecked}}},
		{"a short message of a read kmsgrant finds denied",
			[]Check{noAllow("bucket policy", getObject)},
			&denial.Denial{Source: denial.FromMessage},
			[]row{{"bucket policy", Fail}}},
		{"a policy type explain has no check of",
			[]Check{pass("bucket policy")},
			s3(&denial.Layer{Type: "bucket ACL policy"}),
			[]row{{DeniedCall, Warn}, {"bucket policy", Pass}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &Explanation{Grant: Resolved{OwnerAccount: "111122223333"}, Checks: tt.checks}
			x.finish()
			allowed := x.Allowed
			x.Cite(tt.d)
			var got []row
			for _, c := range x.Checks {
				name := c.Name
				if c.Cited {
					name = "*" + name
				}
				got = append(got, row{name, c.Status})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("checks (-want +got)\n%s", diff)
			}
			if x.Allowed != allowed {
				t.Errorf("Cite changed the verdict")
			}
		})
	}
}

func TestCiteMessage(t *testing.T) {
	x := &Explanation{Grant: Resolved{OwnerAccount: "111122223333"},
		Checks: []Check{{Name: "key policy", Status: Fail, lacksAllow: true, actions: []string{"kms:Decrypt"}}, {Name: "IAM policies", Status: Fail, lacksAllow: true}}}
	x.finish()
	x.Cite(&denial.Denial{Source: denial.FromCloudTrail, Record: 3, Records: 4, Caller: "arn:aws:sts::444455556666:assumed-role/etl/s",
		Role: "arn:aws:iam::444455556666:role/data/etl", Action: "kms:Decrypt", Operation: "Decrypt", Resource: "arn:aws:kms:us-west-2:111122223333:key/k",
		Layer: &denial.Layer{Type: denial.ResourceBased}, ViaS3: true, BucketKeyContext: true}, "a note of the caller's")
	want := &Citation{Source: "cloudtrail", Record: 3, Caller: "arn:aws:sts::444455556666:assumed-role/etl/s", Role: "arn:aws:iam::444455556666:role/data/etl",
		Action: "kms:Decrypt", Operation: "Decrypt", Resource: "arn:aws:kms:us-west-2:111122223333:key/k",
		CitedLayer: "no resource-based policy allows the action", CitedCheck: "key policy",
		Notes: []string{
			"record 3 of 4: the first denied S3 GetObject or KMS Decrypt",
			"the denied call is the Decrypt S3 made for the caller's read, after S3 allowed the GetObject itself: the read failed at the key (its key policy or the caller's KMS permissions), not at the bucket",
			"the encryption context names the bucket, not an object, as it does with S3 Bucket Keys: the record does not say which object was read",
			"a note of the caller's",
			"AWS names one policy type even when several deny: the other checks that FAIL deny the read too",
		}}
	if diff := cmp.Diff(want, x.Message); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestCiteNotes(t *testing.T) {
	for _, tt := range []struct {
		d    *denial.Denial
		want string
	}{
		{&denial.Denial{Operation: "GetObject", Action: "s3:GetObject", ActionFromOperation: true}, "the action is that of the GetObject operation, which the message names"},
		{&denial.Denial{Action: "s3:GetObject"}, `AWS cites no policy type: S3 names it only to callers in the bucket owner's account or organization, and says "Access Denied" to others (and nothing to a HEAD request)`},
		{&denial.Denial{Action: "s3:GetObject", Reason: "because public ACLs are prevented"}, "AWS gives a reason explain does not evaluate: because public ACLs are prevented"},
		{&denial.Denial{Action: "kms:Decrypt", Operation: "Decrypt", Layer: &denial.Layer{Type: denial.IdentityBased}}, "the denied call is a Decrypt the caller made itself; explain evaluates the Decrypt S3 makes for a read of the object, which a key policy conditioned on kms:ViaService treats differently"},
		{&denial.Denial{Action: "kms:Decrypt", Layer: &denial.Layer{Type: denial.IdentityBased}}, "reading an SSE-KMS object, a denied Decrypt is the one S3 makes for the caller: the read fails at the key (its key policy or the caller's KMS permissions), not at the bucket"},
		{&denial.Denial{CallerAccount: "444455556666", Action: "s3:GetObject"}, "the record names only the caller's account, 444455556666"},
		{&denial.Denial{Action: "s3:GetObject", Layer: &denial.Layer{Type: "bucket ACL policy"}}, "AWS cites no bucket ACL policy allows the action, which explain has no check of"},
	} {
		x := &Explanation{}
		x.Cite(tt.d)
		if !strings.Contains(strings.Join(x.Message.Notes, "\n"), tt.want) {
			t.Errorf("%+v: notes %q, want %q among them", tt.d, x.Message.Notes, tt.want)
		}
	}
}
