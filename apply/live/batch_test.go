package live_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/applytest"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
	"github.com/kmsgrant/kmsgrant/generate"
)

// lakeBackend is the live backend over srv with credentials for the lake's
// owner and both grantee accounts, as a grants file's profiles give them.
func lakeBackend(tb testing.TB, srv *livetest.Server) *live.Backend {
	tb.Helper()
	oc := srv.Config(applytest.Owner, "us-west-2")
	configs := map[string]*aws.Config{}
	for _, account := range []string{"444455556666", "777788889999"} {
		c := srv.Config(account, "us-west-2")
		configs[account] = &c
	}
	b, err := live.New(context.Background(), live.Options{OwnerConfig: &oc, AccountConfigs: configs, EndpointURL: srv.URL, VerifyDelay: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// batchRun is one plan and apply of a lake's grants against the fake, as
// 'kmsgrant apply -f' makes it, and what it asked AWS for.
type batchRun struct {
	plan     *apply.Plan
	outcomes []apply.Outcome
	elapsed  time.Duration
	// requests counts the requests made, SDK retries not counted, by
	// operation.
	requests map[string]int
	// roundTrips is the longest chain of requests made one after
	// another's answer (livetest.Server.RoundTrips).
	roundTrips int
}

func runBatch(tb testing.TB, lake applytest.Lake, delay time.Duration, opts ...apply.Option) batchRun {
	return runBatchReading(tb, lake, delay, apply.DefaultReadConcurrency, opts...)
}

// runBatchReading is runBatch with reads reads at once.
func runBatchReading(tb testing.TB, lake applytest.Lake, delay time.Duration, reads int, opts ...apply.Option) batchRun {
	tb.Helper()
	srv := livetest.New(tb, lake.State())
	srv.SetDelay(delay)
	start := time.Now()
	b := lakeBackend(tb, srv)
	p, err := apply.PlanBatch(context.Background(), b, lake.GrantList(), generate.OpGrant, apply.ReadConcurrency(reads))
	if err != nil {
		tb.Fatal(err)
	}
	if p.Blocked() {
		tb.Fatalf("blocked: %+v", p.View.Blockers[0])
	}
	outcomes, err := apply.Execute(context.Background(), b, p, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	run := batchRun{plan: p, outcomes: outcomes, elapsed: time.Since(start), requests: map[string]int{}, roundTrips: srv.RoundTrips()}
	for _, op := range srv.Calls() {
		run.requests[op] = srv.RequestCount(op)
	}
	return run
}

// total, reads and writes sum the requests.
func (r batchRun) count(match func(op string) bool) int {
	n := 0
	for op, c := range r.requests {
		if match(op) {
			n += c
		}
	}
	return n
}

func isWrite(op string) bool {
	_, name, _ := strings.Cut(op, ":")
	return strings.HasPrefix(name, "Put") || strings.HasPrefix(name, "Delete") || strings.HasPrefix(name, "Create")
}

// BenchmarkLiveBatch plans and applies 1,000 grants (50 buckets, 10 keys,
// 100 roles in one grantee account and 20 in another) through the fake
// AWS, which holds every request for a fixed latency. It reports the
// requests made, against what a batch needs (each document read once to
// plan, then read again, written and read back once per write), STS calls,
// the round trips waited one after another (the longest chain of requests
// each made after another was answered, whether for its answer or because
// the bound on requests at once held it back), and the wall time, also as
// a multiple of the latency. Unbounded, every request goes as soon as what
// it needs is known; but the fake serves one request at a time, about a
// millisecond each, so hundreds sent at once are answered over many
// latencies, and a request that waited on one of the first answers looks
// as if it waited on the last: BenchmarkLivePipelineDepth measures the
// depth where that does not blur it.
func BenchmarkLiveBatch(b *testing.B) {
	const delay = 20 * time.Millisecond
	const unbounded = 1 << 16
	lake := applytest.Lake{Buckets: 50, Keys: 10, RolesA: 100, RolesB: 20, Grants: 1000, Prefixes: 10}
	for _, tc := range []struct {
		name               string
		parallelism, reads int
	}{
		{"parallelism=10", apply.DefaultParallelism, apply.DefaultReadConcurrency},
		{"parallelism=100", 100, apply.DefaultReadConcurrency},
		{"unbounded", unbounded, unbounded},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var run batchRun
			for b.Loop() {
				run = runBatchReading(b, lake, delay, tc.reads, apply.Parallelism(tc.parallelism))
			}
			writes := run.count(isWrite)
			total := run.count(func(string) bool { return true })
			b.ReportMetric(float64(total), "requests")
			b.ReportMetric(float64(total-3*writes), "plan-reads")
			b.ReportMetric(float64(writes), "writes")
			b.ReportMetric(float64(run.requests["sts:GetCallerIdentity"]), "sts-calls")
			b.ReportMetric(float64(run.roundTrips), "round-trips")
			b.ReportMetric(run.elapsed.Seconds(), "wall-s")
			b.ReportMetric(float64(run.elapsed)/float64(delay), "wall-latencies")
		})
	}
}

// BenchmarkLivePipelineDepth measures the round trips a batch waits one
// after another when nothing bounds its requests: the longest chain of
// requests each of which waits on another's answer (STS, then a role's
// attached policy and its version; then each document's re-read, write and
// read back). It runs a batch small enough, with a latency long enough,
// that the fake's serving one request at a time does not add to the count.
func BenchmarkLivePipelineDepth(b *testing.B) {
	const delay = 200 * time.Millisecond
	const unbounded = 1 << 16
	lake := applytest.Lake{Buckets: 5, Keys: 2, RolesA: 10, RolesB: 5, Grants: 50, Prefixes: 3}
	var run batchRun
	for b.Loop() {
		run = runBatchReading(b, lake, delay, unbounded, apply.Parallelism(unbounded))
	}
	b.ReportMetric(float64(run.roundTrips), "round-trips")
	b.ReportMetric(float64(run.elapsed)/float64(delay), "wall-latencies")
	b.ReportMetric(float64(run.count(isWrite)), "writes")
}

// The requests of a batch: every document read once to plan, once before
// its write, written once and read back once; STS once per account.
func TestLiveBatchRequests(t *testing.T) {
	lake := applytest.Lake{Buckets: 10, Keys: 3, RolesA: 20, RolesB: 5, Grants: 120, Prefixes: 4}
	run := runBatch(t, lake, 0)
	if got := run.requests["sts:GetCallerIdentity"]; got != 3 {
		t.Errorf("STS asked %d times, want once per account (3)", got)
	}
	writes := run.count(isWrite)
	if writes != len(run.outcomes) {
		t.Errorf("%d write requests for %d documents written; want one each", writes, len(run.outcomes))
	}
	// One read to plan, per operation and document: a bucket's four
	// reads, a key's four, a role's three and its inline policies'.
	for op, n := range run.requests {
		if isWrite(op) || op == "sts:GetCallerIdentity" {
			continue
		}
		t.Logf("%s: %d", op, n)
	}
	perBucket := run.requests["s3:GetBucketPolicy"]
	// Planned once; read again before writing and after: each bucket
	// policy is written once.
	if perBucket != 3*lake.Buckets {
		t.Errorf("GetBucketPolicy %d times, want 3 per bucket (%d)", perBucket, 3*lake.Buckets)
	}
	if n := run.requests["kms:GetKeyPolicy"]; n != 3*lake.Keys {
		t.Errorf("GetKeyPolicy %d times, want 3 per key (%d)", n, 3*lake.Keys)
	}
	if n, roles := run.requests["iam:GetRole"], lake.RolesA+lake.RolesB; n != roles {
		t.Errorf("GetRole %d times, want once per role (%d)", n, roles)
	}
}
