package generate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/denial"
)

// Citation is what AWS said of the denied call explain was asked about, as
// its AccessDenied message or CloudTrail record tells it.
type Citation struct {
	// Source is "message" or "cloudtrail".
	Source string `json:"source"`
	// Record is the CloudTrail record's position in its file, from 1.
	Record int    `json:"record,omitempty"`
	Caller string `json:"caller,omitempty"`
	// Role is the caller's role with its path, where a record says it.
	Role   string `json:"role,omitempty"`
	Action string `json:"action,omitempty"`
	// Operation is the API call that failed.
	Operation string `json:"operation,omitempty"`
	Resource  string `json:"resource,omitempty"`
	// CitedLayer is the reason AWS gave, in its words ("no resource-based
	// policy allows the action"), and CitedCheck the check of explain it
	// is; CitedPolicy is the denying policy where AWS names it.
	CitedLayer  string `json:"cited_layer,omitempty"`
	CitedCheck  string `json:"cited_check,omitempty"`
	CitedPolicy string `json:"cited_policy,omitempty"`
	// Notes say what the denial means for the read, and what the message
	// or record does not say.
	Notes []string `json:"notes,omitempty"`
}

// DeniedCall names the check that says AWS denied a call kmsgrant finds
// allowed.
const DeniedCall = "denied call"

// citedChecks are explain's checks of the policy types AWS names, for
// s3: actions; a resource-based policy of a kms: action is the key policy.
var citedChecks = map[string]string{
	denial.ResourceBased: "bucket policy",
	denial.IdentityBased: "IAM policies",
	denial.Boundary:      "permissions boundary",
	denial.SCP:           "service control policies",
	denial.RCP:           "resource control policies",
	denial.Session:       "session policies",
	denial.VPCEndpoint:   "VPC endpoint policies",
}

// Cite adds to the explanation what AWS said of the denied call d, with
// notes, and puts first the checks of the layer AWS cited, marked Cited.
// AWS names only one policy type when several deny, so the other checks
// keep their verdicts. Wherever AWS and kmsgrant disagree, a WARN says so:
// a cited layer kmsgrant finds allowing, a Decrypt AWS reached while
// kmsgrant finds the GetObject before it denied, a denial kmsgrant finds
// no cause for. These never change the verdict, which stays kmsgrant's.
func (x *Explanation) Cite(d *denial.Denial, notes ...string) {
	c := &Citation{Source: d.Source, Caller: d.Caller, Role: d.Role, Action: d.Action, Operation: d.Operation, Resource: d.Resource}
	if d.Source == denial.FromCloudTrail {
		c.Record = d.Record
	}
	if d.Layer != nil {
		c.CitedLayer, c.CitedPolicy = d.Layer.String(), d.Layer.Policy
		c.CitedCheck = citedChecks[d.Layer.Type]
		if c.CitedCheck == "bucket policy" && strings.HasPrefix(d.Action, "kms:") {
			c.CitedCheck = "key policy"
		}
	}
	c.Notes = append(denialNotes(d, c.CitedCheck), notes...)
	x.Message = c

	var cited, rest []Check
	if c.CitedCheck != "" {
		for _, ch := range x.Checks {
			if ch.Name == c.CitedCheck {
				ch.Cited = true
				cited = append(cited, ch)
			} else {
				rest = append(rest, ch)
			}
		}
		if w := x.disagreement(cited, c.CitedCheck, d); w != nil {
			cited = append(cited, *w)
		}
		x.Checks = append(cited, rest...)
		if slices.ContainsFunc(rest, func(ch Check) bool { return ch.Status == Fail }) {
			c.Notes = append(c.Notes, "AWS names one policy type even when several deny: the other checks that FAIL deny the read too")
		}
	}
	if d.ViaS3 && strings.HasPrefix(d.Action, "kms:") {
		x.Checks = reachedDecrypt(x.Checks)
	}
	explained := slices.ContainsFunc(x.Checks, func(ch Check) bool { return ch.Cited && ch.Status != Pass })
	if x.Allowed && !explained {
		x.Checks = append([]Check{{Name: DeniedCall, Status: Warn,
			Detail: "AWS denied it, but kmsgrant finds the read allowed: the cause is in what kmsgrant cannot see (the layers NOT CHECKED), in a policy that changed since kmsgrant read it, or the denial is of another caller, object or key than the one explained",
			Fix:    "hand explain the policies it lists as NOT CHECKED (--scp, --rcp, --vpce-policy), read the accounts live (without --state), and check the denial is of this read"}},
			x.Checks...)
	}
}

