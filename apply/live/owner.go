package live

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// bucketRegion turns GetBucketLocation's answer into a Region: "" is
// us-east-1 and "EU" the legacy name of eu-west-1.
func bucketRegion(constraint string) string {
	switch constraint {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return constraint
}

// Bucket implements apply.Backend. Every call carries ExpectedBucketOwner,
// so a mistyped name that belongs to someone else's account is never read.
//
// The bucket's Region decides where its configuration is read, but asking
// for the Region first would cost a round trip: the configuration is read
// from the Region of the credentials at the same time, and read again only
// when the bucket turns out to live elsewhere.
func (b *Backend) Bucket(ctx context.Context, name string) (*generate.Bucket, error) {
	guess := b.owner.cfg.Region
	var region string
	var locErr error
	var guessed *generate.Bucket
	var guessErr error
	_ = parallel(
		func() error {
			loc, err := b.s3For(guess).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &name, ExpectedBucketOwner: aws.String(b.owner.account)})
			if err == nil {
				region = bucketRegion(string(loc.LocationConstraint))
			}
			locErr = err
			return nil
		},
		func() error {
			guessed, guessErr = b.bucketConfig(ctx, name, guess, false)
			return nil
		},
	)
	switch {
	case isCode(locErr, "NoSuchBucket"):
		return nil, nil
	case isAccessDenied(locErr):
		return nil, fmt.Errorf("reading the Region of bucket %s needs s3:GetBucketLocation for %s, and the bucket must belong to its account %s: %w",
			name, b.owner.name(), b.owner.account, locErr)
	case locErr != nil:
		return nil, callError(locErr, "reading the Region of bucket", name, "s3:GetBucketLocation", b.owner)
	}
	b.mu.Lock()
	b.regions[name] = region
	b.mu.Unlock()
	if region != guess {
		return b.bucketConfig(ctx, name, region, true)
	}
	if guessErr != nil || b.opts.CheckObjects <= 0 {
		return guessed, guessErr
	}
	// Objects are looked at only where the bucket is known to be: one
	// HeadObject each, not two.
	var err error
	guessed.Objects, err = b.objects(ctx, b.s3For(region), name, arns.BucketARN(arns.PartitionOf(region), name))
	return guessed, err
}

// bucketConfig reads a bucket's policy, default encryption, ownership
// controls and (with CheckObjects) some objects, all at once, from region.
func (b *Backend) bucketConfig(ctx context.Context, name, region string, withObjects bool) (*generate.Bucket, error) {
	arn := arns.BucketARN(arns.PartitionOf(region), name)
	owner := aws.String(b.owner.account)
	client := b.s3For(region)
	out := &generate.Bucket{Name: name, Account: b.owner.account, Region: region}
	err := parallel(
		func() error {
			p, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &name, ExpectedBucketOwner: owner})
			switch {
			case isCode(err, "NoSuchBucketPolicy"):
				return nil
			case err != nil:
				return callError(err, "reading the bucket policy of", arn, "s3:GetBucketPolicy", b.owner)
			}
			out.Policy, err = parsePolicy(aws.ToString(p.Policy), "bucket policy of "+arn)
			return err
		},
		func() error {
			e, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &name, ExpectedBucketOwner: owner})
			switch {
			case isCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
				return nil
			case err != nil:
				return callError(err, "reading the default encryption of", arn, "s3:GetEncryptionConfiguration", b.owner)
			}
			out.Encryption = encryptionOf(e.ServerSideEncryptionConfiguration)
			b.mu.Lock()
			b.encryption[name] = e.ServerSideEncryptionConfiguration
			b.mu.Unlock()
			return nil
		},
		func() error {
			o, err := client.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &name, ExpectedBucketOwner: owner})
			switch {
			case isCode(err, "OwnershipControlsNotFoundError"):
				return nil
			case err != nil:
				return callError(err, "reading the object ownership of", arn, "s3:GetBucketOwnershipControls", b.owner)
			}
			if o.OwnershipControls != nil && len(o.OwnershipControls.Rules) > 0 {
				out.Ownership = string(o.OwnershipControls.Rules[0].ObjectOwnership)
			}
			return nil
		},
		func() error {
			if !withObjects {
				return nil
			}
			var err error
			out.Objects, err = b.objects(ctx, client, name, arn)
			return err
		},
	)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func encryptionOf(c *s3types.ServerSideEncryptionConfiguration) *generate.Encryption {
	if c == nil || len(c.Rules) == 0 || c.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return nil
	}
	r := c.Rules[0]
	return &generate.Encryption{
		Algorithm:        string(r.ApplyServerSideEncryptionByDefault.SSEAlgorithm),
		KMSMasterKeyID:   aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID),
		BucketKeyEnabled: aws.ToBool(r.BucketKeyEnabled),
	}
}

