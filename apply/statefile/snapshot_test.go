package statefile

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// A snapshot taken without the grantee account's IAM marks that account
// iam_unreadable, and reads back as "IAM side unknown", not as "no such
// role".
func TestSnapshotWithoutGranteeIAM(t *testing.T) {
	f := parseSeed(t)
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

// Restore puts a written target back: the policy as it was, and an inline
// policy the write created removed again.
func TestRestore(t *testing.T) {
	f := parseSeed(t)
	reader, _ := arns.ParsePrincipal("arn:aws:iam::444455556666:role/reader", "aws")
	g := generate.Grant{Bucket: "doc-example-bucket", Prefix: "reports/", Grantee: reader, Access: []string{"read"}, IAMPolicyName: "kmsgrant-doc-example-bucket"}
	ctx := context.Background()
	plan, err := apply.NewPlan(ctx, f, g)
	if err != nil {
		t.Fatal(err)
	}
	var written []generate.Change
	for _, c := range plan.Result.Changes {
		if c.Writes() {
			if err := f.Write(ctx, c); err != nil {
				t.Fatal(err)
			}
			written = append(written, c)
		}
	}
	for i := len(written) - 1; i >= 0; i-- {
		if err := f.Restore(ctx, written[i]); err != nil {
			t.Fatalf("restoring %s: %v", written[i].Kind, err)
		}
	}
	var before, after any
	if err := json.Unmarshal(seedData(t), &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.Bytes(), &after); err != nil {
		t.Fatal(err)
	}
	// The inline policy created is gone, but its now-empty map stays.
	roles := after.(map[string]any)["accounts"].(map[string]any)["444455556666"].(map[string]any)["iam_roles"].(map[string]any)
	if len(roles["reader"].(map[string]any)["inline_policies"].(map[string]any)) != 0 {
		t.Errorf("the created inline policy is still there")
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("after restore (-before +after):\n%s", diff)
	}
}

// A crash between writes (the process ends before Flush) leaves the state
// file as it was: writes only reach the disk all together, by rename.
func TestCrashBetweenWritesLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	name := dir + "/state.json"
	f := openSeedCopy(t, name)
	reader, _ := arns.ParsePrincipal("arn:aws:iam::444455556666:role/reader", "aws")
	plan, err := apply.NewPlan(context.Background(), f, generate.Grant{Bucket: "doc-example-bucket", Grantee: reader, Access: []string{"read"}, IAMPolicyName: "kmsgrant-doc-example-bucket"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range plan.Result.Changes[:2] {
		if err := f.Write(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	// No Flush: the process "crashed" here.
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(seedData(t)) {
		t.Error("the state file changed before Flush")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in the folder: %v", entries)
	}
}
