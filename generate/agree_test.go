package generate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// plannedDenies are the statements of the Denies a plan reports, as
// blockers or warnings.
func plannedDenies(res *Result) []string {
	var out []string
	for _, f := range append(slices.Clone(res.Blockers), res.Warnings...) {
		if f.Code != CodeExplicitDeny && f.Code != CodePossibleDeny {
			continue
		}
		// The message ends with the statement's text.
		if i := indexOfStatement(f.Message); i >= 0 {
			out = append(out, f.Message[i:])
		}
	}
	return out
}

func indexOfStatement(msg string) int {
	for i := len(msg) - 1; i > 0; i-- {
		if msg[i] == '{' && msg[i-2:i] == ": " {
			return i
		}
	}
	return -1
}

// For generated accounts (policies of every shape, with allows and denies,
// conditions kmsgrant can and cannot check, boundaries, kmsgrant statements
// of another grantee) and generated grants, explain and plan agree:
// explain says the read is allowed exactly when the plan has nothing to add
// and nothing blocks it, and every Deny the plan reports, explain shows.
func TestPropertyPlanAndExplainAgree(t *testing.T) {
	// 5,000 cases take about 15 s, and several times that with -race:
	// make test (-race) runs 1,000, and CI runs all of them once more
	// without it.
	cases := 5000
	if testing.Short() || raceDetector {
		cases = 1000
	}
	r := rand.New(rand.NewPCG(2026, 1129))
	var allowed, denied, blocked int
	for n := range cases {
		in, g := randomAccount(t, r, 3)
		if in.Grantee != nil && r.IntN(4) == 0 {
			if b := randomPolicy(r, false); b != nil {
				in.Grantee.Boundary = &NamedPolicy{Name: "arn:aws:iam::444455556666:policy/boundary", Doc: b}
			}
		}
		if r.IntN(10) == 0 {
			// Everything granted already, by this grant's own plan.
			if res, err := Changes(g, in); err == nil && len(res.Blockers) == 0 {
				in = applied(t, in, res)
			}
		}
		label := fmt.Sprintf("case %d (%s %v %q)", n, g.Grantee.ARN(), g.Access, g.Prefix)

		res, err := Changes(g, in)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		x, err := Explain(g, in, Target{}, Controls{})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		nothingToAdd := len(res.Blockers) == 0 && !res.writesAccess()
		if x.Allowed != nothingToAdd {
			t.Fatalf("%s: explain says allowed=%v (%s), but the plan has blockers %v and changes %v", label, x.Allowed, x.Verdict, res.Blockers, actions(res))
		}
		switch {
		case len(res.Blockers) > 0:
			blocked++
		case x.Allowed:
			allowed++
		default:
			denied++
		}
		var shown []string
		for _, c := range x.Checks {
			shown = append(shown, c.Statement)
		}
		for _, st := range plannedDenies(res) {
			if !slices.Contains(shown, st) {
				t.Fatalf("%s: the plan reports a Deny that explain does not show: %s", label, st)
			}
		}
	}
	t.Logf("%d generated cases: explain and plan agree on %d allowed, %d denied with statements to add, %d blocked", cases, allowed, denied, blocked)
	if allowed < cases/20 || denied < cases/5 || blocked < cases/20 {
		t.Errorf("the generator covers too little: %d allowed, %d denied, %d blocked", allowed, denied, blocked)
	}
}