// objects looks at up to CheckObjects objects under the prefix, to find
// those encrypted otherwise than the grant assumes.
func (b *Backend) objects(ctx context.Context, client S3API, bucket, arn string) (map[string]generate.Object, error) {
	n := b.opts.CheckObjects
	if n <= 0 {
		return nil, nil
	}
	owner := aws.String(b.owner.account)
	var list *s3.ListObjectsV2Output
	var bucketOwnerID string
	err := parallel(
		func() (err error) {
			list, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(b.opts.Prefix),
				MaxKeys: aws.Int32(int32(min(n, 1000))), ExpectedBucketOwner: owner, FetchOwner: aws.Bool(true)})
			if err != nil {
				return callError(err, "listing the objects of", arn, "s3:ListBucket", b.owner)
			}
			return nil
		},
		func() error {
			// Objects name their owner by canonical user ID; the bucket
			// owner's is on the bucket's ACL.
			acl, err := client.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &bucket, ExpectedBucketOwner: owner})
			if err != nil {
				return callError(err, "reading the owner of", arn, "s3:GetBucketAcl", b.owner)
			}
			if acl.Owner != nil {
				bucketOwnerID = aws.ToString(acl.Owner.ID)
			}
			return nil
		},
	)
	if err != nil {
		return nil, err
	}
	out := map[string]generate.Object{}
	var fs []func() error
	results := make([]generate.Object, len(list.Contents))
	unreadable := make([]bool, len(list.Contents))
	// At most headConcurrency HeadObject calls at once: more would invite
	// SlowDown answers and drain the SDK's retry quota.
	sem := make(chan struct{}, headConcurrency)
	for i, o := range list.Contents {
		key := aws.ToString(o.Key)
		if o.Owner != nil {
			results[i].Owner = aws.ToString(o.Owner.ID)
		}
		fs = append(fs, func() error {
			sem <- struct{}{}
			defer func() { <-sem }()
			h, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ExpectedBucketOwner: owner})
			if err != nil {
				// An object kmsgrant may not read (another account's,
				// SSE-C) is what --check-objects is for: count it,
				// do not fail the plan.
				if s := httpStatus(err); s == 403 || s == 400 {
					unreadable[i] = true
					return nil
				}
				return callError(err, "reading the encryption of", arn+"/"+key, "s3:GetObject", b.owner)
			}
			results[i].Algorithm = string(h.ServerSideEncryption)
			results[i].KMSKeyID = aws.ToString(h.SSEKMSKeyId)
			return nil
		})
	}
	if err := parallel(fs...); err != nil {
		return nil, err
	}
	var skipped []string
	for i, o := range list.Contents {
		if unreadable[i] {
			skipped = append(skipped, aws.ToString(o.Key))
			continue
		}
		switch results[i].Owner {
		case "":
		case bucketOwnerID:
			results[i].Owner = b.owner.account
		default:
			// Another account, known only by its canonical ID.
			results[i].Owner = "canonical user " + results[i].Owner
		}
		out[aws.ToString(o.Key)] = results[i]
	}
	if len(skipped) > 0 {
		b.note(fmt.Sprintf("%d object(s) under the prefix could not be inspected (HeadObject refused: another account's objects, or SSE-C): %s",
			len(skipped), strings.Join(skipped[:min(3, len(skipped))], ", ")))
	}
	if o, ok := out[b.opts.Prefix]; ok && b.opts.VersionID != "" {
		v, err := b.objectVersion(ctx, client, bucket, arn)
		if err != nil {
			return nil, err
		}
		if v != nil {
			o.Versions = map[string]generate.Object{b.opts.VersionID: *v}
			out[b.opts.Prefix] = o
		}
	}
	return out, nil
}

