package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// ExplainOptions are the options of `kmsgrant explain`.
type ExplainOptions struct {
	Factory *Factory
	Grant   GrantFlags
	Object  string
	Output  string
	// SCP, RCP and VPCEndpoint are policy files to evaluate too.
	SCP, RCP, VPCEndpoint string
	// Message is an AccessDenied message ("-" for standard input), and
	// CloudTrailEvent a file holding the CloudTrail record of the denied
	// call: they give the grantee, the object and the key, and the layer
	// AWS cites.
	Message, CloudTrailEvent string
}

// NewCmdExplain builds `kmsgrant explain`.
func NewCmdExplain(f *Factory, runF func(context.Context, *ExplainOptions) error) *cobra.Command {
	opts := &ExplainOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "explain (--grantee PRINCIPAL (--object s3://BUCKET/KEY [--version-id VERSION] | --bucket NAME [--prefix PREFIX]) | --message TEXT | --cloudtrail-event FILE) [flags]",
		Short: "Say why a cross-account read is denied, layer by layer",
		Long: `Explain walks every layer a cross-account read through KMS passes: the object,
the key, the bucket policy, the key policy, the grantee's IAM policies and
permissions boundary, and the bucket's default encryption, and reports each
as PASS, FAIL, WARN or NOT CHECKED with the statement that decides it. It
exits 0 when the read would be allowed, 2 when it would be denied, 1 on
error, so scripts can use it as a check.

Given the AccessDenied message of the read (--message, or --message - to
read it from standard input) or its CloudTrail record (--cloudtrail-event),
explain takes the caller, the object or key, and the layer AWS cites from
it, and shows that layer's check first.`,
		Example: `  # Why can this role not read this object?
  kmsgrant explain --state examples/seed/state.json \
    --grantee arn:aws:iam::444455556666:role/reader --object s3://doc-example-bucket/reports/q1.csv

  # Straight from the error the reader got (live AWS):
  kmsgrant explain --owner-profile data-owner --grantee-profile analytics \
    --message 'User: arn:aws:sts::444455556666:assumed-role/reader/s1 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::doc-example-bucket/reports/q1.csv" because no resource-based policy allows the s3:GetObject action'

  # From the CloudTrail record of the denied call, as a check in a script:
  kmsgrant explain --profile data-owner --cloudtrail-event denied.json --output json > why.json || echo "denied (exit $?)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(opts.Output, outputText, outputJSON); err != nil {
				return err
			}
			for _, name := range []string{"message", "cloudtrail-event"} {
				if cmd.Flags().Changed(name) && cmd.Flags().Lookup(name).Value.String() == "" {
					return fmt.Errorf("--%s: empty", name)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return explainRun(cmd.Context(), opts)
		},
	}
	opts.Grant.register(cmd)
	cmd.Flags().StringVar(&opts.Object, "object", "", "the object to explain, as s3://`BUCKET/KEY`")
	cmd.Flags().StringVar(&opts.Grant.VersionID, "version-id", "", "with --object: explain the read of that object `VERSION` (s3:GetObjectVersion; each version keeps the key it was written with)")
	addOutputFlag(cmd, &opts.Output, outputText, outputJSON)
	cmd.Flags().StringVar(&opts.SCP, "scp", "", "a service control policy `FILE` of the grantee's organization to evaluate too")
	cmd.Flags().StringVar(&opts.RCP, "rcp", "", "a resource control policy `FILE` of the owner's organization to evaluate too")
	cmd.Flags().StringVar(&opts.VPCEndpoint, "vpce-policy", "", "a VPC endpoint policy `FILE` on the grantee's path to evaluate too")
	cmd.Flags().StringVar(&opts.Message, "message", "", "the AccessDenied `TEXT` of the read, as the AWS CLI or an SDK printed it (- reads it from standard input)")
	cmd.Flags().StringVar(&opts.CloudTrailEvent, "cloudtrail-event", "", "a `FILE` holding the CloudTrail record of the denied read (a record, a log file or a lookup-events answer)")
	return cmd
}

func explainRun(ctx context.Context, opts *ExplainOptions) error {
	f := opts.Factory
	flags := opts.Grant
	objectFlag := opts.Object
	denied, err := readDenial(f, opts)
	if err != nil {
		return err
	}
	var notes []string
	if denied != nil {
		if notes, err = denied.fillFlags(&flags, &objectFlag); err != nil {
			return err
		}
	}
	if flags.VersionID != "" && objectFlag == "" {
		return errors.New("--version-id: give the object too (--object s3://BUCKET/KEY)")
	}
	if flags.VersionID != "" {
		// Reading versions is the versions access level; the plan that
		// fixes it grants that.
		flags.Access = strings.Join([]string{flags.Access, "versions"}, ",")
	}
	if objectFlag != "" {
		bucket, key, err := parseObjectURL(objectFlag)
		if err != nil {
			return err
		}
		if flags.Bucket != "" && flags.Bucket != bucket || flags.Prefix != "" {
			return errors.New("--object names the bucket and key: give it, or --bucket and --prefix, not both")
		}
		flags.Bucket, flags.Prefix = bucket, key
		if flags.State == "" && flags.CheckObjects == 0 {
			flags.CheckObjects = 1 // HeadObject on that object
		}
	}
	g, blocker, err := flags.grant()
	if err != nil {
		return err
	}
	if blocker != nil {
		return fmt.Errorf("--grantee: %s", blocker.Message)
	}
	roleFromRecord := denied != nil && denied.withRolePath(&g)
	_, in, err := readInputs(ctx, f, &flags, &g, true)
	if err != nil {
		return err
	}
	fixFlags := flags
	if roleFromRecord {
		// The plan grants the role; named with its path, it needs no
		// read of the grantee's account to find it.
		fixFlags.Grantee = denied.Role
	}
	object := ""
	if objectFlag != "" {
		object = flags.Prefix
	}
	var controls generate.Controls
	for _, c := range []struct {
		flag, file string
		doc        **policy.Document
	}{{"--scp", opts.SCP, &controls.SCP}, {"--rcp", opts.RCP, &controls.RCP}, {"--vpce-policy", opts.VPCEndpoint, &controls.VPCEndpoint}} {
		if c.file == "" {
			continue
		}
		data, err := apply.ReadFile(c.file, apply.MaxFileSize)
		if err != nil {
			return fmt.Errorf("%s: %w", c.flag, err)
		}
		if *c.doc, err = policy.Parse(data); err != nil {
			return fmt.Errorf("%s: %s: not a valid policy: %w", c.flag, c.file, err)
		}
	}
	x, err := generate.Explain(g, in, generate.Target{Key: object, VersionID: flags.VersionID}, controls)
	if err != nil {
		return err
	}
	if denied != nil {
		x.Cite(denied.Denial, notes...)
	}
	v := apply.ExplanationView{FormatVersion: apply.FormatVersion, Explanation: x}
	if g.Grantee.Account != x.Grant.OwnerAccount && x.Fixable {
		// kmsgrant plans cross-account access only, and only a plan
		// that nothing blocks is a fix; otherwise each check's fix says
		// what to change.
		v.Fix = fixCommand(fixFlags, g)
		if object != "" {
			v.FixNote = objectFixNote(g.Bucket, object)
		}
	}
	if opts.Output == "json" {
		err = apply.WriteExplanationJSON(f.IO.Out, v)
	} else {
		err = apply.WriteExplanationText(f.IO.Out, v, f.IO.ColorEnabled())
	}
	if err != nil {
		return err
	}
	if !x.Allowed {
		return &exitError{code: ExitChanges, silent: true}
	}
	return nil
}

// fixCommand is the plan that would repair what kmsgrant can repair.
func fixCommand(flags GrantFlags, g generate.Grant) string {
	parts := []string{"kmsgrant plan"}
	if flags.State != "" {
		parts = append(parts, "--state "+flags.State)
	}
	if flags.Profile != "" {
		parts = append(parts, "--profile "+flags.Profile)
	}
	if flags.OwnerProfile != "" {
		parts = append(parts, "--owner-profile "+flags.OwnerProfile)
	}
	if flags.GranteeProfile != "" {
		parts = append(parts, "--grantee-profile "+flags.GranteeProfile)
	}
	parts = append(parts, "--bucket "+g.Bucket, "--grantee "+flags.Grantee)
	if g.Prefix != "" {
		parts = append(parts, "--prefix "+g.Prefix)
	}
	if strings.Join(g.Access, ",") != "read" {
		parts = append(parts, "--access "+strings.Join(g.Access, ","))
	}
	return strings.Join(parts, " ")
}

// objectFixNote says what a plan for one object's key grants, since a
// grant's prefix always covers every key that starts with it.
func objectFixNote(bucket, key string) string {
	folder := ""
	if i := strings.LastIndex(key, "/"); i >= 0 {
		folder = key[:i+1]
	}
	note := fmt.Sprintf("--prefix %s grants s3://%s/%s*, every object whose key starts with it", key, bucket, key)
	if folder != "" {
		note += fmt.Sprintf("; --prefix %s grants the object's folder", folder)
	}
	return note
}

// parseObjectURL splits --object's s3://BUCKET/KEY.
func parseObjectURL(s string) (bucket, key string, err error) {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(s, "s3://"), "/")
	if !strings.HasPrefix(s, "s3://") || !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("--object: %q is not s3://BUCKET/KEY", s)
	}
	return bucket, key, nil
}
