package statefile

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// A snapshot taken without the grantee account's IAM marks that account
// iam_unreadable, and reads back as "IAM side unknown", not as "no such
// role".
func TestSnapshotWithoutGranteeIAM(t *testing.T) {
	data, err := os.ReadFile("../../examples/seed/state.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("seed.json", data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, _ := f.Bucket(ctx, "doc-example-bucket")
	ref, _ := arns.ParseKeyRef("alias/app-data")
	k, err := f.Key(ctx, ref, b.Account, b.Region)
	if err != nil {
		t.Fatal(err)
	}
	reader, _ := arns.ParsePrincipal("arn:aws:iam::444455556666:role/reader", "aws")
	snap, err := Snapshot(generate.Inputs{Bucket: b, Key: k}, reader)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("snap.json", snap)
	if err != nil {
		t.Fatalf("snapshot does not parse: %v\n%s", err, snap)
	}
	g, err := back.Grantee(ctx, reader)
	if g != nil || err != nil {
		t.Errorf("Grantee() = %v, %v; want nil, nil for an unreadable account", g, err)
	}
	b2, _ := back.Bucket(ctx, "doc-example-bucket")
	if diff := cmp.Diff(b.Policy.Pretty(), b2.Policy.Pretty()); diff != "" {
		t.Errorf("bucket policy (-read +snapshot):\n%s", diff)
	}
}
