package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Outcome is what happened to one target of an applied plan.
type Outcome struct {
	Change generate.Change
	// Done is set when the write succeeded (and was not rolled back).
	Done bool
	Err  error
	// RolledBack is set when the write was undone after a later write
	// failed; RollbackErr when undoing it failed.
	RolledBack  bool
	RollbackErr error
	// Kept is set on a write a rollback leaves in place on purpose: a
	// bucket's default encryption changed to name the same key by its
	// full ARN grants nothing, and other runs may rely on it.
	Kept bool
	// Overwritten is set when another writer replaced the target after
	// kmsgrant wrote it, so that it no longer holds kmsgrant's change and
	// there is nothing to roll back.
	Overwritten bool
	// Rewrites counts the times the target was written again because
	// another writer changed it after kmsgrant read or wrote it.
	Rewrites int
}

// statusOverwritten is the Status of a target another writer replaced;
// results in JSON shorten it to "overwritten".
const statusOverwritten = "overwritten by another writer"

// Status says in a word or two what happened to the target.
func (o Outcome) Status() string {
	switch {
	case o.RollbackErr != nil:
		return "failed to roll back"
	case o.RolledBack:
		return "rolled back"
	case o.Overwritten:
		return statusOverwritten
	case o.Kept:
		return "kept"
	case o.Done:
		return "applied"
	case o.Err != nil:
		return "failed"
	}
	return "untouched"
}

// Replan makes a plan anew from what its targets hold now. Execute calls it
// when another writer changed a target between kmsgrant's read and its
// write, or after its write: the plan made again merges the same grant into
// what the target holds now, instead of overwriting it.
type Replan func(ctx context.Context) (*Plan, error)

// Option changes how Execute works.
type Option func(*options)

type options struct {
	noRollback  bool
	replan      Replan
	attempts    int
	backoff     time.Duration
	parallelism int
}

// DefaultAttempts is how many times Execute writes a plan (made anew after
// the first time) before it gives up on a target other writers keep
// changing.
const DefaultAttempts = 10

// DefaultParallelism is how many documents Execute writes at once, as
// Terraform's -parallelism: a batch's hundreds of documents take a few
// round trips, and AWS's request rates are met with retries.
const DefaultParallelism = 10

// Parallelism sets how many documents Execute writes at once; 1 writes
// them one at a time in plan order, stopping at the first that fails.
func Parallelism(n int) Option { return func(o *options) { o.parallelism = max(n, 1) } }

// NoRollback keeps the writes that succeeded when a later one fails,
// instead of restoring their targets.
func NoRollback() Option { return func(o *options) { o.noRollback = true } }

// WithReplan lets Execute merge its changes again into a target another
// writer changed, through r; without it such a target fails the apply.
func WithReplan(r Replan) Option { return func(o *options) { o.replan = r } }

// Attempts sets how many times in all Execute writes a plan when other
// writers keep changing its targets (default DefaultAttempts), and the base
// of the random backoff between attempts (default 100ms, doubled each time).
func Attempts(n int, backoff time.Duration) Option {
	return func(o *options) { o.attempts, o.backoff = n, backoff }
}

// WriteError is returned when a write fails: it says which writes were made
// and which were not, since a live backend cannot undo the ones before.
type WriteError struct {
	Outcomes []Outcome
	Err      error
}

func (e *WriteError) Error() string {
	return e.Err.Error() + "; " + e.Written()
}

