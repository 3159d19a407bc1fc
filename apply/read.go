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

// Read gathers what the planner needs for a grant. The grantee's IAM side
// is read at the same time as the owner's bucket and key: a live plan's time
// is round trips, and the two chains do not depend on each other.
func Read(ctx context.Context, b Backend, g generate.Grant) (generate.Inputs, error) {
	var in generate.Inputs
	var grantee *generate.Grantee
	var granteeErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if g.Grantee.Kind != arns.Account {
			grantee, granteeErr = b.Grantee(ctx, g.Grantee)
		}
	}()
	err := readOwnerSide(ctx, b, g, &in)
	<-done
	if n, ok := b.(Namer); ok && err == nil && in.Bucket == nil {
		in.NearBuckets = generate.Closest(g.Bucket, n.BucketNames(ctx))
	}
	if err != nil || in.Bucket == nil {
		return in, err
	}
	granteeErr = withNearNames(ctx, b, g.Grantee, granteeErr)
	switch {
	case g.Grantee.Kind == arns.Account:
	case g.Grantee.Account == in.Bucket.Account:
		// A grantee in the bucket's own account is a blocker the planner
		// reports, so an error reading its IAM side would only confuse;
		// explain uses the IAM side when it could be read.
		if granteeErr == nil {
			in.Grantee = grantee
		}
	case granteeErr != nil:
		return in, granteeErr
	default:
		in.Grantee = grantee
	}
	return in, nil
}

// readOwnerSide reads the bucket, and the key it names (or --key). A key
// named by ARN needs nothing from the bucket to be found, so it is read at
// the same time.
func readOwnerSide(ctx context.Context, b Backend, g generate.Grant, in *generate.Inputs) error {
	ref, err := arns.ParseKeyRef(g.Key)
	if g.Key == "" || err != nil || ref.Region == "" {
		// A key named by alias or ID resolves in the bucket's account
		// and Region: where the backend can guess them, it is looked up
		// beside the bucket, and again only when the guess was wrong.
		var guessed *guessedKey
		if gs, ok := b.(Guesser); ok && g.Key != "" && err == nil {
			guessed = guessKey(ctx, b, gs, g.Key)
		}
		bucket, err := b.Bucket(ctx, g.Bucket)
		if guessed != nil {
			<-guessed.done
		}
		if err != nil || bucket == nil {
			return err
		}
		in.Bucket = bucket
		if ref := keyRef(g.Key, bucket.Encryption); ref != "" {
			if err := checkKeyAccount(ref, bucket.Account); err != nil {
				return err
			}
			if guessed != nil && guessed.account == bucket.Account && guessed.region == bucket.Region {
				in.Key, in.KeyRef, in.KeyErr = guessed.in.Key, guessed.in.KeyRef, guessed.in.KeyErr
				if parsed, err := arns.ParseKeyRef(ref); err == nil {
					nearKeys(ctx, b, in, parsed, bucket.Account, bucket.Region)
				}
				return guessed.err
			}
			return resolveKey(ctx, b, in, ref, bucket.Account, bucket.Region)
		}
		return nil
	}
	var key generate.Inputs
	var keyErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The ARN gives account and Region; the bucket's are not needed.
		keyErr = resolveKey(ctx, b, &key, g.Key, ref.Account, ref.Region)
	}()
	bucket, err := b.Bucket(ctx, g.Bucket)
	<-done
	if err != nil || bucket == nil {
		return err
	}
	in.Bucket = bucket
	// Whatever the key read found, a key of another account is refused
	// the same way by every backend.
	if err := checkKeyAccount(g.Key, bucket.Account); err != nil {
		return err
	}
	in.Key, in.KeyRef, in.KeyErr = key.Key, key.KeyRef, key.KeyErr
	return keyErr
}

// Guesser is implemented by backends that can guess, before a bucket is
// read, the account and Region it is in: live AWS, those of the owner
// credentials, where most buckets are.
type Guesser interface {
	GuessOwner() (account, region string)
}

// guessedKey is a key looked up in a guessed account and Region.
type guessedKey struct {
	account, region string
	in              generate.Inputs
	err             error
	done            chan struct{}
}

