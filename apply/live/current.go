package live

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Current implements apply.Backend: it reads the change's target again,
// the same way the plan read it, so the two texts compare equal unless the
// document really changed.
func (b *Backend) Current(ctx context.Context, c generate.Change) (string, error) {
	switch c.Kind {
	case generate.KindBucketPolicy:
		bucket, region := b.bucketOf(c.Target)
		out, err := b.s3For(region).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket, ExpectedBucketOwner: aws.String(b.owner.account)})
		if isCode(err, "NoSuchBucketPolicy") {
			return "", nil
		}
		if err != nil {
			return "", callError(err, "reading the bucket policy of", c.Target, "s3:GetBucketPolicy", b.owner)
		}
		return prettyPolicy(aws.ToString(out.Policy), "bucket policy of "+c.Target)
	case generate.KindBucketEncryption:
		bucket, region := b.bucketOf(c.Target)
		out, err := b.s3For(region).GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket, ExpectedBucketOwner: aws.String(b.owner.account)})
		if isCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
			return "", nil
		}
		if err != nil {
			return "", callError(err, "reading the default encryption of", c.Target, "s3:GetEncryptionConfiguration", b.owner)
		}
		b.mu.Lock()
		b.encryption[bucket] = out.ServerSideEncryptionConfiguration
		b.mu.Unlock()
		return generate.EncryptionJSON(encryptionOf(out.ServerSideEncryptionConfiguration)), nil
	case generate.KindKeyPolicy:
		key, err := arns.ParseKeyARN(c.Target)
		if err != nil {
			return "", err
		}
		out, err := b.kmsFor(key.Region).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(c.Target), PolicyName: aws.String("default")})
		if err != nil {
			return "", callError(err, "reading the key policy of", c.Target, "kms:GetKeyPolicy", b.owner)
		}
		return prettyPolicy(aws.ToString(out.Policy), "key policy of "+c.Target)
	case generate.KindKeyGrants:
		grants, err := b.keyGrants(ctx, c.Target)
		return generate.GrantsJSON(grants), err
	case generate.KindIAMPolicy:
		side := b.granteeIn(c.Account)
		if side == nil || c.Grantee == nil {
			return c.Before, nil // nothing can be written there; Write says so
		}
		var doc *string
		var err error
		if c.Grantee.Kind == arns.Role {
			var out *iam.GetRolePolicyOutput
			if out, err = side.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(c.Grantee.Name), PolicyName: &c.PolicyName}); err == nil {
				doc = out.PolicyDocument
			}
		} else {
			var out *iam.GetUserPolicyOutput
			if out, err = side.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(c.Grantee.Name), PolicyName: &c.PolicyName}); err == nil {
				doc = out.PolicyDocument
			}
		}
		if isCode(err, "NoSuchEntity") {
			return "", nil
		}
		if err != nil {
			return "", callError(err, "reading inline policy "+c.PolicyName+" of", c.Target, "iam:Get"+titled(c.Grantee.Kind)+"Policy", side.id)
		}
		d, err := decodeDocument(aws.ToString(doc), "inline policy "+c.PolicyName+" of "+c.Target)
		return d.Pretty(), err
	}
	return c.Before, nil
}

func prettyPolicy(text, what string) (string, error) {
	var d *policy.Document
	d, err := parsePolicy(text, what)
	return d.Pretty(), err
}
