package apply

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// Labelled is a grant with the words that point a person to it in
// messages ("grants.yaml:12"); "" for a grant given by flags.
type Labelled struct {
	Grant generate.Grant
	Label string
}

// DefaultReadConcurrency bounds the buckets, keys and grantees read at
// once: enough that a data lake's reads take a few round trips, few enough
// that AWS's request rates are met with the SDK's retries rather than
// errors.
const DefaultReadConcurrency = 32

// PlanBatch reads what a batch of grants needs and plans them as one (see
// generate.Batch). Every bucket, key and grantee is read once however many
// grants name it, and all grants are read at once, the distinct reads a
// bounded number at a time. A batch of one grant is read and planned
// exactly as NewPlan does.
func PlanBatch(ctx context.Context, b Backend, grants []Labelled, op generate.Op, opts ...BatchOption) (*Plan, error) {
	o := batchOptions{reads: DefaultReadConcurrency}
	for _, opt := range opts {
		opt(&o)
	}
	if len(grants) != 1 || o.prune {
		b = newReadOnce(b, o.reads)
	}
	items := make([]generate.BatchItem, len(grants))
	errs := make([]error, len(grants))
	var wg sync.WaitGroup
	for i, g := range grants {
		items[i] = generate.BatchItem{Grant: g.Grant, Label: g.Label}
		wg.Go(func() {
			items[i].Inputs, errs[i] = Read(ctx, b, g.Grant)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			if grants[i].Label == "" {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", grants[i].Label, err)
		}
	}
	if o.prune {
		pruned, err := prunes(ctx, b, items)
		if err != nil {
			return nil, err
		}
		// Taken away first: a grant of the file that keeps part of
		// what is taken away (fewer access levels) puts that back.
		items = append(pruned, items...)
	}
	res, err := generate.Batch(items, op)
	if err != nil {
		return nil, err
	}
	return FromResult(res), nil
}

// BatchOption changes how PlanBatch plans.
type BatchOption func(*batchOptions)

type batchOptions struct {
	prune bool
	reads int
}

// ReadConcurrency sets how many reads a batch makes at once (default
// DefaultReadConcurrency); less than 1 is 1.
func ReadConcurrency(n int) BatchOption { return func(o *batchOptions) { o.reads = max(n, 1) } }

// Prune makes the batch the whole set of grants kmsgrant manages for the
// buckets it names: every grant kmsgrant wrote earlier into their bucket
// policies that the batch does not hold (a principal on a prefix, or an
// access level of it) is planned for revocation.
func Prune() BatchOption { return func(o *batchOptions) { o.prune = true } }

// prunes are the revocations of Prune: for each bucket of the batch, the
// grants its policy holds in kmsgrant's statements beyond the batch's.
func prunes(ctx context.Context, b Backend, items []generate.BatchItem) ([]generate.BatchItem, error) {
	wanted := map[string][]string{}
	buckets := map[string]generate.Inputs{}
	var order []string
	for _, it := range items {
		in := it.Inputs
		if in.Bucket == nil {
			continue
		}
		if _, ok := buckets[in.Bucket.Name]; !ok {
			buckets[in.Bucket.Name] = in
			order = append(order, in.Bucket.Name)
		}
		// A bare account ID takes the bucket's partition, as the held
		// grants' principals have it.
		grantee := it.Grant.Grantee
		if grantee.Partition == "" {
			grantee.Partition = arns.PartitionOf(in.Bucket.Region)
		}
		key := it.Grant.Bucket + " " + grantee.ARN() + " " + it.Grant.Prefix
		wanted[key] = append(wanted[key], it.Grant.Access...)
	}
	var out []generate.BatchItem
	for _, name := range order {
		in := buckets[name]
		for _, h := range generate.HeldGrants(in.Bucket) {
			p, err := arns.ParsePrincipal(h.Principal, arns.PartitionOf(in.Bucket.Region))
			if err != nil {
				continue // not one kmsgrant writes
			}
			want := wanted[name+" "+p.ARN()+" "+h.Prefix]
			if !slices.ContainsFunc(h.Access, func(a string) bool { return !slices.Contains(want, a) }) {
				continue
			}
			g := generate.Grant{Bucket: name, Prefix: h.Prefix, Grantee: p, Access: h.Access, IAMPolicyName: generate.IAMPolicyName}
			out = append(out, generate.BatchItem{Grant: g, Prune: true,
				Label: fmt.Sprintf("prune %s on s3://%s/%s*", p.ARN(), name, h.Prefix)})
		}
	}
	errs := make([]error, len(out))
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i].Inputs, errs[i] = Read(ctx, b, out[i].Grant) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", out[i].Label, err)
		}
	}
	return out, nil
}