// Written says what happened to each target, grouped ("written: …;
// rolled back: …; not written: …"), or "nothing was written".
func (e *WriteError) Written() string {
	if !slices.ContainsFunc(e.Outcomes, func(o Outcome) bool { return o.Done || o.RolledBack || o.Overwritten || o.RollbackErr != nil }) {
		return "nothing was written"
	}
	byStatus := map[string][]string{}
	for _, o := range e.Outcomes {
		status := o.Status()
		switch status {
		case "failed", "untouched":
			status = "not written"
		case "applied":
			status = "written"
		}
		byStatus[status] = append(byStatus[status], o.Change.Kind+" "+o.Change.Target)
	}
	var parts []string
	for _, status := range []string{"written", "kept", "rolled back", statusOverwritten, "failed to roll back", "not written"} {
		if len(byStatus[status]) > 0 {
			parts = append(parts, status+": "+strings.Join(byStatus[status], ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func (e *WriteError) Unwrap() error { return e.Err }

// ErrNotConverged is matched by the error of an apply whose targets other
// writers kept changing, so that it could not verify its changes.
var ErrNotConverged = errors.New("another writer kept changing it")

// NotConvergedError names the targets that do not hold kmsgrant's changes
// after the last attempt, and what they lack.
type NotConvergedError struct {
	Attempts int
	// Missing says, per target ("bucket_policy arn:aws:s3:::b lacks
	// statement(s) …"), what of kmsgrant's change the target does not
	// show.
	Missing []string
}

func (e *NotConvergedError) Error() string {
	return fmt.Sprintf("%v: after %d %s, %s", ErrNotConverged, e.Attempts, plural(e.Attempts, "attempt", "attempts"), strings.Join(e.Missing, "; "))
}

// Is makes errors.Is(err, ErrNotConverged) hold.
func (e *NotConvergedError) Is(target error) bool { return target == ErrNotConverged }

// rollbackTimeout bounds a rollback that runs after the apply's own context
// was cancelled (Ctrl-C): the writes made must still be undone.
const rollbackTimeout = 2 * time.Minute

// rollback undoes the writes that succeeded, last written first, by putting
// their targets back to their before documents. It never takes away what
// another writer may rely on:
//   - a target that no longer holds what kmsgrant wrote was changed by
//     someone else since: it is left alone and reported, never overwritten
//     (as overwritten when kmsgrant's change is no longer there at all);
//   - a bucket's default encryption changed to name the same key by its
//     full ARN instead of an alias or key ID is kept: it grants nothing,
//     and other runs planned on it (see namesKeyByARN).
func rollback(ctx context.Context, b Backend, r Restorer, done []Outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	for j := len(done) - 1; j >= 0; j-- {
		if !done[j].Done {
			continue
		}
		c := done[j].Change
		if namesKeyByARN(c) {
			done[j].Kept = true
			continue
		}
		current, err := b.Current(ctx, c)
		if err == nil && !holds(current, c) {
			// Another writer replaced it: nothing of kmsgrant's is
			// left there to take away.
			done[j].Done, done[j].Overwritten = false, true
			continue
		}
		if err == nil && current != c.After {
			err = fmt.Errorf("%w: it changed again after kmsgrant wrote it, so it was not rolled back", ErrStale)
		}
		if err == nil {
			err = r.Restore(ctx, c)
		}
		if err != nil {
			done[j].RollbackErr = err
			continue
		}
		done[j].Done, done[j].RolledBack = false, true
	}
}

// namesKeyByARN reports whether a change only makes a bucket's default
// encryption name its key by full ARN instead of by alias or key ID: the
// change a grant's plan makes, which grants nothing and which other runs
// plan on. Any other encryption change (a restore putting an alias back)
// is rolled back like a policy.
func namesKeyByARN(c generate.Change) bool {
	if c.Kind != generate.KindBucketEncryption || c.Encryption == nil || !arns.IsFullKeyARN(c.Encryption.KMSMasterKeyID) {
		return false
	}
	var before generate.Encryption
	if err := json.Unmarshal([]byte(c.Before), &before); err != nil {
		return false
	}
	return before.KMSMasterKeyID != "" && !arns.IsFullKeyARN(before.KMSMasterKeyID) &&
		before.Algorithm == c.Encryption.Algorithm && before.BucketKeyEnabled == c.Encryption.BucketKeyEnabled
}

// landed reports whether a write that answered an error holds anyway: the
// target reads back as the change's After.
func landed(ctx context.Context, b Backend, c generate.Change) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	current, err := b.Current(ctx, c)
	return err == nil && current == c.After
}

func transactional(b Backend) bool {
	t, ok := b.(Transactional)
	return ok && t.WritesAtFlush()
}

// Execute writes a plan's create, update and delete changes, in plan order,
// and makes them durable. Right before each write it checks that the target
// is still what the plan showed.
//
// A backend whose writes take effect together at Flush (the state file,
// which a lock keeps to one writer) is written once: a target that changed
// or a write that fails stops it, and nothing is written.
//
// Any other backend (AWS) is shared with writers that take no lock, and its
// writes take no precondition: the last one wins. So Execute does not take
// a write for done until it has read it back. After the writes (and the
// backend's VerifyDelay) it reads every target it wrote; when another
// writer changed one, before kmsgrant's write or after it, it makes the plan
// again with WithReplan's function, which merges the same grant into what
// the targets hold now, and writes that, after a random backoff, until every
// target reads back as written or the plan made again has nothing left to
// do. When that does not happen within the attempts (see Attempts), or a
// write fails, the writes made are rolled back (see rollback) unless
// NoRollback is given, and the error says which target lacks what.
func Execute(ctx context.Context, b Backend, p *Plan, opts ...Option) ([]Outcome, error) {
	o := options{attempts: DefaultAttempts, backoff: 100 * time.Millisecond, parallelism: DefaultParallelism}
	for _, opt := range opts {
		opt(&o)
	}
	if p.Blocked() {
		return nil, fmt.Errorf("the plan is blocked; nothing was written")
	}
	if transactional(b) {
		return executeAtFlush(ctx, b, p)
	}
	r := &run{b: b, o: o}
	for _, c := range p.Result.Changes {
		if c.Writes() {
			r.outcome(c)
		}
	}
	for attempt := 1; ; attempt++ {
		changed, err := r.write(ctx, p)
		if err == nil && len(changed) == 0 {
			err = b.Flush(ctx)
		}
		if err == nil && len(changed) == 0 {
			changed, err = r.verify(ctx)
		}
		if err != nil {
			return r.fail(ctx, err)
		}
		if len(changed) == 0 {
			return r.outcomes, nil
		}
		if o.replan == nil || attempt >= o.attempts {
			return r.fail(ctx, r.notConverged(ctx, attempt, changed))
		}
		if err := sleep(ctx, r.backoff(attempt)); err != nil {
			return r.fail(ctx, err)
		}
		next, err := o.replan(ctx)
		if err != nil {
			return r.fail(ctx, fmt.Errorf("planning again after another writer changed %s: %w", strings.Join(changed, ", "), err))
		}
		if next.Blocked() {
			var codes []string
			for _, f := range next.View.Blockers {
				codes = append(codes, f.Code+" ("+f.Message+")")
			}
			return r.fail(ctx, fmt.Errorf("another writer changed %s, and the plan made again is blocked: %s", strings.Join(changed, ", "), strings.Join(codes, "; ")))
		}
		if !next.HasChanges() {
			// What the targets hold now, read well after kmsgrant's
			// last write, already has everything the grant needs.
			return r.outcomes, nil
		}
		p = next
	}
}

// run is one Execute against a shared backend, across its attempts.
type run struct {
	b        Backend
	o        options
	outcomes []Outcome
}

// targetOf names a change's target in messages and keys outcomes by it.
func targetOf(c generate.Change) string {
	t := c.Kind + " " + c.Target
	if c.Kind == generate.KindIAMPolicy && c.PolicyName != "" {
		t += " (" + c.PolicyName + ")"
	}
	return t
}

// outcome returns the outcome of c's target, adding one the first time.
func (r *run) outcome(c generate.Change) *Outcome {
	for i := range r.outcomes {
		if targetOf(r.outcomes[i].Change) == targetOf(c) {
			return &r.outcomes[i]
		}
	}
	r.outcomes = append(r.outcomes, Outcome{Change: c})
	return &r.outcomes[len(r.outcomes)-1]
}

// write makes the writes of p, up to the parallelism's documents at once:
// a plan holds one change per document, so no document is written twice
// at once. It returns the targets that changed since p was made, if any
// did: the plan must be made again for them.
func (r *run) write(ctx context.Context, p *Plan) (changed []string, err error) {
	var writes []*Outcome
	var changes []generate.Change
	for _, c := range p.Result.Changes {
		if c.Writes() {
			changes = append(changes, c)
		}
	}
	// Every outcome first: the list must not grow while writes run.
	for _, c := range changes {
		r.outcome(c)
	}
	for _, c := range changes {
		writes = append(writes, r.outcome(c))
	}
	if r.o.parallelism <= 1 {
		for i, c := range changes {
			stale, err := r.writeOne(ctx, c, writes[i])
			switch {
			case err != nil:
				return nil, err
			case stale:
				return []string{targetOf(c)}, nil
			}
		}
		return nil, nil
	}
	var mu sync.Mutex
	var errs []error
	// After a failure no other write starts; the writes in flight finish
	// on the run's own context, so that each is known written or not and
	// a rollback undoes exactly those written.
	var failed atomic.Bool
	sem := make(chan struct{}, r.o.parallelism)
	var wg sync.WaitGroup
	for _, run := range inSequence(changes) {
		wg.Go(func() {
			for _, i := range run {
				c, out := changes[i], writes[i]
				sem <- struct{}{}
				if failed.Load() {
					<-sem
					return
				}
				stale, err := r.writeOne(ctx, c, out)
				<-sem
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
					failed.Store(true)
				case stale:
					changed = append(changed, targetOf(c))
				}
				mu.Unlock()
				if err != nil || stale {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	slices.Sort(changed)
	return changed, nil
}

// inSequence groups the indexes of changes into runs to write one after
// another, in plan order; the runs go at once. A role's or user's inline
// policies are one run: IAM counts them together against its limit, and a
// plan that moves statements from one to another orders its writes so the
// principal neither lacks them nor goes over the limit (see
// generate.foldOrder). Every other document is a run of its own.
func inSequence(changes []generate.Change) [][]int {
	var runs [][]int
	principal := map[string]int{}
	for i, c := range changes {
		if c.Kind != generate.KindIAMPolicy {
			runs = append(runs, []int{i})
			continue
		}
		key := c.Account + " " + c.Target
		if j, ok := principal[key]; ok {
			runs[j] = append(runs[j], i)
			continue
		}
		principal[key] = len(runs)
		runs = append(runs, []int{i})
	}
	return runs
}

// writeOne writes one change, after checking that its target still holds
// what the plan read. It reports stale when another writer changed the
// target and the plan can be made again.
func (r *run) writeOne(ctx context.Context, c generate.Change, out *Outcome) (stale bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	current, err := r.b.Current(ctx, c)
	if err != nil {
		out.Err = err
		return false, fmt.Errorf("reading %s before writing it: %w", targetOf(c), err)
	}
	if current != c.Before {
		if r.o.replan == nil {
			err := fmt.Errorf("writing %s of %s: %w: it changed after the plan was made; plan again", c.Kind, c.Target, ErrStale)
			out.Err = err
			return false, err
		}
		return true, nil
	}
	if err := r.b.Write(ctx, c); err != nil {
		// Whether the failed write reached AWS after all: one read.
		reached := landed(ctx, r.b, c)
		if errors.Is(err, ErrStale) && r.o.replan != nil && !reached {
			// Another writer changed it while the write was being
			// retried: merge again, as for a change seen before.
			return true, nil
		}
		out.Err = err
		// The target held c.Before, which lacks this change: an earlier
		// attempt's write of it is gone.
		out.Done = false
		if reached {
			// The write failed as far as the caller could tell (a
			// timeout, say) yet reached AWS: it is undone with the
			// others.
			out.Change, out.Done = c, true
		}
		return false, fmt.Errorf("writing %s of %s: %w", c.Kind, c.Target, err)
	}
	if out.Done {
		out.Rewrites++
	}
	out.Change, out.Done, out.Err = c, true, nil
	return false, nil
}

// verify waits the backend's VerifyDelay, then reads back every target
// written so far, at once, and returns those that no longer hold
// kmsgrant's change (see holds).
func (r *run) verify(ctx context.Context) (changed []string, err error) {
	if v, ok := r.b.(Verifier); ok {
		if err := sleep(ctx, v.VerifyDelay()); err != nil {
			return nil, err
		}
	}
	return r.readBack(ctx)
}

// readBack reads back every target written so far, at once, and returns
// those that no longer hold kmsgrant's change.
func (r *run) readBack(ctx context.Context) (changed []string, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for i := range r.outcomes {
		c := r.outcomes[i].Change
		if !r.outcomes[i].Done {
			continue
		}
		wg.Go(func() {
			current, err := r.b.Current(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("reading %s back after writing it: %w", targetOf(c), err))
			case !holds(current, c):
				changed = append(changed, targetOf(c))
			}
		})
	}
	wg.Wait()
	slices.Sort(changed)
	return changed, errors.Join(errs...)
}

// fail rolls back what was written (unless NoRollback) and returns err as
// a WriteError that lists every target.
func (r *run) fail(ctx context.Context, err error) ([]Outcome, error) {
	if res, ok := r.b.(Restorer); ok && !r.o.noRollback {
		rollback(ctx, r.b, res, r.outcomes)
	}
	return r.outcomes, &WriteError{Outcomes: r.outcomes, Err: err}
}

// notConverged says, for each target that does not hold kmsgrant's change
// (those the last attempt found changed, and any other written target that
// no longer holds it), what it lacks.
func (r *run) notConverged(ctx context.Context, attempts int, changed []string) error {
	if more, err := r.readBack(ctx); err == nil {
		for _, t := range more {
			if !slices.Contains(changed, t) {
				changed = append(changed, t)
			}
		}
	}
	e := &NotConvergedError{Attempts: attempts}
	for _, t := range changed {
		for i := range r.outcomes {
			o := &r.outcomes[i]
			if targetOf(o.Change) != t {
				continue
			}
			if o.Done {
				e.Missing = append(e.Missing, t+" "+lacking(o.Change))
			} else {
				e.Missing = append(e.Missing, t+" changed again before kmsgrant could write it, and "+lacking(o.Change))
			}
		}
	}
	return e
}

// backoff is a random wait before attempt+1: up to the base doubled each
// attempt, at most 8 seconds, so that runs that collided spread out.
func (r *run) backoff(attempt int) time.Duration {
	ceiling := min(r.o.backoff<<min(attempt-1, 16), 8*time.Second)
	if ceiling <= 0 {
		return 0
	}
	return ceiling/2 + rand.N(ceiling/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lacking says what a target lacks when it does not hold change c: the
// statements c wrote (by Sid, or position), as it wrote them, and those it
// removed that are back; or the key the default encryption should name.
func lacking(c generate.Change) string {
	if c.Kind == generate.KindBucketEncryption {
		if c.Encryption != nil {
			return "lacks the default encryption key " + c.Encryption.KMSMasterKeyID
		}
		return "lacks the default encryption kmsgrant wrote"
	}
	if c.Kind == generate.KindKeyGrants {
		added, removed := grantsChanged(c)
		var parts []string
		if len(added) > 0 {
			parts = append(parts, "lacks grant(s) "+strings.Join(added, ", ")+" as kmsgrant made them")
		}
		if len(removed) > 0 {
			parts = append(parts, "still has grant(s) "+strings.Join(removed, ", ")+" that kmsgrant revoked")
		}
		return strings.Join(parts, " and ")
	}
	before, after := statementsOf(c.Before), statementsOf(c.After)
	var written, removed []string
	for i, s := range after {
		if !hasText(before, s) {
			written = append(written, sidAt(after, i))
		}
	}
	for i, s := range before {
		// A statement rewritten under its Sid (a principal added to
		// it) is written, not removed.
		if sid := sidAt(before, i); !hasText(after, s) && !slices.Contains(written, sid) {
			removed = append(removed, sid)
		}
	}
	var parts []string
	if len(written) > 0 {
		parts = append(parts, "lacks statement(s) "+strings.Join(written, ", ")+" as kmsgrant wrote them")
	}
	if len(removed) > 0 {
		parts = append(parts, "still has statement(s) "+strings.Join(removed, ", ")+" that kmsgrant removed")
	}
	if len(parts) == 0 {
		return "does not hold the document kmsgrant wrote"
	}
	return strings.Join(parts, " and ")
}

// holds reports whether current, a target's document as read now, still
// has what change c did to it, whatever other writers did beside it:
//   - in kmsgrant's own statements, which name principals, principal by
//     principal: every principal c added is named, under the statement's
//     Sid and shape, and no principal c removed is (so another grantee
//     joined since does not matter, and a removed one put back does);
//   - every other statement as written: each c added is there and each c
//     removed is not.
//
// A default encryption holds c only when it is c's exactly.
func holds(current string, c generate.Change) bool {
	if current == c.After {
		return true
	}
	if c.Kind == generate.KindKeyGrants {
		return holdsGrants(current, c)
	}
	if c.Kind == generate.KindBucketEncryption || c.After == "" || current == "" {
		return false
	}
	before, after, now := statementsOf(c.Before), statementsOf(c.After), statementsOf(current)
	for _, sid := range kmsgrantSids(before, after) {
		b, a, n := bySid(before, sid), bySid(after, sid), bySid(now, sid)
		added := without(principalsOf(a), principalsOf(b))
		removed := without(principalsOf(b), principalsOf(a))
		if len(added) > 0 && (n == nil || shapeOf(*n) != shapeOf(*a) || !isSubset(added, principalsOf(n))) {
			return false
		}
		if n != nil && len(removed) > 0 && len(without(removed, principalsOf(n))) != len(removed) {
			return false
		}
	}
	for _, s := range after {
		if !byPrincipal(s) && !hasText(before, s) && !hasText(now, s) {
			return false
		}
	}
	for _, s := range before {
		if !byPrincipal(s) && !hasText(after, s) && hasText(now, s) {
			return false
		}
	}
	return true
}

// byPrincipal reports whether a statement is one of kmsgrant's that names
// principals, whose changes holds follows principal by principal.
func byPrincipal(s policy.Statement) bool {
	return s.Sid != "" && s.HasSidPrefix(generate.SidPrefix) && len(principalsOf(&s)) > 0
}

// kmsgrantSids are the Sids of the statements of before and after that
// byPrincipal follows.
func kmsgrantSids(before, after []policy.Statement) []string {
	var sids []string
	for _, s := range append(slices.Clone(before), after...) {
		if byPrincipal(s) && !slices.Contains(sids, s.Sid) {
			sids = append(sids, s.Sid)
		}
	}
	return sids
}

func bySid(sts []policy.Statement, sid string) *policy.Statement {
	for i := range sts {
		if sts[i].Sid == sid {
			return &sts[i]
		}
	}
	return nil
}

// without returns the members of xs that are not in ys.
func without(xs, ys []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(ys, x) {
			out = append(out, x)
		}
	}
	return out
}

func hasText(sts []policy.Statement, s policy.Statement) bool {
	return slices.ContainsFunc(sts, func(t policy.Statement) bool { return t.String() == s.String() })
}

// shapeOf is a statement's text without its principal.
func shapeOf(s policy.Statement) string {
	shape := s.Clone()
	shape.Principal = nil
	return shape.String()
}

func principalsOf(s *policy.Statement) []string {
	if s == nil || s.Principal == nil {
		return nil
	}
	return s.Principal.AWS()
}

func isSubset(small, big []string) bool {
	for _, x := range small {
		if !slices.Contains(big, x) {
			return false
		}
	}
	return true
}

// statementsOf returns the statements of a document ("" for none).
func statementsOf(doc string) []policy.Statement {
	d, err := policy.Parse([]byte(doc))
	if doc == "" || err != nil {
		return nil
	}
	return d.Statements
}

// sidAt names statement i of sts: its Sid, or #POSITION (from 1).
func sidAt(sts []policy.Statement, i int) string {
	if sts[i].Sid == "" {
		return fmt.Sprintf("#%d", i+1)
	}
	return sts[i].Sid
}

// executeAtFlush writes a plan to a backend whose writes take effect only
// at Flush, all together: when one fails, nothing was written.
func executeAtFlush(ctx context.Context, b Backend, p *Plan) ([]Outcome, error) {
	var outcomes []Outcome
	for _, c := range p.Result.Changes {
		if c.Writes() {
			outcomes = append(outcomes, Outcome{Change: c})
		}
	}
	undo := func(err error) ([]Outcome, error) {
		for j := range outcomes {
			outcomes[j].Done = false
		}
		return outcomes, &WriteError{Outcomes: outcomes, Err: err}
	}
	// The writes take effect together, at Flush, so their order does not
	// matter: they are made grouped by the bucket, key, role or user they
	// edit, in plan order within each, which lets the state file copy
	// each such entity into the file once rather than once per write.
	order := make([]int, len(outcomes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ca, cb := outcomes[a].Change, outcomes[b].Change
		return strings.Compare(ca.Account+" "+ca.Target, cb.Account+" "+cb.Target)
	})
	for _, i := range order {
		if err := ctx.Err(); err != nil {
			return undo(err)
		}
		c := outcomes[i].Change
		current, err := b.Current(ctx, c)
		if err == nil && current != c.Before {
			err = fmt.Errorf("%w: it changed after the plan was made; plan again", ErrStale)
		}
		if err == nil {
			err = b.Write(ctx, c)
		}
		if err != nil {
			outcomes[i].Err = err
			return undo(fmt.Errorf("writing %s of %s: %w", c.Kind, c.Target, err))
		}
		outcomes[i].Done = true
	}
	if err := b.Flush(ctx); err != nil {
		return undo(err)
	}
	return outcomes, nil
}

// holdsGrants reports whether the key's grants as read now (current) still
// have what a key_grants change did: each grant it made is there, each it
// revoked is not, whatever grants others made or revoked beside them.
func holdsGrants(current string, c generate.Change) bool {
	now, err := generate.ParseGrantsJSON(current)
	if err != nil {
		return false
	}
	create, revoke, err := generate.GrantsDelta(c.Before, c.After)
	if err != nil {
		return false
	}
	has := generate.GrantSetOf(now)
	for _, g := range create {
		if !has.Has(g) {
			return false
		}
	}
	for _, g := range revoke {
		if has.Has(g) {
			return false
		}
	}
	return true
}

// grantsChanged names the grants a key_grants change makes and revokes,
// by name and grantee.
func grantsChanged(c generate.Change) (added, removed []string) {
	create, revoke, _ := generate.GrantsDelta(c.Before, c.After)
	for _, g := range create {
		added = append(added, g.Name+" of "+g.GranteePrincipal)
	}
	for _, g := range revoke {
		removed = append(removed, g.Name+" of "+g.GranteePrincipal)
	}
	return added, removed
}