// guessKey starts looking ref up where the backend guesses the bucket is.
// It returns nil when the backend has no guess.
func guessKey(ctx context.Context, b Backend, gs Guesser, ref string) *guessedKey {
	k := &guessedKey{done: make(chan struct{})}
	if k.account, k.region = gs.GuessOwner(); k.account == "" || k.region == "" {
		return nil
	}
	go func() {
		defer close(k.done)
		// Nothing is said of a guess that may be dropped, and no names
		// are listed for a hint until it is taken.
		k.err = resolveKey(Speculative(ctx), b, &k.in, ref, k.account, k.region)
	}()
	return k
}

// checkKeyAccount refuses a key ARN of another account than the bucket
// owner's: KMS reads and writes a key policy only with credentials of the
// key's own account, which a plan does not hold, so a state file must not
// plan what live AWS cannot read. Key IDs and alias names resolve in the
// owner's account.
func checkKeyAccount(ref, owner string) error {
	parsed, err := arns.ParseKeyRef(ref)
	if err != nil || parsed.Account == "" || parsed.Account == owner {
		return nil
	}
	return fmt.Errorf("key %s is in account %s, not the bucket owner's %s: its key policy can only be read and written with credentials of account %s",
		ref, parsed.Account, owner, parsed.Account)
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

// resolveKey resolves ref as a caller in account and region would, into in.
func resolveKey(ctx context.Context, b Backend, in *generate.Inputs, ref, account, region string) error {
	parsed, err := arns.ParseKeyRef(ref)
	if err != nil {
		return err
	}
	in.KeyRef = ref
	if (parsed.Form == arns.AliasName || parsed.Form == arns.AliasARN) && strings.HasPrefix(parsed.ID, "alias/aws/") {
		in.KeyErr = generate.ErrAWSManagedAlias
		return nil
	}
	in.Key, err = b.Key(ctx, parsed, account, region)
	if errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrAliasNotFound) {
		in.KeyErr, err = err, nil
	}
	if !IsSpeculative(ctx) {
		nearKeys(ctx, b, in, parsed, account, region)
	}
	return err
}

// nearKeys adds to an alias that names nothing the closest alias names of
// the account and Region it was looked up in, for a "did you mean" hint.
func nearKeys(ctx context.Context, b Backend, in *generate.Inputs, parsed arns.KeyRef, account, region string) {
	n, ok := b.(Namer)
	if !ok || !errors.Is(in.KeyErr, ErrAliasNotFound) {
		return
	}
	if parsed.Account != "" {
		account, region = parsed.Account, parsed.Region
	}
	in.NearKeys = generate.Closest(parsed.ID, n.AliasNames(ctx, account, region))
}

// withNearNames adds to a grantee that does not exist the closest names of
// its account's roles or users.
func withNearNames(ctx context.Context, b Backend, p arns.Principal, err error) error {
	var nf *GranteeNotFoundError
	n, ok := b.(Namer)
	if !ok || !errors.As(err, &nf) {
		return err
	}
	given := strings.TrimPrefix(p.Path, "/") + p.Name
	names := n.PrincipalNames(ctx, p.Account, p.Kind)
	// The same name under another path first, then names spelled alike.
	var close []string
	for _, name := range names {
		if name != given && (name == p.Name || strings.HasSuffix(name, "/"+p.Name)) {
			close = append(close, name)
		}
	}
	if len(close) == 0 {
		close = generate.Closest(given, names)
	}
	var near []string
	for _, name := range close {
		near = append(near, fmt.Sprintf("arn:%s:iam::%s:%s/%s", p.Partition, p.Account, p.Kind, name))
	}
	nf.Near = near
	return err
}

// ResolveSession turns a role named by a session ARN (as AccessDenied
// messages name callers) into the role with its path, which the session ARN
// does not carry: the grantee's account tells it. Other principals come back
// as they are. Without access to that account's IAM, the path cannot be
// known, and guessing it would write a principal AWS refuses.
func ResolveSession(ctx context.Context, b Backend, p arns.Principal) (arns.Principal, error) {
	if p.Session == "" || p.Path != "" {
		return p, nil
	}
	g, err := b.Grantee(ctx, p)
	if err != nil {
		return p, withNearNames(ctx, b, p, err)
	}
	if g == nil {
		return p, fmt.Errorf("%s is a session of role %s in account %s, whose path kmsgrant cannot read without access to IAM there: give the role's ARN (arn:%s:iam::%s:role/PATH/%s) instead",
			p.SessionARN(), p.Name, p.Account, p.Partition, p.Account, p.Name)
	}
	p.Path = g.Principal.Path
	return p, nil
}
