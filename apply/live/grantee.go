package live

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Grantee implements apply.Backend. Without credentials for the grantee's
// account, or when they cannot read IAM, it answers nil: the plan then shows
// the IAM side for the account's administrator to attach.
func (b *Backend) Grantee(ctx context.Context, p arns.Principal) (*generate.Grantee, error) {
	side := b.granteeIn(p.Account)
	if side == nil {
		if len(b.opts.AccountProfiles) > 0 {
			b.noteOnce("no credentials "+p.Account, fmt.Sprintf("no credentials for account %s were given (profiles in the grants file, or --grantee-profile), so its IAM side is shown for its administrator to attach", p.Account))
		}
		return nil, nil
	}
	r := &iamReader{b: b, side: side, ctx: ctx, managed: map[string]*managedDoc{}}
	g, err := r.read(p)
	if isAccessDenied(err) {
		b.noteOnce("cannot read IAM "+p.Account, fmt.Sprintf("%s cannot read IAM in account %s (%v), so the IAM side is shown for its administrator to attach", side.id.name(), p.Account, err))
		return nil, nil
	}
	return g, err
}

// iamReader reads one grantee's policies, each managed policy at most once.
type iamReader struct {
	b    *Backend
	side *granteeSide
	ctx  context.Context

	mu      sync.Mutex
	managed map[string]*managedDoc
}

type managedDoc struct {
	once     sync.Once
	noteOnce sync.Once
	doc      *policy.Document
	err      error
}

func (r *iamReader) read(p arns.Principal) (*generate.Grantee, error) {
	g := &generate.Grantee{Principal: p}
	notFound := &apply.GranteeNotFoundError{Grantee: p.ARN(),
		Where: fmt.Sprintf("account %s has no %s named %s", p.Account, p.Kind, p.Name)}
	var path, boundary string
	var inline, attached []string
	var groups []string
	api := r.side.iam
	name := aws.String(p.Name)

	var err error
	if p.Kind == arns.Role {
		err = parallel(
			func() error {
				out, err := api.GetRole(r.ctx, &iam.GetRoleInput{RoleName: name})
				if err != nil {
					return err
				}
				path = aws.ToString(out.Role.Path)
				if pb := out.Role.PermissionsBoundary; pb != nil {
					boundary = aws.ToString(pb.PermissionsBoundaryArn)
				}
				return nil
			},
			func() (err error) { inline, err = r.listRolePolicies(name); return },
			func() (err error) { attached, err = r.listAttachedRolePolicies(name); return },
		)
	} else {
		err = parallel(
			func() error {
				out, err := api.GetUser(r.ctx, &iam.GetUserInput{UserName: name})
				if err != nil {
					return err
				}
				path = aws.ToString(out.User.Path)
				if pb := out.User.PermissionsBoundary; pb != nil {
					boundary = aws.ToString(pb.PermissionsBoundaryArn)
				}
				return nil
			},
			func() (err error) { inline, err = r.listUserPolicies(name); return },
			func() (err error) { attached, err = r.listAttachedUserPolicies(name); return },
			func() (err error) { groups, err = r.listGroupsForUser(name); return },
		)
	}
	switch {
	case isCode(err, "NoSuchEntity"):
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("reading IAM %s %s (%s): %w", p.Kind, p.ARN(), r.side.id.name(), err)
	}
	if p.Path == "" {
		// A role named by a session ARN: GetRole told its path.
		p.Path = path
		g.Principal = p
	}
	if path != p.Path {
		notFound.Where = fmt.Sprintf("account %s has %s %s with path %s, not %s", p.Account, p.Kind, p.Name, path, p.Path)
		return nil, notFound
	}

	// Second round: every document, at once.
	g.Inline = make([]generate.NamedPolicy, len(inline))
	g.Attached = make([]generate.NamedPolicy, len(attached))
	var fs []func() error
	for i, pn := range inline {
		g.Inline[i].Name = pn
		fs = append(fs, func() (err error) {
			g.Inline[i].Doc, err = r.inlineDoc(p, pn)
			return
		})
	}
	for i, a := range attached {
		g.Attached[i].Name = a
		fs = append(fs, func() (err error) { g.Attached[i].Doc, err = r.managedDoc(a); return })
	}
	if boundary != "" {
		g.Boundary = &generate.NamedPolicy{Name: boundary}
		fs = append(fs, func() (err error) { g.Boundary.Doc, err = r.managedDoc(boundary); return })
	}
	g.Groups = make([]generate.Group, len(groups))
	for i, grp := range groups {
		fs = append(fs, func() (err error) { g.Groups[i], err = r.group(grp); return })
	}
	if err := parallel(fs...); err != nil {
		return nil, err
	}
	return g, nil
}

