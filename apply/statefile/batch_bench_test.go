package statefile

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/applytest"
	"github.com/kmsgrant/kmsgrant/generate"
)

// dataLake is 1,000 grants on 50 buckets and 10 keys, for 100 roles of one
// grantee account and 20 of another.
var dataLake = applytest.Lake{Buckets: 50, Keys: 10, RolesA: 100, RolesB: 20, Grants: 1000, Prefixes: 10}

// applyBatch plans the lake's grants on a state file and applies them, as
// 'kmsgrant apply -f' does in one process: one parse, one write.
func applyBatch(tb testing.TB, name string) (*apply.Plan, []apply.Outcome) {
	ctx := context.Background()
	f, err := Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := apply.PlanBatch(ctx, f, dataLake.GrantList(), generate.OpGrant)
	if err != nil {
		tb.Fatal(err)
	}
	if p.Blocked() {
		tb.Fatalf("blocked: %+v", p.View.Blockers[0])
	}
	outcomes, err := apply.Execute(ctx, f, p)
	if err != nil {
		tb.Fatal(err)
	}
	return p, outcomes
}

// BenchmarkBatchStateFile plans and applies 1,000 grants on a state file in
// one process (the file is written anew, untimed, before each run), and
// reports the time, the documents written, and the largest bucket policy,
// key policy and role inline total against their limits.
func BenchmarkBatchStateFile(b *testing.B) {
	data := dataLake.State()
	name := filepath.Join(b.TempDir(), "state.json")
	var p *apply.Plan
	var outcomes []apply.Outcome
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(name, data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p, outcomes = applyBatch(b, name)
	}
	b.ReportMetric(float64(len(outcomes)), "writes")
	largest := map[string]float64{}
	for _, c := range p.View.Changes {
		if c.Size != nil {
			largest[c.Kind] = max(largest[c.Kind], float64(c.Size.Used)*100/float64(c.Size.Limit))
		}
	}
	b.ReportMetric(largest[generate.KindBucketPolicy], "bucket-policy-%-of-limit")
	b.ReportMetric(largest[generate.KindKeyPolicy], "key-policy-%-of-limit")
	b.ReportMetric(largest[generate.KindIAMPolicy], "role-inline-%-of-limit")
}

// The batch applied on a state file holds every grant: planned again, it
// has nothing to do.
func TestBatchStateFileAppliedThenEmpty(t *testing.T) {
	lake := dataLake
	if testing.Short() {
		lake.Grants = 200
	}
	name := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(name, lake.State(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, outcomes := applyBatch(t, name)
	if len(outcomes) == 0 {
		t.Fatal("nothing written")
	}
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	again, err := apply.PlanBatch(context.Background(), f, lake.GrantList(), generate.OpGrant)
	if err != nil {
		t.Fatal(err)
	}
	if again.HasChanges() {
		t.Errorf("planned again: %s", again.SummaryLine())
	}
}