// objectVersion reads the encryption of one version of the object Prefix
// names; nil when there is no such version, or it may not be read.
func (b *Backend) objectVersion(ctx context.Context, client S3API, bucket, arn string) (*generate.Object, error) {
	h, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(b.opts.Prefix), VersionId: aws.String(b.opts.VersionID),
		ExpectedBucketOwner: aws.String(b.owner.account)})
	if s := httpStatus(err); s == 403 || s == 404 || s == 400 {
		b.note(fmt.Sprintf("version %s of %s/%s could not be inspected (%v)", b.opts.VersionID, arn, b.opts.Prefix, err))
		return nil, nil
	}
	if err != nil {
		return nil, callError(err, "reading the encryption of", arn+"/"+b.opts.Prefix, "s3:GetObjectVersion", b.owner)
	}
	return &generate.Object{Algorithm: string(h.ServerSideEncryption), KMSKeyID: aws.ToString(h.SSEKMSKeyId)}, nil
}

// headConcurrency bounds the HeadObject calls of --check-objects.
const headConcurrency = 16

// Key implements apply.Backend. DescribeKey takes all four forms and
// resolves aliases and key IDs in the owner's account and the Region given.
func (b *Backend) Key(ctx context.Context, ref arns.KeyRef, account, region string) (*generate.Key, error) {
	if ref.Region != "" {
		region = ref.Region
	}
	id := keyRefString(ref, region)
	client := b.kmsFor(region)
	out := &generate.Key{}
	// A key named by its ARN needs nothing from DescribeKey to be read:
	// its policy, grants and aliases are read at the same time, one
	// round trip in all.
	var details func() error
	if ref.Form == arns.KeyARN {
		out.ARN, out.Account, out.Region = id, ref.Account, ref.Region
		var detailsErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			detailsErr = b.keyDetails(ctx, client, out)
		}()
		details = func() error { <-done; return detailsErr }
	}
	d, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
	switch {
	case isCode(err, "NotFoundException") && (ref.Form == arns.AliasName || ref.Form == arns.AliasARN):
		return nil, apply.ErrAliasNotFound
	case isCode(err, "NotFoundException"):
		if details != nil {
			_ = details()
		}
		return nil, apply.ErrKeyNotFound
	case err != nil:
		if details != nil {
			_ = details()
		}
		named := id
		if ref.Form == arns.AliasName || ref.Form == arns.KeyID {
			// Name the key the way the caller's account resolves it.
			named = fmt.Sprintf("%s (in account %s, %s)", id, account, region)
		}
		return nil, callError(err, "describing key", named, "kms:DescribeKey", b.owner)
	}
	m := d.KeyMetadata
	keyARN := aws.ToString(m.Arn)
	parsed, err := arns.ParseKeyARN(keyARN)
	if err != nil {
		return nil, fmt.Errorf("DescribeKey answered an unexpected key ARN: %w", err)
	}
	out.Manager, out.State = string(m.KeyManager), string(m.KeyState)
	if details == nil || keyARN != out.ARN {
		if details != nil {
			// What was read for another ARN is dropped, once read.
			_ = details()
			out.Policy, out.Grants, out.GrantsUnread, out.Aliases = nil, nil, false, nil
		}
		out.ARN, out.Account, out.Region = keyARN, parsed.Account, parsed.Region
		details = func() error { return b.keyDetails(ctx, client, out) }
	}
	if err := details(); err != nil {
		return nil, err
	}
	return out, nil
}

