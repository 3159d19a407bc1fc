package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// awsManagedS3Key is the key S3 uses for aws:kms encryption that names none.
const awsManagedS3Key = "alias/aws/s3"

// Read gathers what the planner needs for a grant.
func Read(ctx context.Context, b Backend, g generate.Grant) (generate.Inputs, error) {
	var in generate.Inputs
	bucket, err := b.Bucket(ctx, g.Bucket)
	if err != nil {
		return in, err
	}
	if bucket == nil {
		return in, nil
	}
	in.Bucket = bucket
	if ref := keyRef(g.Key, bucket.Encryption); ref != "" {
		in.Key, in.KeyProblem, err = resolveKey(ctx, b, ref, bucket)
		if err != nil {
			return in, err
		}
	}
	// A grantee in the bucket's own account is a blocker the planner
	// reports; reading its IAM side would only add a confusing error.
	if g.Grantee.Kind != arns.Account && g.Grantee.Account != bucket.Account {
		in.Grantee, err = b.Grantee(ctx, g.Grantee)
		if errors.Is(err, ErrGranteeNotFound) {
			return in, fmt.Errorf("--grantee: %s does not exist in account %s", g.Grantee.ARN(), g.Grantee.Account)
		}
		if err != nil {
			return in, err
		}
	}
	return in, nil
}

// keyRef picks the key a grant is about: --key, else the one the bucket's
// default encryption names. aws:kms without a key means the AWS managed key.
func keyRef(flag string, enc *generate.Encryption) string {
	switch {
	case flag != "":
		return flag
	case enc == nil || enc.Algorithm == "AES256":
		return ""
	case enc.KMSMasterKeyID == "":
		return awsManagedS3Key
	}
	return enc.KMSMasterKeyID
}

func resolveKey(ctx context.Context, b Backend, ref string, bucket *generate.Bucket) (*generate.Key, *generate.Finding, error) {
	parsed, err := arns.ParseKeyRef(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("--key: %w", err)
	}
	key, err := b.Key(ctx, parsed, bucket.Account, bucket.Region)
	where := fmt.Sprintf("account %s, %s", bucket.Account, bucket.Region)
	if parsed.Region != "" {
		where = fmt.Sprintf("account %s, %s", parsed.Account, parsed.Region)
	}
	switch {
	case errors.Is(err, ErrAliasNotFound) && strings.HasPrefix(parsed.ID, "alias/aws/"):
		// alias/aws/* names are reserved for AWS managed keys, which exist
		// in every account once a service first uses them.
		return nil, &generate.Finding{Code: generate.CodeAWSManagedKey, Target: ref,
			Message: fmt.Sprintf("%s is an AWS managed key; its key policy cannot be changed, so no other account can ever use it", parsed.ID),
			Fix:     "create a customer managed key, set it as the bucket's default encryption by ARN, and re-encrypt existing objects with it"}, nil
	case errors.Is(err, ErrAliasNotFound):
		return nil, &generate.Finding{Code: generate.CodeAliasNotFound, Target: ref,
			Message: fmt.Sprintf("alias %s does not exist in %s (aliases resolve in the bucket owner's account and Region)", parsed.ID, where),
			Fix:     "name the key by its full key ARN, or create the alias in the bucket owner's account"}, nil
	case errors.Is(err, ErrKeyNotFound):
		return nil, &generate.Finding{Code: generate.CodeKeyNotFound, Target: ref,
			Message: fmt.Sprintf("key %s does not exist in %s", ref, where),
			Fix:     "check the key ARN; key IDs resolve in the bucket owner's account and Region"}, nil
	case err != nil:
		return nil, nil, err
	}
	return key, nil, nil
}
