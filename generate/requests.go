package generate

import (
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
}

// objects is the request value for the objects of the scope.
func (sc scope) objects() eval.Value {
	if sc.exact {
		return eval.Exactly(sc.objectsARN)
	}
	return eval.StartingWith(sc.objectsARN)
}

// s3Needs returns the S3 requests the grant's access levels need.
func s3Needs(g Grant, sc scope) []need {
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
// carries: the grantee's own call, made directly (so no aws:CalledVia)
// over HTTPS. For an account grantee the caller could be any principal of
// the account, so aws:PrincipalArn stays unknown.
func s3Request(p arns.Principal, action string, resource eval.Value, resourceAccount string, extra map[string]eval.Value) eval.Request {
	ctx := map[string]eval.Value{
		"aws:principalaccount":      eval.Exactly(p.Account),
		"aws:securetransport":       eval.Exactly("true"),
		"aws:resourceaccount":       eval.Exactly(resourceAccount),
		"aws:principalisawsservice": eval.Exactly("false"),
	}
	absent := map[string]bool{}
	for _, k := range calledVia {
		absent[k] = true
	}
	if p.Kind != arns.Account {
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
