// Package denial reads what AWS says of a denied call: the AccessDenied
// message S3 or KMS returns, as the AWS SDKs and the AWS CLI print it, and
// the CloudTrail record of the call. It only parses; what a denial means for
// a grant is explain's to say.
package denial

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// The policy types AWS names in AccessDenied messages, "with an explicit
// deny in a TYPE" or "because no TYPE allows the ACTION action" (IAM User
// Guide, "Troubleshoot access denied error messages"; S3 User Guide,
// "Troubleshoot access denied (403 Forbidden) errors").
const (
	ResourceBased = "resource-based policy"
	IdentityBased = "identity-based policy"
	Boundary      = "permissions boundary"
	SCP           = "service control policy"
	RCP           = "resource control policy"
	Session       = "session policy"
	VPCEndpoint   = "VPC endpoint policy"
)

// knownTypes are matched longest first, so that a policy ARN or a sentence
// after the type is not taken for part of it.
var knownTypes = []string{ResourceBased, IdentityBased, Boundary, SCP, RCP, Session, VPCEndpoint}

// Where a denial was read from.
const (
	FromMessage    = "message"
	FromCloudTrail = "cloudtrail"
)

// Layer is the policy type AWS gives as the reason of a denial. AWS names
// one type even when several deny, and names the policy itself only to
// callers in the same account or organization.
type Layer struct {
	// Type is AWS's name of the policy type, one of the constants above
	// for the types AWS documents; empty for a bare "with an explicit
	// deny".
	Type string
	// Explicit is set for "with an explicit deny in …", clear for
	// "because no … allows".
	Explicit bool
	// Policy is the ARN of the denying policy, where AWS names it.
	Policy string
}

// String says the layer in AWS's words.
func (l Layer) String() string {
	switch {
	case l.Explicit && l.Type == "":
		return "an explicit deny"
	case l.Explicit:
		return "an explicit deny in " + article(l.Type) + " " + l.Type
	}
	return "no " + l.Type + " allows the action"
}

func article(s string) string {
	if strings.ContainsAny(s[:1], "aeiouAEIOU") {
		return "an"
	}
	return "a"
}

// Denial is what a message or a record says of one denied call. A field
// left empty is one it does not say.
type Denial struct {
	// Source is FromMessage or FromCloudTrail.
	Source string
	// Code is the error code: AccessDenied (S3), AccessDeniedException
	// (KMS), or the bare status S3 answers a HEAD request with ("403").
	Code string
	// Service is "S3" or "KMS" where the SDK or the record says.
	Service string
	// Operation is the API call that failed (GetObject, HeadObject,
	// Decrypt), where the SDK, the CLI or the record says.
	Operation string
	// Caller is the ARN of the principal AWS denied.
	Caller string
	// CallerAccount is the caller's account when a record names no more
	// of it.
	CallerAccount string
	// Role is the role of an assumed-role caller with its path, which
	// only a CloudTrail record tells (sessionContext.sessionIssuer).
	Role string
	// Action is the action AWS denied (s3:GetObject, kms:Decrypt).
	// ActionFromOperation is set when the message did not say it and it
	// was taken from the operation.
	Action              string
	ActionFromOperation bool
	// Resource is the ARN AWS names.
	Resource string
	// Layer is the policy type AWS cites; nil when it cites none.
	Layer *Layer
	// Reason is what the message gives as the reason when it names no
	// policy type (S3 Block Public Access, a blocked encryption type).
	Reason string

	// Bucket and Object name the object read, from the resource or the
	// record; Object is empty when only the bucket is known.
	Bucket, Object string
	// BucketKeyContext is set when a KMS record's encryption context names
	// the bucket rather than the object, as it does with S3 Bucket Keys.
	BucketKeyContext bool
	// Key is the ARN of the KMS key.
	Key string
	// ViaS3 is set when the denied KMS call is one S3 made for the caller
	// (the record says S3 invoked it, or S3 relayed KMS's message for a
	// GetObject).
	ViaS3 bool
	// Region is the record's Region.
	Region string
	// Record is the record's position (from 1) among Records records of
	// the file it was read from.
	Record, Records int
}

