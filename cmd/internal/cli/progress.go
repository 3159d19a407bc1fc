package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kmsgrant/kmsgrant/apply/live"
)

// callReporter returns what every live AWS call is told to: with --debug,
// one line on stderr per call as it ends (service, operation, target,
// status, time); on a terminal stderr, a status line naming the call in
// flight, rewritten in place and erased as soon as no call is, so it never
// mixes with what is printed after. nil when neither is wanted.
func callReporter(f *Factory) func(live.Call) {
	status := f.IO.IsStderrTTY()
	if !f.Debug && !status {
		return nil
	}
	r := &reporter{w: f.IO.ErrOut, debug: f.Debug, status: status, width: f.IO.TerminalWidth(), now: time.Now}
	return r.report
}

type reporter struct {
	mu            sync.Mutex
	w             io.Writer
	debug, status bool
	width         int
	inFlight      int
	shown         bool
	// now is the clock; started is when the first call began, and done
	// counts the calls ended, for the status line of a long run.
	now     func() time.Time
	started time.Time
	done    int
}

// stillAfter is how long a run goes before its status line says how long
// it has been going, as Terraform's "Still modifying... [10s elapsed]".
const stillAfter = 2 * time.Second

func (r *reporter) report(c live.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shown {
		fmt.Fprint(r.w, "\r\x1b[K")
		r.shown = false
	}
	if r.started.IsZero() {
		r.started = r.now()
	}
	if c.Done {
		r.done++
		r.inFlight--
		if r.debug {
			fmt.Fprintln(r.w, "debug: "+c.String())
		}
	} else {
		r.inFlight++
	}
	if !r.status || r.inFlight <= 0 || c.Done {
		return
	}
	line := doing(c.Operation) + " " + c.String() + " …"
	suffix := ""
	if elapsed := r.now().Sub(r.started); elapsed >= stillAfter {
		calls := "calls"
		if r.done == 1 {
			calls = "call"
		}
		suffix = fmt.Sprintf(" [%d %s done, %s elapsed]", r.done, calls, elapsed.Truncate(time.Second))
	}
	if r.width > 1 && len([]rune(line+suffix)) >= r.width {
		// A line that wraps could not be erased in place: the call is
		// cut short, the time kept.
		keep := max(r.width-2-len([]rune(suffix)), 1)
		line = string([]rune(line)[:min(keep, len([]rune(line)))]) + "…"
	}
	line += suffix
	fmt.Fprint(r.w, line)
	r.shown = true
}

// doing says what an operation does, for the status line.
func doing(operation string) string {
	for _, read := range []string{"Get", "List", "Head", "Describe", "Validate", "Check"} {
		if strings.HasPrefix(operation, read) {
			return "reading"
		}
	}
	for _, write := range []string{"Put", "Delete", "Create", "Update"} {
		if strings.HasPrefix(operation, write) {
			return "writing"
		}
	}
	return "calling"
}