func titled(k arns.PrincipalKind) string {
	if k == arns.Role {
		return "Role"
	}
	return "User"
}

func (r *iamReader) inlineDoc(p arns.Principal, name string) (*policy.Document, error) {
	var doc *string
	var err error
	if p.Kind == arns.Role {
		var out *iam.GetRolePolicyOutput
		if out, err = r.side.iam.GetRolePolicy(r.ctx, &iam.GetRolePolicyInput{RoleName: aws.String(p.Name), PolicyName: &name}); err == nil {
			doc = out.PolicyDocument
		}
	} else {
		var out *iam.GetUserPolicyOutput
		if out, err = r.side.iam.GetUserPolicy(r.ctx, &iam.GetUserPolicyInput{UserName: aws.String(p.Name), PolicyName: &name}); err == nil {
			doc = out.PolicyDocument
		}
	}
	if err != nil {
		return nil, callError(err, "reading inline policy "+name+" of", p.ARN(), "iam:Get"+titled(p.Kind)+"Policy", r.side.id)
	}
	return decodeDocument(aws.ToString(doc), fmt.Sprintf("inline policy %s of %s", name, p.ARN()))
}

// decodeDocument decodes a policy document as IAM returns it: URL-encoded.
// PathUnescape, not QueryUnescape, which would turn a literal "+" into a
// space.
func decodeDocument(encoded, what string) (*policy.Document, error) {
	text, err := url.PathUnescape(encoded)
	if err != nil {
		return nil, fmt.Errorf("decoding the %s: %w", what, err)
	}
	return parsePolicy(text, what)
}

// managedDoc reads a managed policy's default version once; a policy that
// cannot be read is nil, which the planner reports as not checked.
func (r *iamReader) managedDoc(arn string) (*policy.Document, error) {
	r.mu.Lock()
	m, ok := r.managed[arn]
	if !ok {
		m = &managedDoc{}
		r.managed[arn] = m
	}
	r.mu.Unlock()
	m.once.Do(func() {
		pol, err := r.side.iam.GetPolicy(r.ctx, &iam.GetPolicyInput{PolicyArn: &arn})
		if err != nil {
			m.err = err
			return
		}
		v, err := r.side.iam.GetPolicyVersion(r.ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: pol.Policy.DefaultVersionId})
		if err != nil {
			m.err = err
			return
		}
		m.doc, m.err = decodeDocument(aws.ToString(v.PolicyVersion.Document), "managed policy "+arn)
	})
	if isAccessDenied(m.err) {
		// Not allowed to read it: the plan reports it as not checked.
		m.noteOnce.Do(func() { r.b.note(fmt.Sprintf("managed policy %s could not be read: %v", arn, m.err)) })
		return nil, nil
	}
	if m.err != nil {
		return nil, fmt.Errorf("reading managed policy %s (%s): %w", arn, r.side.id.name(), m.err)
	}
	return m.doc, nil
}