var (
	// The AWS CLI: "An error occurred (AccessDenied) when calling the
	// GetObject operation: …"; older versions said "A client error (…)
	// occurred when calling …".
	cliRE = regexp.MustCompile(`(?:An error occurred|A client error) \(([^)]*)\)(?: occurred)? when calling the (\w+) operation(?: \(reached max retries: \d+\))?: ?`)
	// The AWS SDK for Go v2: "operation error S3: GetObject, https
	// response error StatusCode: 403, RequestID: …, HostID: …, api error
	// AccessDenied: …".
	goSDKRE = regexp.MustCompile(`operation error ([A-Za-z0-9 ]+): (\w+), .*?api error (\w+): ?`)
	// Trailers the SDKs add after AWS's message: Java's "(Service: S3,
	// Status Code: 403, Request ID: …)" and Go v1's "status code: 403,
	// request id: …".
	javaTrailerRE = regexp.MustCompile(`\s*\(Service: [^)]*\)\s*$`)
	javaCodeRE    = regexp.MustCompile(`Error Code: (\w+)`)
	// The exception's class, as Java and Python print it before the message.
	exceptionRE   = regexp.MustCompile(`^(?:[a-z]\w*\.)+[A-Z]\w*(?:Exception|Error): `)
	goV1TrailerRE = regexp.MustCompile(`\s+status code: \d+, request id: .*$`)
	// A message that starts with its code, as Go v1 and some logs print it.
	codePrefixRE = regexp.MustCompile(`^(AccessDenied(?:Exception)?)(?::\s*|$)`)
	// S3's XML error body and KMS's JSON one, for a response read raw.
	xmlCodeRE    = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	xmlMessageRE = regexp.MustCompile(`<Message>([^<]*)</Message>`)
	actionRE     = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*]+$`)
)

// accessDeniedCodes are the codes and bare statuses of an access denial.
var accessDeniedCodes = map[string]bool{"accessdenied": true, "accessdeniedexception": true, "403": true, "forbidden": true}

// shortBodies are what S3 says to callers it gives no more to: those
// outside the bucket owner's account and organization, and any HEAD
// request, whose answer has no body.
var shortBodies = map[string]bool{"access denied": true, "forbidden": true, "accessdenied": true, "": true}

// ParseMessage reads an AccessDenied message as the AWS SDKs and CLI print
// it: AWS's own text ("User: ARN is not authorized to perform: ACTION on
// resource: ARN because …"), alone or inside the CLI's "An error occurred
// (CODE) when calling the OP operation: …" or the Go SDK's "operation error
// S3: OP, … api error CODE: …", with any line breaks, repeated spaces and
// surrounding quotes; or S3's short "Access Denied". It fails only on text
// that is not an access denial.
func ParseMessage(text string) (*Denial, error) {
	s := normalize(text)
	if s == "" {
		return nil, errors.New("the message is empty")
	}
	d := &Denial{Source: FromMessage}
	s = unwrapBody(d, s)
	if m := cliRE.FindStringSubmatchIndex(s); m != nil {
		d.Code, d.Operation = s[m[2]:m[3]], s[m[4]:m[5]]
		s = s[m[1]:]
	} else if m := goSDKRE.FindStringSubmatchIndex(s); m != nil {
		d.Service, d.Operation, d.Code = s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]]
		s = s[m[1]:]
	}
	if t := javaTrailerRE.FindString(s); t != "" {
		if m := javaCodeRE.FindStringSubmatch(t); m != nil && d.Code == "" {
			d.Code = m[1]
		}
		s = s[:len(s)-len(t)]
	}
	s = goV1TrailerRE.ReplaceAllString(exceptionRE.ReplaceAllString(s, ""), "")
	if m := codePrefixRE.FindStringSubmatch(s); m != nil {
		if d.Code == "" {
			d.Code = m[1]
		}
		s = strings.TrimSpace(s[len(m[0]):])
	}
	s = strings.TrimSpace(s)

	const phrase = "is not authorized to perform"
	i := strings.Index(s, phrase)
	if i < 0 {
		body := strings.ToLower(strings.TrimSuffix(s, "."))
		switch {
		case d.Code != "" && !accessDeniedCodes[strings.ToLower(d.Code)]:
			return nil, fmt.Errorf("the message is a %s error, not an access denial", d.Code)
		case shortBodies[body]:
		case d.Code != "":
			d.Reason = s
		default:
			return nil, fmt.Errorf("not an AccessDenied message of S3 or KMS: %q", excerpt(s))
		}
		d.inferAction()
		return d, nil
	}
	if err := d.parseStatement(s[:i], strings.TrimPrefix(s[i+len(phrase):], ":")); err != nil {
		return nil, err
	}
	d.inferAction()
	d.fromResource()
	// S3 relays KMS's message when the Decrypt it makes for a read is
	// denied: a kms: action in answer to an S3 operation.
	if strings.HasPrefix(d.Action, "kms:") && (d.Service == "S3" || isS3Read(d.Operation)) {
		d.ViaS3 = true
	}
	return d, nil
}

// normalize makes one line of a message however it was copied: from a
// terminal with its line breaks, from a JSON log with its escaped quotes,
// or quoted as a whole.
func normalize(text string) string {
	s := strings.ReplaceAll(text, `\"`, `"`)
	s = strings.Join(strings.Fields(s), " ")
	for len(s) >= 2 {
		q := s[0]
		if (q == '"' || q == '\'' || q == '`') && s[len(s)-1] == q {
			s = strings.TrimSpace(s[1 : len(s)-1])
			continue
		}
		break
	}
	return s
}