// disagreement is the WARN of a cited layer whose checks do not say what
// AWS said of it, or nil when they do: a check of the layer fails or warns
// about the denied action (for an explicit deny, on a Deny statement), or
// kmsgrant could not check it.
func (x *Explanation) disagreement(cited []Check, name string, d *denial.Denial) *Check {
	action := cmp.Or(d.Action, "the call")
	said := fmt.Sprintf("AWS says no %s allows %s", d.Layer.Type, action)
	if d.Layer.Explicit {
		said = fmt.Sprintf("AWS says %s denied %s", d.Layer, action)
	}
	fix := fmt.Sprintf("compare what kmsgrant read of the %s with what AWS evaluates now (explain without --state reads the accounts live; kmsgrant snapshot refreshes a state file), and check the denial is of this caller and object", name)
	if len(cited) == 0 {
		if x.Grant.OwnerAccount == "" {
			// The explanation stopped before the layers (no such bucket).
			return nil
		}
		detail := fmt.Sprintf("%s, a layer kmsgrant did not evaluate for this read", said)
		switch name {
		case "permissions boundary":
			detail = fmt.Sprintf("%s, but kmsgrant finds no permissions boundary on the grantee", said)
		case "key policy":
			detail = fmt.Sprintf("%s, but kmsgrant finds no KMS key for this read", said)
		}
		return &Check{Name: name, Status: Warn, Cited: true, Detail: detail, Fix: fix}
	}
	concerns := func(ch Check) bool {
		return d.Action == "" || len(ch.actions) == 0 || slices.Contains(ch.actions, d.Action)
	}
	onlyNoAllow := false
	for _, ch := range cited {
		switch {
		case ch.Status == NotChecked:
			return nil
		case ch.Status == Warn && concerns(ch):
			return nil
		case ch.Status == Fail && concerns(ch):
			if !d.Layer.Explicit || !ch.lacksAllow {
				return nil
			}
			onlyNoAllow = true
		}
	}
	if onlyNoAllow {
		return &Check{Name: name, Status: Warn, Cited: true, Fix: fix,
			Detail: fmt.Sprintf("%s, but kmsgrant finds no Deny statement there that applies, only no Allow", said)}
	}
	return &Check{Name: name, Status: Warn, Cited: true, Fix: fix,
		Detail: fmt.Sprintf("AWS and kmsgrant disagree: %s, but kmsgrant finds it allowed by the %s", said, name)}
}

// reachedDecrypt adds a WARN after each check that finds s3:GetObject
// denied: S3 authorizes the GetObject before it calls KMS, so a denied
// Decrypt it made for the read means AWS allowed the GetObject.
func reachedDecrypt(checks []Check) []Check {
	var out []Check
	for _, ch := range checks {
		out = append(out, ch)
		if ch.Status == Fail && slices.Contains(ch.actions, "s3:GetObject") {
			out = append(out, Check{Name: ch.Name, Status: Warn,
				Detail: fmt.Sprintf("AWS and kmsgrant disagree: S3 made the Decrypt, so AWS had allowed the GetObject, which kmsgrant finds denied by the %s", ch.Name),
				Fix:    fmt.Sprintf("compare what kmsgrant read of the %s with what AWS evaluates now, and check the denial is of this caller and object", ch.Name)})
		}
	}
	return out
}

// denialNotes say what a denial means for the read and what it leaves
// unsaid.
func denialNotes(d *denial.Denial, check string) []string {
	var notes []string
	if d.Source == denial.FromCloudTrail && d.Records > 1 {
		notes = append(notes, fmt.Sprintf("record %d of %d: the first denied S3 GetObject or KMS Decrypt", d.Record, d.Records))
	}
	if d.Caller == "" && d.CallerAccount != "" {
		notes = append(notes, fmt.Sprintf("the record names only the caller's account, %s", d.CallerAccount))
	}
	if d.ActionFromOperation {
		notes = append(notes, fmt.Sprintf("the action is that of the %s operation, which the message names", d.Operation))
	}
	switch {
	case d.Layer != nil && check == "":
		notes = append(notes, fmt.Sprintf("AWS cites %s, which explain has no check of", d.Layer))
	case d.Layer == nil && d.Reason != "":
		notes = append(notes, fmt.Sprintf("AWS gives a reason explain does not evaluate: %s", d.Reason))
	case d.Layer == nil && !strings.HasPrefix(d.Action, "kms:"):
		notes = append(notes, `AWS cites no policy type: S3 names it only to callers in the bucket owner's account or organization, and says "Access Denied" to others (and nothing to a HEAD request)`)
	case d.Layer == nil:
		notes = append(notes, "AWS cites no policy type")
	}
	if strings.HasPrefix(d.Action, "kms:") {
		switch {
		case d.ViaS3:
			notes = append(notes, "the denied call is the Decrypt S3 made for the caller's read, after S3 allowed the GetObject itself: the read failed at the key (its key policy or the caller's KMS permissions), not at the bucket")
		case d.Operation == "Decrypt":
			notes = append(notes, "the denied call is a Decrypt the caller made itself; explain evaluates the Decrypt S3 makes for a read of the object, which a key policy conditioned on kms:ViaService treats differently")
		default:
			notes = append(notes, "reading an SSE-KMS object, a denied Decrypt is the one S3 makes for the caller: the read fails at the key (its key policy or the caller's KMS permissions), not at the bucket")
		}
	}
	if d.BucketKeyContext {
		notes = append(notes, "the encryption context names the bucket, not an object, as it does with S3 Bucket Keys: the record does not say which object was read")
	}
	return notes
}
