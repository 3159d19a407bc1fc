package live

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

var _ apply.Namer = (*Backend)(nil)

// The listings behind "did you mean" hints are made only after a name was
// not found, and bounded: a hint is not worth more than a few pages.
const namePages = 5

// BucketNames implements apply.Namer with ListBuckets (s3:ListAllMyBuckets),
// which lists the owner's buckets in every Region.
func (b *Backend) BucketNames(ctx context.Context) []string {
	var out []string
	var token *string
	for range namePages {
		l, err := b.s3For(b.owner.cfg.Region).ListBuckets(ctx, &s3.ListBucketsInput{ContinuationToken: token})
		if err != nil {
			return out
		}
		for _, bk := range l.Buckets {
			out = append(out, aws.ToString(bk.Name))
		}
		if token = l.ContinuationToken; token == nil {
			break
		}
	}
	slices.Sort(out)
	return out
}

// AliasNames implements apply.Namer with ListAliases in the Region; only the
// owner's own aliases can be listed.
func (b *Backend) AliasNames(ctx context.Context, account, region string) []string {
	if account != b.owner.account {
		return nil
	}
	var out []string
	var marker *string
	for range namePages {
		l, err := b.kmsFor(region).ListAliases(ctx, &kms.ListAliasesInput{Marker: marker})
		if err != nil {
			return out
		}
		for _, a := range l.Aliases {
			if name := aws.ToString(a.AliasName); !strings.HasPrefix(name, "alias/aws/") {
				out = append(out, name)
			}
		}
		if !l.Truncated {
			break
		}
		marker = l.NextMarker
	}
	return out
}

// PrincipalNames implements apply.Namer with ListRoles or ListUsers, with
// the grantee credentials.
func (b *Backend) PrincipalNames(ctx context.Context, account string, kind arns.PrincipalKind) []string {
	side := b.granteeIn(account)
	if side == nil {
		return nil
	}
	var out []string
	var marker *string
	for range namePages {
		var truncated bool
		if kind == arns.User {
			l, err := side.iam.ListUsers(ctx, &iam.ListUsersInput{Marker: marker})
			if err != nil {
				return out
			}
			for _, u := range l.Users {
				out = append(out, strings.TrimPrefix(aws.ToString(u.Path), "/")+aws.ToString(u.UserName))
			}
			truncated, marker = l.IsTruncated, l.Marker
		} else {
			l, err := side.iam.ListRoles(ctx, &iam.ListRolesInput{Marker: marker})
			if err != nil {
				return out
			}
			for _, r := range l.Roles {
				out = append(out, strings.TrimPrefix(aws.ToString(r.Path), "/")+aws.ToString(r.RoleName))
			}
			truncated, marker = l.IsTruncated, l.Marker
		}
		if !truncated {
			break
		}
	}
	return out
}