// unwrapBody reads the message out of a raw response body: S3's XML error
// document, or KMS's JSON one.
func unwrapBody(d *Denial, s string) string {
	if strings.Contains(s, "<Error>") {
		if m := xmlMessageRE.FindStringSubmatch(s); m != nil {
			if c := xmlCodeRE.FindStringSubmatch(s); c != nil {
				d.Code = html.UnescapeString(c[1])
			}
			return html.UnescapeString(m[1])
		}
	}
	if strings.HasPrefix(s, "{") {
		var body struct {
			Type     string `json:"__type"`
			Message  string `json:"message"`
			Message2 string `json:"Message"`
		}
		if json.Unmarshal([]byte(s), &body) == nil && (body.Message != "" || body.Message2 != "") {
			if body.Type != "" {
				// KMS's __type may carry a namespace before "#".
				d.Code = body.Type[strings.LastIndex(body.Type, "#")+1:]
			}
			return normalize(body.Message + body.Message2)
		}
	}
	return s
}

// parseStatement reads "User: CALLER" before "is not authorized to
// perform" and "ACTION on resource: RESOURCE CONTEXT" after it.
func (d *Denial) parseStatement(before, after string) error {
	// No IAM or STS name holds a colon, so the last "User:" starts the
	// caller; some services write "User ARN" without one.
	caller := ""
	if j := strings.LastIndex(before, "User:"); j >= 0 {
		caller = before[j+len("User:"):]
	} else if strings.HasPrefix(before, "User ") {
		caller = before[len("User "):]
	}
	d.Caller = strings.Trim(strings.TrimSpace(caller), `"'`)
	rest := strings.TrimSpace(after)
	action, rest, _ := strings.Cut(rest, " ")
	action = strings.TrimSuffix(action, ".")
	if !actionRE.MatchString(action) {
		if action == "" {
			return errors.New(`the message names no action after "is not authorized to perform:"`)
		}
		return fmt.Errorf("%q, where the message names the action, is not an action (want service:Action, such as s3:GetObject)", action)
	}
	d.Action = action
	rest = strings.TrimSpace(rest)
	rest = d.parseResource(rest)
	return d.parseContext(rest)
}