// readOnce is a Backend whose reads of buckets, keys and grantees are made
// once each, however many grants of a batch ask at once: the first caller
// reads, the others wait for its answer; a bounded number of reads run
// at once. Every other method is the backend's own.
type readOnce struct {
	Backend
	mu    sync.Mutex
	calls map[string]*onceCall
	slots chan struct{}
}

type onceCall struct {
	done chan struct{}
	val  any
	err  error
}

func newReadOnce(b Backend, concurrency int) *readOnce {
	return &readOnce{Backend: b, calls: map[string]*onceCall{}, slots: make(chan struct{}, concurrency)}
}

// do returns the answer of read for key, calling it only the first time.
func (r *readOnce) do(key string, read func() (any, error)) (any, error) {
	r.mu.Lock()
	c, ok := r.calls[key]
	if !ok {
		c = &onceCall{done: make(chan struct{})}
		r.calls[key] = c
	}
	r.mu.Unlock()
	if ok {
		<-c.done
		return c.val, c.err
	}
	defer close(c.done)
	r.slots <- struct{}{}
	defer func() { <-r.slots }()
	c.val, c.err = read()
	return c.val, c.err
}

func (r *readOnce) Bucket(ctx context.Context, name string) (*generate.Bucket, error) {
	v, err := r.do("bucket "+name, func() (any, error) { return r.Backend.Bucket(ctx, name) })
	bucket, _ := v.(*generate.Bucket)
	return bucket, err
}

func (r *readOnce) Key(ctx context.Context, ref arns.KeyRef, account, region string) (*generate.Key, error) {
	key := fmt.Sprintf("key %+v %s %s", ref, account, region)
	v, err := r.do(key, func() (any, error) { return r.Backend.Key(ctx, ref, account, region) })
	k, _ := v.(*generate.Key)
	return k, err
}

func (r *readOnce) Grantee(ctx context.Context, p arns.Principal) (*generate.Grantee, error) {
	v, err := r.do("grantee "+p.ARN(), func() (any, error) { return r.Backend.Grantee(ctx, p) })
	g, _ := v.(*generate.Grantee)
	return g, err
}

// GuessOwner answers for the backend when it can guess (see Guesser), and
// with nothing otherwise, which readOwnerSide takes for no guess.
func (r *readOnce) GuessOwner() (account, region string) {
	if g, ok := r.Backend.(Guesser); ok {
		return g.GuessOwner()
	}
	return "", ""
}

// BucketNames, AliasNames and PrincipalNames answer for the backend when
// it can list names (see Namer), and nothing otherwise.
func (r *readOnce) BucketNames(ctx context.Context) []string {
	if n, ok := r.Backend.(Namer); ok {
		return n.BucketNames(ctx)
	}
	return nil
}

func (r *readOnce) AliasNames(ctx context.Context, account, region string) []string {
	if n, ok := r.Backend.(Namer); ok {
		return n.AliasNames(ctx, account, region)
	}
	return nil
}

func (r *readOnce) PrincipalNames(ctx context.Context, account string, kind arns.PrincipalKind) []string {
	if n, ok := r.Backend.(Namer); ok {
		return n.PrincipalNames(ctx, account, kind)
	}
	return nil
}
