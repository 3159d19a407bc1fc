package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kmsgrant/kmsgrant/generate"
)

// Outcome is what happened to one change of an applied plan.
type Outcome struct {
	Change generate.Change
	// Done is set when the write succeeded (and was not rolled back).
	Done bool
	Err  error
	// RolledBack is set when the write was undone after a later write
	// failed; RollbackErr when undoing it failed.
	RolledBack  bool
	RollbackErr error
}

// Status says in a word or two what happened to the target.
func (o Outcome) Status() string {
	switch {
	case o.RollbackErr != nil:
		return "failed to roll back"
	case o.RolledBack:
		return "rolled back"
	case o.Done:
		return "applied"
	case o.Err != nil:
		return "failed"
	}
	return "untouched"
}

// Option changes how Execute works.
type Option func(*options)

type options struct{ noRollback bool }

// NoRollback keeps the writes that succeeded when a later one fails,
// instead of restoring their targets.
func NoRollback() Option { return func(o *options) { o.noRollback = true } }

// WriteError is returned when a write fails: it says which writes were made
// and which were not, since a live backend cannot undo the ones before.
type WriteError struct {
	Outcomes []Outcome
	Err      error
}

func (e *WriteError) Error() string {
	if !slices.ContainsFunc(e.Outcomes, func(o Outcome) bool { return o.Done || o.RolledBack || o.RollbackErr != nil }) {
		return e.Err.Error() + "; nothing was written"
	}
	byStatus := map[string][]string{}
	for _, o := range e.Outcomes {
		status := o.Status()
		if status == "failed" || status == "untouched" {
			status = "not written"
		} else if status == "applied" {
			status = "written"
		}
		byStatus[status] = append(byStatus[status], o.Change.Kind+" "+o.Change.Target)
	}
	msg := e.Err.Error()
	for _, status := range []string{"written", "rolled back", "failed to roll back", "not written"} {
		if len(byStatus[status]) > 0 {
			msg += "; " + status + ": " + strings.Join(byStatus[status], ", ")
		}
	}
	return msg
}

func (e *WriteError) Unwrap() error { return e.Err }

// rollbackTimeout bounds a rollback that runs after the apply's own context
// was cancelled (Ctrl-C): the writes made must still be undone.
const rollbackTimeout = 2 * time.Minute

// rollback puts the targets of the writes that succeeded back to their
// before documents, last written first. A target that no longer holds what
// kmsgrant wrote was changed by someone else since: it is left alone and
// reported, never overwritten.
func rollback(ctx context.Context, b Backend, r Restorer, done []Outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	for j := len(done) - 1; j >= 0; j-- {
		if !done[j].Done {
			continue
		}
		c := done[j].Change
		current, err := b.Current(ctx, c)
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

// Execute writes a plan's create and update changes, in plan order, and
// makes them durable. Right before each write it checks that the target is
// still what the plan showed, and stops at the first target that changed or
// write that fails.
func Execute(ctx context.Context, b Backend, p *Plan, opts ...Option) ([]Outcome, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if p.Blocked() {
		return nil, fmt.Errorf("the plan is blocked; nothing was written")
	}
	var outcomes []Outcome
	for _, c := range p.Result.Changes {
		if c.Writes() {
			outcomes = append(outcomes, Outcome{Change: c})
		}
	}
	for i := range outcomes {
		if err := ctx.Err(); err != nil {
			// Interrupted between writes: undo the ones made.
			if r, ok := b.(Restorer); ok && !o.noRollback && !transactional(b) {
				rollback(ctx, b, r, outcomes[:i])
			}
			return outcomes, &WriteError{Outcomes: outcomes, Err: err}
		}
		c := outcomes[i].Change
		current, err := b.Current(ctx, c)
		if err == nil && current != c.Before {
			err = fmt.Errorf("%w: it changed after the plan was made; plan again", ErrStale)
		}
		wrote := false
		if err == nil {
			err = b.Write(ctx, c)
			wrote = true
		}
		if err != nil {
			outcomes[i].Err = err
			if wrote && !transactional(b) && landed(ctx, b, c) {
				// The write failed as far as the caller could tell (a
				// timeout, say) yet reached AWS: it is undone with the
				// others.
				outcomes[i].Done = true
			}
			if transactional(b) {
				// The writes before this one never reached the disk.
				for j := range outcomes {
					outcomes[j].Done = false
				}
			} else if r, ok := b.(Restorer); ok && !o.noRollback {
				rollback(ctx, b, r, outcomes[:i+1])
			}
			return outcomes, &WriteError{Outcomes: outcomes, Err: fmt.Errorf("writing %s of %s: %w", c.Kind, c.Target, err)}
		}
		outcomes[i].Done = true
	}
	if err := b.Flush(ctx); err != nil {
		for i := range outcomes {
			outcomes[i].Done = false
		}
		return outcomes, &WriteError{Outcomes: outcomes, Err: err}
	}
	return outcomes, nil
}