// parseResource reads the resource: "on resource: ARN", "on resource
// ARN", `on "ARN"`, quoted or not, or KMS's "on the resource associated
// with this ciphertext", which names none.
func (d *Denial) parseResource(rest string) string {
	for _, unnamed := range []string{"on the resource associated with this ciphertext", "on this resource"} {
		if strings.HasPrefix(rest, unnamed) {
			return strings.TrimSpace(rest[len(unnamed):])
		}
	}
	if !strings.HasPrefix(rest, "on ") {
		return rest
	}
	rest = strings.TrimPrefix(rest, "on ")
	rest = strings.TrimPrefix(rest, "resource")
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	var value string
	if strings.HasPrefix(rest, `"`) {
		end := strings.Index(rest[1:], `"`)
		if end < 0 {
			value, rest = rest[1:], ""
		} else {
			value, rest = rest[1:end+1], rest[end+2:]
		}
	} else {
		value, rest, _ = strings.Cut(rest, " ")
		value = strings.TrimSuffix(value, ".")
	}
	d.Resource = value
	return strings.TrimSpace(rest)
}

// parseContext reads the reason: "with an explicit deny in a TYPE[:
// POLICY-ARN]", "because no TYPE allows the ACTION action", or another
// "because …".
func (d *Denial) parseContext(rest string) error {
	switch {
	case strings.HasPrefix(rest, "with an explicit deny"):
		t := strings.TrimSpace(strings.TrimPrefix(rest, "with an explicit deny"))
		t = strings.TrimPrefix(t, "in ")
		for _, a := range []string{"a ", "an ", "the "} {
			t = strings.TrimPrefix(t, a)
		}
		typ, tail := policyType(t, "")
		l := &Layer{Type: typ, Explicit: true}
		if strings.HasPrefix(tail, ":") {
			policy, _, _ := strings.Cut(strings.TrimSpace(tail[1:]), " ")
			l.Policy = strings.TrimSuffix(policy, ".")
		}
		d.Layer = l
	case strings.HasPrefix(rest, "because no "):
		typ, _ := policyType(strings.TrimPrefix(rest, "because no "), " allows")
		if typ == "" {
			return fmt.Errorf("the message says %q but names no policy type", excerpt(rest))
		}
		d.Layer = &Layer{Type: typ}
	case rest != "":
		d.Reason = strings.TrimSuffix(rest, ".")
	}
	return nil
}

// policyType reads a policy type at the start of t: one AWS documents, or
// else the words up to end (or a colon or full stop), for types AWS may add.
func policyType(t, end string) (typ, tail string) {
	for _, k := range knownTypes {
		if strings.HasPrefix(t, k) {
			return k, strings.TrimSpace(t[len(k):])
		}
	}
	// end starts with a space, which an empty type has not before it.
	padded := " " + t
	cut := len(padded)
	for _, sep := range []string{end, ":", "."} {
		if sep == "" {
			continue
		}
		if i := strings.Index(padded, sep); i >= 0 && i < cut {
			cut = i
		}
	}
	return strings.TrimSpace(padded[:cut]), strings.TrimSpace(padded[cut:])
}

// operationActions are the actions of the operations explain is about,
// for a message that names the operation but not the action.
var operationActions = map[string]string{"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "Decrypt": "kms:Decrypt"}

func (d *Denial) inferAction() {
	if d.Action != "" {
		return
	}
	if a, ok := operationActions[d.Operation]; ok {
		d.Action, d.ActionFromOperation = a, true
	}
}

func isS3Read(op string) bool { return op == "GetObject" || op == "HeadObject" }

// fromResource sets the object or the key the resource names.
func (d *Denial) fromResource() {
	if d.Resource == "" {
		return
	}
	if bucket, object, ok := ParseS3ARN(d.Resource); ok {
		d.Bucket, d.Object = bucket, object
		return
	}
	if ref, err := arns.ParseKeyRef(d.Resource); err == nil && ref.Form != arns.KeyID && ref.Form != arns.AliasName {
		d.Key = d.Resource
	}
}

// ParseS3ARN splits an S3 bucket or object ARN (arn:aws:s3:::BUCKET or
// arn:aws:s3:::BUCKET/KEY) into the bucket and the object key, "" for a
// bucket ARN.
func ParseS3ARN(s string) (bucket, object string, ok bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "s3" || a.Region != "" || a.AccountID != "" {
		return "", "", false
	}
	bucket, object, _ = strings.Cut(a.Resource, "/")
	if arns.ValidateBucketName(bucket) != nil {
		return "", "", false
	}
	return bucket, object, true
}

// excerpt shortens text for an error message.
func excerpt(s string) string {
	const max = 80
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
