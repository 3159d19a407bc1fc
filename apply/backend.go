// Package apply is where kmsgrant meets the world: the Backend that reads
// and writes accounts (a state file or live AWS), the Plan built from what
// it reads, the plan's rendering as text and JSON, and carrying a plan out.
package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// Errors a Backend returns for things that do not exist. The key errors
// are the planner's, which reports them as blockers.
var (
	ErrKeyNotFound     = generate.ErrKeyNotFound
	ErrAliasNotFound   = generate.ErrAliasNotFound
	ErrGranteeNotFound = errors.New("grantee not found")
	// ErrStale is returned when a document changed after it was read.
	ErrStale = errors.New("changed since it was read")
)

// speculativeKey marks the context of reads made on a guess.
type speculativeKey struct{}

// Speculative marks reads made on a guess (a key looked up in the Region
// the bucket is likely in) that may be dropped: a backend leaves notes
// about them unsaid.
func Speculative(ctx context.Context) context.Context {
	return context.WithValue(ctx, speculativeKey{}, true)
}

// IsSpeculative reports whether ctx is of reads made on a guess.
func IsSpeculative(ctx context.Context) bool {
	v, _ := ctx.Value(speculativeKey{}).(bool)
	return v
}

// Restorer is implemented by backends that can put a target back to the
// Before document of a change (removing it when there was none): apply uses
// it to roll back the writes of a failed apply.
type Restorer interface {
	Restore(ctx context.Context, c generate.Change) error
}

// Transactional is implemented by backends whose writes take effect only
// at Flush, all together: when one fails, nothing was written.
type Transactional interface {
	WritesAtFlush() bool
}

// Verifier is implemented by backends whose reads may lag their writes
// (S3 bucket configuration is eventually consistent) or whose documents
// other writers may put over kmsgrant's just after it wrote them. Execute
// waits VerifyDelay after its writes before it reads them back, so that a
// write that was in flight when kmsgrant wrote is seen.
type Verifier interface {
	VerifyDelay() time.Duration
}

// GranteeNotFoundError says which role or user does not exist and where
// the backend looked. It matches ErrGranteeNotFound.
type GranteeNotFoundError struct {
	Grantee string
	Where   string
	// Near are the account's role or user names closest to the one
	// given, for a "did you mean" hint.
	Near []string
}

func (e *GranteeNotFoundError) Error() string {
	msg := fmt.Sprintf("%s does not exist (%s)", e.Grantee, e.Where)
	if len(e.Near) > 0 {
		msg += "; did you mean " + strings.Join(e.Near, " or ") + "?"
	}
	return msg
}

// Namer is implemented by backends that can list the names a mistyped one
// may have meant: the owner's buckets, the aliases of an account and
// Region, an account's roles or users (with their paths, as path/NAME).
// Listings that are refused answer nothing rather than an error: they only
// feed hints.
type Namer interface {
	BucketNames(ctx context.Context) []string
	AliasNames(ctx context.Context, account, region string) []string
	PrincipalNames(ctx context.Context, account string, kind arns.PrincipalKind) []string
}

// Is makes errors.Is(err, ErrGranteeNotFound) hold.
func (e *GranteeNotFoundError) Is(target error) bool { return target == ErrGranteeNotFound }

// Backend reads and writes the accounts one grant touches: the bucket owner's
// and the grantee's.
type Backend interface {
	// Bucket returns a bucket's configuration, or nil when it does not
	// exist.
	Bucket(ctx context.Context, name string) (*generate.Bucket, error)
	// Key resolves a key reference the way a caller in account and region
	// would (aliases and key IDs resolve in the caller's account) and
	// describes the key. It returns ErrKeyNotFound or ErrAliasNotFound
	// when the reference names nothing.
	Key(ctx context.Context, ref arns.KeyRef, account, region string) (*generate.Key, error)
	// Grantee returns a role or user with its policies; ErrGranteeNotFound
	// when it does not exist; nil and no error when its account's IAM
	// cannot be read, which makes the IAM change manual.
	Grantee(ctx context.Context, p arns.Principal) (*generate.Grantee, error)
	// Current returns the target document of a change as it is now, in
	// the canonical text plans show (Change.Before), "" when there is
	// none. Execute compares it with Before right before each write, so a
	// document someone changed since the plan is never overwritten.
	Current(ctx context.Context, c generate.Change) (string, error)
	// Write makes one change of a plan.
	Write(ctx context.Context, c generate.Change) error
	// Flush makes the writes so far durable. The state file writes itself
	// here, atomically; a live backend has nothing left to do.
	Flush(ctx context.Context) error
}
