package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"

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
	r := &reporter{w: f.IO.ErrOut, debug: f.Debug, status: status, width: f.IO.TerminalWidth()}
	return r.report
}

type reporter struct {
	mu            sync.Mutex
	w             io.Writer
	debug, status bool
	width         int
	inFlight      int
	shown         bool
}

func (r *reporter) report(c live.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shown {
		fmt.Fprint(r.w, "\r\x1b[K")
		r.shown = false
	}
	if c.Done {
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
	if r.width > 1 && len([]rune(line)) >= r.width {
		// A line that wraps could not be erased in place.
		line = string([]rune(line)[:r.width-2]) + "…"
	}
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
