package generate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/eval"
	"github.com/kmsgrant/kmsgrant/templates"
)

// need is one request the grant must make possible, and which statement
// part grants it.
type need struct {
	part templates.Part
	req  eval.Request
}

// scope holds the ARNs and names one grant is about.
type scope struct {
	partition  string
	bucketARN  string
	objectsARN string // arn:aws:s3:::bucket/prefix (without the trailing *)
	prefix     string
	keyARN     string
	region     string
	// owner is the bucket's account, keyAccount the key's.
	owner      string
	keyAccount string
	// exact makes objectsARN one object's ARN rather than a prefix, for
	// explaining the read of one object.
	exact bool
	// version, with exact, is the object version the read is of: S3 then
	// authorizes s3:GetObjectVersion with s3:VersionId.
	version string
}

// objects is the request value for the objects of the scope.
func (sc scope) objects() eval.Value {
	if sc.exact {
		return eval.Exactly(sc.objectsARN)
	}
	return eval.StartingWith(sc.objectsARN)
}

// s3Needs returns the S3 requests the grant's access levels need; for the
// read of one object version, that read.
func s3Needs(g Grant, sc scope) []need {
	if sc.version != "" {
		ctx := map[string]eval.Value{"s3:versionid": eval.Exactly(sc.version)}
		return []need{{templates.Objects, s3Request(g.Grantee, "s3:GetObjectVersion", sc.objects(), sc.owner, ctx)}}
	}
	var out []need
	for _, name := range g.Access {
		level, _ := templates.LevelNamed(name)
		for _, a := range level.ObjectActions {
			out = append(out, need{templates.Objects, s3Request(g.Grantee, a, sc.objects(), sc.owner, nil)})
		}
		for _, a := range level.BucketActions {
			ctx := map[string]eval.Value{}
			if sc.prefix != "" {
				// A listing under the prefix may ask for any prefix that
				// starts with it.
				ctx["s3:prefix"] = eval.StartingWith(sc.prefix)
			}
			out = append(out, need{templates.Bucket, s3Request(g.Grantee, a, eval.Exactly(sc.bucketARN), sc.owner, ctx)})
		}
	}
	return dedupe(out)
}

// kmsNeeds returns the KMS requests S3 makes on the grantee's behalf. Their
// encryption context is the object ARN, or the bucket ARN when S3 Bucket Keys
// are on; both are checked when they are, since objects written before
// Bucket Keys were turned on still carry the object ARN.
func kmsNeeds(g Grant, sc scope, bucketKey bool) []need {
	var contexts []eval.Value
	contexts = append(contexts, sc.objects())
	if bucketKey {
		contexts = append(contexts, eval.Exactly(sc.bucketARN))
	}
	var out []need
	for _, name := range g.Access {
		level, _ := templates.LevelNamed(name)
		for _, a := range level.KeyActions {
			for _, ec := range contexts {
				// S3 calls KMS in a forward access session: the
				// grantee's identity, with aws:CalledVia naming S3 and
				// aws:ViaAWSService true ("Forward access sessions",
				// IAM User Guide).
				ctx := map[string]eval.Value{
					"kms:viaservice":                   eval.Exactly(arns.ServiceHost("s3", sc.region)),
					"kms:calleraccount":                eval.Exactly(g.Grantee.Account),
					"kms:encryptioncontext:aws:s3:arn": ec,
					"aws:viaawsservice":                eval.Exactly("true"),
					"aws:calledvia":                    eval.Values("s3.amazonaws.com"), // multivalued
					"aws:calledviafirst":               eval.Exactly("s3.amazonaws.com"),
					"aws:calledvialast":                eval.Exactly("s3.amazonaws.com"),
				}
				req := s3Request(g.Grantee, a, eval.Exactly(sc.keyARN), sc.keyAccount, ctx)
				for _, k := range calledVia {
					delete(req.Absent, k)
				}
				out = append(out, need{templates.Key, req})
			}
		}
	}
	return dedupe(out)
}

// calledVia are the keys a service fills in when it calls another on the
// grantee's behalf; a direct call has none of them.
var calledVia = []string{"aws:calledvia", "aws:calledviafirst", "aws:calledvialast"}

