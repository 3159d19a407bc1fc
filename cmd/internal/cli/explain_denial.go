package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/denial"
)

// maxMessage is the most explain reads of an AccessDenied message. AWS's
// run to a few hundred bytes; far more is a log or a file given by mistake.
const maxMessage = 64 << 10

// deniedCall is the denied call --message or --cloudtrail-event gives, and
// how to name where it came from in errors.
type deniedCall struct {
	*denial.Denial
	flag string // --message or --cloudtrail-event
	what string // "the message" or "the CloudTrail record"
}

// readDenial reads the denied call of --message (the text, or standard
// input for "-") or --cloudtrail-event; nil when neither is given.
func readDenial(f *Factory, opts *ExplainOptions) (*deniedCall, error) {
	switch {
	case opts.Message != "" && opts.CloudTrailEvent != "":
		return nil, errors.New("--message and --cloudtrail-event both describe the denied call: give one")
	case opts.Message != "":
		text := opts.Message
		if text == "-" {
			data, err := io.ReadAll(io.LimitReader(f.IO.In, maxMessage+1))
			if err != nil {
				return nil, fmt.Errorf("--message -: reading standard input: %w", err)
			}
			if len(data) > maxMessage {
				return nil, fmt.Errorf("--message -: more than %d KiB on standard input, where an AccessDenied message is a few lines", maxMessage>>10)
			}
			text = string(data)
		} else if len(text) > maxMessage {
			return nil, fmt.Errorf("--message: more than %d KiB, where an AccessDenied message is a few lines", maxMessage>>10)
		}
		d, err := denial.ParseMessage(text)
		if err != nil {
			return nil, fmt.Errorf("--message: %w", err)
		}
		return &deniedCall{Denial: d, flag: "--message", what: "the message"}, nil
	case opts.CloudTrailEvent != "":
		data, err := apply.ReadFile(opts.CloudTrailEvent, apply.MaxFileSize)
		if err != nil {
			return nil, fmt.Errorf("--cloudtrail-event: %w", err)
		}
		d, err := denial.ParseCloudTrail(data)
		if err != nil {
			return nil, fmt.Errorf("--cloudtrail-event: %s: %w", opts.CloudTrailEvent, err)
		}
		return &deniedCall{Denial: d, flag: "--cloudtrail-event", what: "the CloudTrail record"}, nil
	}
	return nil, nil
}

// explainedOperations are the operations of a read, for a denial that
// names the operation but no action.
var explainedOperations = []string{"", "GetObject", "HeadObject", "Decrypt"}

// fillFlags fills the flags the denied call gives (the caller as
// --grantee, an object as --object, a key as --key) where they were not
// given, and refuses given ones it contradicts. It returns notes for
// explain to show.
func (d *deniedCall) fillFlags(flags *GrantFlags, object *string) (notes []string, err error) {
	switch {
	case d.Action == "s3:GetObject" || d.Action == "kms:Decrypt":
	case d.Action != "":
		return nil, fmt.Errorf("%s: the denied call is %s; explain explains reads of S3 objects: s3:GetObject, and the kms:Decrypt S3 makes for it", d.flag, d.Action)
	case !slices.Contains(explainedOperations, d.Operation):
		return nil, fmt.Errorf("%s: the denied call is a %s; explain explains reads of S3 objects: GetObject, and the Decrypt S3 makes for it", d.flag, d.Operation)
	}
	if notes, err = d.fillGrantee(flags); err != nil {
		return nil, err
	}
	if err := d.fillObject(flags, object); err != nil {
		return nil, err
	}
	if d.Key != "" {
		switch {
		case flags.Key == "":
			flags.Key = d.Key
		case arns.IsFullKeyARN(flags.Key) && flags.Key != d.Key:
			return nil, fmt.Errorf("--key %s is not the key %s names (%s): give one or the other", flags.Key, d.what, d.Key)
		}
	}
	if flags.Bucket == "" && *object == "" {
		if d.Key != "" {
			return nil, fmt.Errorf("--object is required: %s names the key, not the object S3 was reading (give --object s3://BUCKET/KEY, or --bucket)", d.what)
		}
		return nil, fmt.Errorf("--object is required: %s names no object (give --object s3://BUCKET/KEY, or --bucket)", d.what)
	}
	return notes, nil
}

