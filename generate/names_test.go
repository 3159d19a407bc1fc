package generate

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	buckets := []string{"doc-example-bucket", "doc-example-bucket-logs", "ml-training-data", "analytics-exports"}
	tests := []struct {
		name       string
		candidates []string
		want       []string
	}{
		{"doc-exmaple-bucket", buckets, []string{"doc-example-bucket"}},
		{"doc-example-bucke", buckets, []string{"doc-example-bucket"}},
		{"Doc-Example-Bucket", buckets, []string{"doc-example-bucket"}},
		{"doc-example-buckets", buckets, []string{"doc-example-bucket"}},
		{"ml-training", buckets, nil},
		{"something-else", buckets, nil},
		{"doc-example-bucket", buckets, nil},
		{"alias/app-dat", []string{"alias/app-data", "alias/app-logs", "alias/aws/s3"}, []string{"alias/app-data"}},
		{"raeder", []string{"reader", "analyst", "readers"}, []string{"reader"}},
		{"doc-example-bucket-log", buckets, []string{"doc-example-bucket-logs"}},
		{"a", []string{"b", "c", "d", "e"}, []string{"b", "c", "d"}},
	}
	for _, tc := range tests {
		if got := Closest(tc.name, tc.candidates); !slices.Equal(got, tc.want) {
			t.Errorf("Closest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
