package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
)

// Outcome is what happened to one change of an applied plan.
type Outcome struct {
	Change generate.Change
	// Done is set when the write succeeded.
	Done bool
	Err  error
}

// WriteError is returned when a write fails: it says which writes were made
// and which were not, since a live backend cannot undo the ones before.
type WriteError struct {
	Outcomes []Outcome
	Err      error
}

func (e *WriteError) Error() string {
	if !slices.ContainsFunc(e.Outcomes, func(o Outcome) bool { return o.Done }) {
		return e.Err.Error() + "; nothing was written"
	}
	var done, notDone []string
	for _, o := range e.Outcomes {
		name := o.Change.Kind + " " + o.Change.Target
		if o.Done {
			done = append(done, name)
		} else {
			notDone = append(notDone, name)
		}
	}
	msg := e.Err.Error()
	if len(done) > 0 {
		msg += "; written: " + strings.Join(done, ", ")
	}
	if len(notDone) > 0 {
		msg += "; not written: " + strings.Join(notDone, ", ")
	}
	return msg
}

func (e *WriteError) Unwrap() error { return e.Err }

// Execute writes a plan's create and update changes, in plan order, and
// makes them durable. Right before each write it checks that the target is
// still what the plan showed, and stops at the first target that changed or
// write that fails.
func Execute(ctx context.Context, b Backend, p *Plan) ([]Outcome, error) {
	if p.Blocked() {
		return nil, fmt.Errorf("the plan is blocked; nothing was written")
	}
	var outcomes []Outcome
	for _, c := range p.Result.Changes {
		if c.Action == generate.Create || c.Action == generate.Update {
			outcomes = append(outcomes, Outcome{Change: c})
		}
	}
	for i := range outcomes {
		if err := ctx.Err(); err != nil {
			return outcomes, &WriteError{Outcomes: outcomes, Err: err}
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
			if t, ok := b.(Transactional); ok && t.WritesAtFlush() {
				// The writes before this one never reached the disk.
				for j := range outcomes {
					outcomes[j].Done = false
				}
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
