package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate"
)

// A principal's inline policies are written one after another, in plan
// order; every other document on its own.
func TestInSequence(t *testing.T) {
	role := "arn:aws:iam::444455556666:role/reader"
	changes := []generate.Change{
		{Kind: generate.KindBucketPolicy, Account: "111122223333", Target: "arn:aws:s3:::b"},
		{Kind: generate.KindIAMPolicy, Account: "444455556666", Target: role, PolicyName: "kmsgrant-old"},
		{Kind: generate.KindKeyPolicy, Account: "111122223333", Target: "arn:aws:kms:us-west-2:111122223333:key/k"},
		{Kind: generate.KindIAMPolicy, Account: "444455556666", Target: role, PolicyName: "kmsgrant"},
		{Kind: generate.KindIAMPolicy, Account: "444455556666", Target: "arn:aws:iam::444455556666:role/other", PolicyName: "kmsgrant"},
	}
	want := [][]int{{0}, {1, 3}, {2}, {4}}
	if diff := cmp.Diff(want, inSequence(changes)); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
}