func (r *iamReader) group(group string) (generate.Group, error) {
	api, name := r.side.iam, aws.String(group)
	var inline, attached []string
	err := parallel(
		func() (err error) { inline, err = r.listGroupPolicies(name); return },
		func() (err error) { attached, err = r.listAttachedGroupPolicies(name); return },
	)
	if err != nil {
		return generate.Group{}, fmt.Errorf("reading the policies of group %s needs iam:ListGroupPolicies and iam:ListAttachedGroupPolicies for %s: %w", group, r.side.id.name(), err)
	}
	out := generate.Group{Name: group, Inline: make([]generate.NamedPolicy, len(inline)), Attached: make([]generate.NamedPolicy, len(attached))}
	var fs []func() error
	for i, pn := range inline {
		out.Inline[i].Name = pn
		fs = append(fs, func() error {
			res, err := api.GetGroupPolicy(r.ctx, &iam.GetGroupPolicyInput{GroupName: name, PolicyName: aws.String(pn)})
			if err != nil {
				return err
			}
			out.Inline[i].Doc, err = decodeDocument(aws.ToString(res.PolicyDocument), fmt.Sprintf("inline policy %s of group %s", pn, group))
			return err
		})
	}
	for i, a := range attached {
		out.Attached[i].Name = a
		fs = append(fs, func() (err error) { out.Attached[i].Doc, err = r.managedDoc(a); return })
	}
	return out, parallel(fs...)
}

// The IAM listings, through the SDK's paginators: every page is read.

func (r *iamReader) listRolePolicies(name *string) ([]string, error) {
	return collect(iam.NewListRolePoliciesPaginator(r.side.iam, &iam.ListRolePoliciesInput{RoleName: name}), r.ctx,
		func(o *iam.ListRolePoliciesOutput) []string { return o.PolicyNames })
}

func (r *iamReader) listUserPolicies(name *string) ([]string, error) {
	return collect(iam.NewListUserPoliciesPaginator(r.side.iam, &iam.ListUserPoliciesInput{UserName: name}), r.ctx,
		func(o *iam.ListUserPoliciesOutput) []string { return o.PolicyNames })
}

func (r *iamReader) listGroupPolicies(name *string) ([]string, error) {
	return collect(iam.NewListGroupPoliciesPaginator(r.side.iam, &iam.ListGroupPoliciesInput{GroupName: name}), r.ctx,
		func(o *iam.ListGroupPoliciesOutput) []string { return o.PolicyNames })
}

func (r *iamReader) listAttachedRolePolicies(name *string) ([]string, error) {
	return collect(iam.NewListAttachedRolePoliciesPaginator(r.side.iam, &iam.ListAttachedRolePoliciesInput{RoleName: name}), r.ctx,
		func(o *iam.ListAttachedRolePoliciesOutput) []string { return policyARNs(o.AttachedPolicies) })
}

func (r *iamReader) listAttachedUserPolicies(name *string) ([]string, error) {
	return collect(iam.NewListAttachedUserPoliciesPaginator(r.side.iam, &iam.ListAttachedUserPoliciesInput{UserName: name}), r.ctx,
		func(o *iam.ListAttachedUserPoliciesOutput) []string { return policyARNs(o.AttachedPolicies) })
}

func (r *iamReader) listAttachedGroupPolicies(name *string) ([]string, error) {
	return collect(iam.NewListAttachedGroupPoliciesPaginator(r.side.iam, &iam.ListAttachedGroupPoliciesInput{GroupName: name}), r.ctx,
		func(o *iam.ListAttachedGroupPoliciesOutput) []string { return policyARNs(o.AttachedPolicies) })
}

func (r *iamReader) listGroupsForUser(name *string) ([]string, error) {
	return collect(iam.NewListGroupsForUserPaginator(r.side.iam, &iam.ListGroupsForUserInput{UserName: name}), r.ctx,
		func(o *iam.ListGroupsForUserOutput) []string {
			var names []string
			for _, g := range o.Groups {
				names = append(names, aws.ToString(g.GroupName))
			}
			return names
		})
}

// pager is what the SDK's paginators have in common.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*iam.Options)) (O, error)
}

func collect[O any](p pager[O], ctx context.Context, items func(O) []string) ([]string, error) {
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

func policyARNs(attached []iamtypes.AttachedPolicy) []string {
	var out []string
	for _, a := range attached {
		out = append(out, aws.ToString(a.PolicyArn))
	}
	return out
}