// fillGrantee takes the caller as --grantee, or checks that --grantee names
// the same principal: a role and a session of it are the same, since a
// session ARN does not carry the role's path.
func (d *deniedCall) fillGrantee(flags *GrantFlags) (notes []string, err error) {
	if d.Caller == "" {
		switch {
		case flags.Grantee != "" && d.CallerAccount != "":
			if p, err := arns.ParsePrincipal(flags.Grantee, ""); err == nil && p.Account != d.CallerAccount {
				return nil, fmt.Errorf("--grantee %s is not of the caller's account %s names (%s)", flags.Grantee, d.what, d.CallerAccount)
			}
		case d.CallerAccount != "":
			return nil, fmt.Errorf("--grantee is required: %s names only the caller's account, %s", d.what, d.CallerAccount)
		case flags.Grantee == "":
			return nil, fmt.Errorf("--grantee is required: %s does not name the caller", d.what)
		}
		return nil, nil
	}
	caller, err := arns.ParsePrincipal(d.Caller, "")
	if err != nil {
		if flags.Grantee == "" {
			return nil, fmt.Errorf("%s: the caller: %w; --grantee names whom to explain", d.flag, err)
		}
		return []string{fmt.Sprintf("the caller %s names is not a role, user or role session: explaining --grantee", d.what)}, nil
	}
	if flags.Grantee == "" {
		flags.Grantee = d.Caller
		return nil, nil
	}
	given, err := arns.ParsePrincipal(flags.Grantee, "")
	if err != nil {
		return nil, nil // --grantee's own error is the one to show
	}
	if !samePrincipal(given, caller) {
		return nil, fmt.Errorf("--grantee %s is not the caller %s names (%s): give one or the other", flags.Grantee, d.what, d.Caller)
	}
	if flags.Grantee != d.Caller {
		notes = append(notes, fmt.Sprintf("explaining --grantee %s, which the caller %s is", flags.Grantee, d.Caller))
	}
	return notes, nil
}

// samePrincipal reports whether two principals can be the same: a session
// ARN knows no path, and a role ARN no session.
func samePrincipal(a, b arns.Principal) bool {
	switch {
	case a.Partition != b.Partition || a.Account != b.Account || a.Kind != b.Kind || a.Name != b.Name:
		return false
	case a.Session != "" && b.Session != "" && a.Session != b.Session:
		return false
	case a.Path != "" && b.Path != "" && a.Path != b.Path:
		return false
	}
	return true
}

// fillObject takes the object (or the bucket) the denial names, unless
// --object names it, or --bucket and --prefix ask about a prefix of it.
func (d *deniedCall) fillObject(flags *GrantFlags, object *string) error {
	if d.Bucket == "" {
		return nil
	}
	named := "s3://" + d.Bucket + "/" + d.Object
	switch {
	case *object != "":
		bucket, key, err := parseObjectURL(*object)
		if err != nil {
			return err
		}
		if bucket != d.Bucket || d.Object != "" && key != d.Object {
			return fmt.Errorf("--object %s is not the object %s names (%s): give one or the other", *object, d.what, named)
		}
	case flags.Bucket != "" && flags.Bucket != d.Bucket:
		return fmt.Errorf("--bucket %s is not the bucket %s names (%s): give one or the other", flags.Bucket, d.what, d.Bucket)
	case d.Object != "" && flags.Prefix == "":
		*object = named
	default:
		flags.Bucket = d.Bucket
	}
	return nil
}

// withRolePath gives a session grantee its role's path where a CloudTrail
// record tells it (sessionContext.sessionIssuer), so that it need not be
// read from the grantee's account, and reports whether it did.
func (d *deniedCall) withRolePath(g *generate.Grant) bool {
	if d.Role == "" || g.Grantee.Session == "" || g.Grantee.Path != "" {
		return false
	}
	r, err := arns.ParsePrincipal(d.Role, "")
	if err != nil || r.Kind != arns.Role || r.Partition != g.Grantee.Partition || r.Account != g.Grantee.Account || r.Name != g.Grantee.Name {
		return false
	}
	g.Grantee.Path = r.Path
	return true
}
