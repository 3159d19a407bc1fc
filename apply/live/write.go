package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// Write implements apply.Backend. A write AWS refuses because a principal
// it names does not exist yet (a role created moments ago: IAM is
// eventually consistent) is retried with backoff, as long as the target
// still holds what the change was planned on: a document someone changed in
// the meantime is never overwritten by a retry. Throttling is retried by the
// SDK's standard retryer.
func (b *Backend) Write(ctx context.Context, c generate.Change) error {
	return b.retryInvalidPrincipal(ctx, func(retry bool) error {
		if retry {
			current, err := b.Current(ctx, c)
			if err != nil {
				return err
			}
			if current != c.Before {
				return fmt.Errorf("%w: it changed while kmsgrant waited to write it again", apply.ErrStale)
			}
		}
		return b.write(ctx, c)
	})
}

func (b *Backend) write(ctx context.Context, c generate.Change) error {
	if c.Kind == generate.KindKeyGrants {
		return b.writeGrants(ctx, c)
	}
	if c.Action == generate.Delete {
		return b.remove(ctx, c)
	}
	switch c.Kind {
	case generate.KindBucketPolicy:
		bucket, region := b.bucketOf(c.Target)
		_, err := b.s3For(region).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
			Bucket: &bucket, Policy: aws.String(string(c.Policy.Compact())), ExpectedBucketOwner: aws.String(b.owner.account)})
		if err != nil {
			return callError(err, "writing the bucket policy of", c.Target, "s3:PutBucketPolicy", b.owner)
		}
	case generate.KindBucketEncryption:
		bucket, region := b.bucketOf(c.Target)
		config, err := b.encryptionConfig(ctx, bucket, region, c)
		if err != nil {
			return err
		}
		_, err = b.s3For(region).PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: &bucket, ExpectedBucketOwner: aws.String(b.owner.account), ServerSideEncryptionConfiguration: config,
		})
		if err != nil {
			return callError(err, "writing the default encryption of", c.Target, "s3:PutEncryptionConfiguration", b.owner)
		}
	case generate.KindKeyPolicy:
		key, err := arns.ParseKeyARN(c.Target)
		if err != nil {
			return err
		}
		// BypassPolicyLockoutSafetyCheck stays false: KMS then refuses a
		// policy that would lock the caller out of the key.
		_, err = b.kmsFor(key.Region).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{
			KeyId: aws.String(c.Target), PolicyName: aws.String("default"), Policy: aws.String(string(c.Policy.Compact()))})
		if err != nil {
			return callError(err, "writing the key policy of", c.Target, "kms:PutKeyPolicy", b.owner)
		}
	case generate.KindIAMPolicy:
		side := b.granteeIn(c.Account)
		if side == nil || c.Grantee == nil {
			return fmt.Errorf("writing inline policy %s of %s needs credentials for account %s (--grantee-profile)", c.PolicyName, c.Target, c.Account)
		}
		doc := aws.String(string(c.Policy.Compact()))
		var err error
		if c.Grantee.Kind == arns.Role {
			_, err = side.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(c.Grantee.Name), PolicyName: &c.PolicyName, PolicyDocument: doc})
		} else {
			_, err = side.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(c.Grantee.Name), PolicyName: &c.PolicyName, PolicyDocument: doc})
		}
		if err != nil {
			return callError(err, "writing inline policy "+c.PolicyName+" of", c.Target, "iam:Put"+titled(c.Grantee.Kind)+"Policy", side.id)
		}
	default:
		return fmt.Errorf("unknown change kind %q", c.Kind)
	}
	return nil
}

// Restore implements apply.Restorer: a rollback puts the target back to
// the change's Before, deleting a bucket or inline policy that did not exist.
func (b *Backend) Restore(ctx context.Context, c generate.Change) error {
	back, err := c.Reversed()
	if err != nil {
		return err
	}
	return b.write(ctx, back)
}

// remove deletes a bucket policy or an inline policy.
func (b *Backend) remove(ctx context.Context, c generate.Change) error {
	switch c.Kind {
	case generate.KindBucketPolicy:
		bucket, region := b.bucketOf(c.Target)
		_, err := b.s3For(region).DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &bucket, ExpectedBucketOwner: aws.String(b.owner.account)})
		if err != nil {
			return callError(err, "deleting the bucket policy of", c.Target, "s3:DeleteBucketPolicy", b.owner)
		}
	case generate.KindIAMPolicy:
		side := b.granteeIn(c.Account)
		if side == nil || c.Grantee == nil {
			return fmt.Errorf("deleting inline policy %s of %s needs credentials for account %s", c.PolicyName, c.Target, c.Account)
		}
		var err error
		if c.Grantee.Kind == arns.Role {
			_, err = side.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(c.Grantee.Name), PolicyName: &c.PolicyName})
		} else {
			_, err = side.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(c.Grantee.Name), PolicyName: &c.PolicyName})
		}
		if err != nil {
			return callError(err, "deleting inline policy "+c.PolicyName+" of", c.Target, "iam:Delete"+titled(c.Grantee.Kind)+"Policy", side.id)
		}
	default:
		return fmt.Errorf("restoring %s of %s: it had no document before, and kmsgrant cannot remove one", c.Kind, c.Target)
	}
	return nil
}

