package apply_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/apply"
)

// BenchmarkPlanLargePolicies plans the seed grant against a bucket policy
// and a key policy that each hold many unrelated statements with wildcards
// and conditions, the worst case for evaluation. It reports the statements
// evaluated per plan and the time per statement.
func BenchmarkPlanLargePolicies(b *testing.B) {
	for _, n := range []int{10, 100, 400} {
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			var sts []string
			for i := range n {
				sts = append(sts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%012d:role/r%d"},"Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::doc-example-bucket/team-%d/*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/team-%d-*"}}}`, i, 100000000000+i, i, i, i))
			}
			bench := mustDoc(b, `{"Version":"2012-10-17","Statement":[`+strings.Join(sts, ",")+`]}`)
			backend, g := fakeSeed(b)
			backend.Buckets["doc-example-bucket"].Policy = bench
			backend.Keys[0].Policy = bench
			b.ReportAllocs()
			for b.Loop() {
				if _, err := apply.NewPlan(context.Background(), backend, g); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*n), "statements/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n), "ns/statement")
		})
	}
}