// keyDetails reads what the key ARN in k names, all at once: its policy,
// its grants and its aliases.
func (b *Backend) keyDetails(ctx context.Context, client KMSAPI, k *generate.Key) error {
	keyARN := k.ARN
	id := keyARN[strings.LastIndex(keyARN, "/")+1:]
	return parallel(
		func() error {
			p, err := client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &keyARN, PolicyName: aws.String("default")})
			if err != nil {
				return callError(err, "reading the key policy of", keyARN, "kms:GetKeyPolicy", b.owner)
			}
			k.Policy, err = parsePolicy(aws.ToString(p.Policy), "key policy of "+keyARN)
			return err
		},
		func() error { return b.readGrants(ctx, client, k) },
		func() error {
			if k.Account != b.owner.account {
				return nil // ListAliases lists the caller's own aliases only
			}
			var marker *string
			for {
				l, err := client.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(id), Marker: marker})
				if err != nil {
					return callError(err, "listing the aliases of", keyARN, "kms:ListAliases", b.owner)
				}
				for _, a := range l.Aliases {
					k.Aliases = append(k.Aliases, aws.ToString(a.AliasName))
				}
				if !l.Truncated {
					return nil
				}
				marker = l.NextMarker
			}
		},
	)
}

// readGrants lists a key's grants, every page. Credentials that may not
// list them leave the grants unread, said in a note and by explain: a grant
// could allow what the key policy does not, so kmsgrant never takes their
// absence for "no grant".
func (b *Backend) readGrants(ctx context.Context, client KMSAPI, k *generate.Key) error {
	grants, err := listGrants(ctx, client, k.ARN)
	if isAccessDenied(err) {
		k.Grants, k.GrantsUnread = nil, true
		if !apply.IsSpeculative(ctx) {
			b.note(fmt.Sprintf("%s may not list the grants of %s (kms:ListGrants), so grants are not counted", b.owner.name(), k.ARN))
		}
		return nil
	}
	if err != nil {
		return callError(err, "listing the grants of", k.ARN, "kms:ListGrants", b.owner)
	}
	k.Grants = grants
	return nil
}

// listGrants lists a key's grants, every page.
func listGrants(ctx context.Context, client KMSAPI, keyARN string) ([]generate.KMSGrant, error) {
	var grants []generate.KMSGrant
	var marker *string
	for {
		out, err := client.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String(keyARN), Marker: marker})
		if err != nil {
			return nil, err
		}
		for _, g := range out.Grants {
			kg := generate.KMSGrant{ID: aws.ToString(g.GrantId), Name: aws.ToString(g.Name), GranteePrincipal: aws.ToString(g.GranteePrincipal)}
			for _, op := range g.Operations {
				kg.Operations = append(kg.Operations, string(op))
			}
			if c := g.Constraints; c != nil {
				kg.EncryptionContextEquals, kg.EncryptionContextSubset = c.EncryptionContextEquals, c.EncryptionContextSubset
			}
			grants = append(grants, kg)
		}
		if !out.Truncated {
			return grants, nil
		}
		marker = out.NextMarker
	}
}

// keyRefString writes a parsed key reference back in the form KMS takes.
func keyRefString(ref arns.KeyRef, region string) string {
	switch ref.Form {
	case arns.KeyARN:
		return arns.KeyARNOf(region, ref.Account, ref.ID)
	case arns.AliasARN:
		return fmt.Sprintf("arn:%s:kms:%s:%s:%s", ref.Partition, region, ref.Account, ref.ID)
	}
	return ref.ID
}

func parsePolicy(text, what string) (*policy.Document, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	d, err := policy.Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("the %s is not a policy kmsgrant can read: %w", what, err)
	}
	return d, nil
}