// encryptionConfig is the bucket's encryption configuration as read, with
// only the default rule's key changed: whatever else the bucket sets (such as
// blocked encryption types) is written back as it was.
func (b *Backend) encryptionConfig(ctx context.Context, bucket, region string, c generate.Change) (*s3types.ServerSideEncryptionConfiguration, error) {
	b.mu.Lock()
	read := b.encryption[bucket]
	b.mu.Unlock()
	if read == nil {
		if _, err := b.Current(ctx, c); err != nil {
			return nil, err
		}
		b.mu.Lock()
		read = b.encryption[bucket]
		b.mu.Unlock()
	}
	if read == nil {
		return nil, fmt.Errorf("writing the default encryption of %s: the bucket has none to change", c.Target)
	}
	out := &s3types.ServerSideEncryptionConfiguration{Rules: append([]s3types.ServerSideEncryptionRule(nil), read.Rules...)}
	for i, r := range out.Rules {
		if r.ApplyServerSideEncryptionByDefault != nil {
			def := *r.ApplyServerSideEncryptionByDefault
			def.KMSMasterKeyID = aws.String(c.Encryption.KMSMasterKeyID)
			out.Rules[i].ApplyServerSideEncryptionByDefault = &def
			return out, nil
		}
	}
	return nil, fmt.Errorf("writing the default encryption of %s: the bucket has no default rule to change", c.Target)
}

// bucketOf returns the bucket name of a bucket ARN and the Region read for
// it.
func (b *Backend) bucketOf(bucketARN string) (name, region string) {
	name = bucketARN[strings.LastIndex(bucketARN, ":")+1:]
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.regions[name]; ok {
		return name, r
	}
	return name, b.owner.cfg.Region
}

// isInvalidPrincipal reports AWS's answer to a policy naming a principal it
// cannot find (yet): S3's MalformedPolicy "Invalid principal in policy",
// KMS's MalformedPolicyDocumentException.
func isInvalidPrincipal(err error) bool {
	var api smithy.APIError
	return isCode(err, "MalformedPolicy", "MalformedPolicyDocumentException", "MalformedPolicyDocument") &&
		errors.As(err, &api) && strings.Contains(strings.ToLower(api.ErrorMessage()), "principal")
}

// retryInvalidPrincipal calls f until it answers anything but "invalid
// principal", for up to Options.InvalidPrincipalRetry; retry is false on the
// first call.
func (b *Backend) retryInvalidPrincipal(ctx context.Context, f func(retry bool) error) error {
	deadline := time.Now().Add(b.opts.InvalidPrincipalRetry)
	wait := min(500*time.Millisecond, b.opts.InvalidPrincipalRetry/8)
	for retry := false; ; retry = true {
		err := f(retry)
		if err == nil || !isInvalidPrincipal(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 8*time.Second)
	}
}

// keyGrants lists a key's grants with the owner's credentials.
func (b *Backend) keyGrants(ctx context.Context, keyARN string) ([]generate.KMSGrant, error) {
	key, err := arns.ParseKeyARN(keyARN)
	if err != nil {
		return nil, err
	}
	grants, err := listGrants(ctx, b.kmsFor(key.Region), keyARN)
	if err != nil {
		return nil, callError(err, "listing the grants of", keyARN, "kms:ListGrants", b.owner)
	}
	return grants, nil
}

// writeGrants makes the grants change c creates and revokes those it
// revokes (generate.GrantsDelta), creating first, so that a grant replaced
// by one with more operations never leaves a moment without either. Other
// grants, kmsgrant's that another run made since the plan included, are
// never touched. CreateGrant of a grant that has a name and is there
// already answers that grant rather than make another ("Name", CreateGrant,
// AWS KMS API Reference), so the grants are listed only for the IDs of
// those to revoke; a grant gone already is not an error.
func (b *Backend) writeGrants(ctx context.Context, c generate.Change) error {
	key, err := arns.ParseKeyARN(c.Target)
	if err != nil {
		return err
	}
	create, revoke, err := generate.GrantsDelta(c.Before, c.After)
	if err != nil {
		return err
	}
	client := b.kmsFor(key.Region)
	for _, g := range create {
		in := &kms.CreateGrantInput{KeyId: aws.String(c.Target), GranteePrincipal: aws.String(g.GranteePrincipal), Name: aws.String(g.Name)}
		for _, op := range g.Operations {
			in.Operations = append(in.Operations, kmstypes.GrantOperation(op))
		}
		if _, err := client.CreateGrant(ctx, in); err != nil {
			return callError(err, "creating grant "+g.Name+" for "+g.GranteePrincipal+" on", c.Target, "kms:CreateGrant", b.owner)
		}
	}
	if len(revoke) == 0 {
		return nil
	}
	now, err := b.keyGrants(ctx, c.Target)
	if err != nil {
		return err
	}
	revoked := generate.GrantSetOf(revoke)
	for _, g := range now {
		if !generate.IsOwnGrant(g) || !revoked.Has(g) {
			continue
		}
		_, err := client.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: aws.String(c.Target), GrantId: aws.String(g.ID)})
		if isCode(err, "NotFoundException") {
			continue // revoked by another run already
		}
		if err != nil {
			return callError(err, "revoking grant "+g.Name+" of "+g.GranteePrincipal+" on", c.Target, "kms:RevokeGrant", b.owner)
		}
	}
	return nil
}