// s3Request builds a request with the context every request of the grantee
// carries: the grantee's own call, made directly (so no aws:CalledVia, and
// aws:ViaAWSService false or not there: AWS documents both) over HTTPS,
// without the keys its action never carries (see absentFor). For an
// account grantee the caller is a role or user of the account, to which
// its administrator attaches the IAM policy: aws:PrincipalArn is one of
// arn:PARTITION:iam::ACCOUNT:*.
func s3Request(p arns.Principal, action string, resource eval.Value, resourceAccount string, extra map[string]eval.Value) eval.Request {
	ctx := map[string]eval.Value{
		"aws:principalaccount":      eval.Exactly(p.Account),
		"aws:securetransport":       eval.Exactly("true"),
		"aws:resourceaccount":       eval.Exactly(resourceAccount),
		"aws:principalisawsservice": eval.Exactly("false"),
		"aws:viaawsservice":         {S: "false", OrAbsent: true},
	}
	absent := map[string]bool{}
	for _, k := range calledVia {
		absent[k] = true
	}
	for _, k := range absentFor(action) {
		absent[k] = true
	}
	if p.Kind == arns.Account {
		ctx["aws:principalarn"] = eval.StartingWith(fmt.Sprintf("arn:%s:iam::%s:", p.Partition, p.Account))
	} else {
		ctx["aws:principalarn"] = eval.Exactly(p.ARN())
		ctx["aws:principaltype"] = eval.Exactly(map[arns.PrincipalKind]string{arns.Role: "AssumedRole", arns.User: "User"}[p.Kind])
		if p.Kind == arns.User {
			ctx["aws:username"] = eval.Exactly(p.Name)
		}
	}
	for k, v := range extra {
		ctx[strings.ToLower(k)] = v
	}
	return eval.Request{Principal: p, Action: action, Resource: resource, Context: ctx, Absent: absent}
}

func dedupe(in []need) []need {
	seen := map[string]bool{}
	var out []need
	for _, n := range in {
		k := string(n.part) + "|" + n.req.Action + "|" + n.req.Resource.String() + "|" + n.req.Context["kms:encryptioncontext:aws:s3:arn"].String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, n)
	}
	return out
}

// Condition keys a request of one action never carries, because the
// service sets them only for other actions ("Actions, resources, and
// condition keys for Amazon S3" and "... for AWS Key Management Service",
// Service Authorization Reference). A condition on one of them is decided
// as AWS decides a condition on a missing key (a negated operator holds),
// not left to chance as the keys kmsgrant cannot see are.
var (
	// listKeys are set by the listing actions only.
	listKeys = []string{"s3:prefix", "s3:delimiter", "s3:max-keys"}
	// uploadKeys are request headers of uploads and copies, and the tags
	// and object lock settings they carry.
	uploadKeys = []string{"s3:x-amz-acl", "s3:x-amz-grant-full-control", "s3:x-amz-grant-read", "s3:x-amz-grant-read-acp",
		"s3:x-amz-grant-write", "s3:x-amz-grant-write-acp", "s3:x-amz-copy-source", "s3:x-amz-metadata-directive",
		"s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-storage-class",
		"s3:x-amz-website-redirect-location", "s3:requestobjecttagkeys", "s3:object-lock-mode", "s3:object-lock-retain-until-date",
		"s3:object-lock-legal-hold", "s3:object-lock-remaining-retention-days"}
	// grantKeys are set by the KMS grant operations only; policyKeys by
	// the key policy and key creation operations.
	grantKeys  = []string{"kms:grantoperations", "kms:granteeprincipal", "kms:retiringprincipal", "kms:grantconstrainttype", "kms:grantisforawsresource"}
	policyKeys = []string{"kms:bypasspolicylockoutsafetycheck"}
)

// absentFor returns the condition keys (lower case) a request of action
// never carries, for the actions kmsgrant plans.
func absentFor(action string) []string {
	switch action {
	case "s3:GetObject":
		return append(append([]string{"s3:versionid"}, listKeys...), uploadKeys...)
	case "s3:GetObjectVersion":
		return append(slices.Clone(listKeys), uploadKeys...)
	case "s3:PutObject":
		return append([]string{"s3:versionid"}, listKeys...)
	case "s3:ListBucket", "s3:ListBucketVersions":
		return append([]string{"s3:versionid"}, uploadKeys...)
	case "kms:Decrypt", "kms:GenerateDataKey":
		return append(slices.Clone(grantKeys), policyKeys...)
	}
	return nil
}
