package apply

import (
	"context"
	"errors"

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
		if err := resolveKey(ctx, b, &in, ref); err != nil {
			return in, err
		}
	}
	// A grantee in the bucket's own account is a blocker the planner
	// reports; reading its IAM side would only add a confusing error.
	if g.Grantee.Kind != arns.Account && g.Grantee.Account != bucket.Account {
		in.Grantee, err = b.Grantee(ctx, g.Grantee)
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

func resolveKey(ctx context.Context, b Backend, in *generate.Inputs, ref string) error {
	parsed, err := arns.ParseKeyRef(ref)
	if err != nil {
		return err
	}
	in.KeyRef = ref
	in.Key, err = b.Key(ctx, parsed, in.Bucket.Account, in.Bucket.Region)
	if errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrAliasNotFound) {
		in.KeyErr, err = err, nil
	}
	return err
}
