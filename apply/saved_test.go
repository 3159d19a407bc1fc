package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
)

// A saved plan reads back to the same changes, to the byte of every
// canonical document.
func TestSavedPlanRoundTrip(t *testing.T) {
	for _, grantee := range []string{"arn:aws:iam::444455556666:role/reader", "444455556666"} {
		p := seedPlan(t, grantee, "list", "read", "write")
		data, err := p.Save("v1.2.3", apply.SavedBackend{Kind: "state"})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := apply.ReadSaved(data)
		if err != nil {
			t.Fatal(err)
		}
		back, err := sp.Plan()
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Result.Changes) != len(p.Result.Changes) {
			t.Fatalf("%d changes read back, want %d", len(back.Result.Changes), len(p.Result.Changes))
		}
		for i, c := range p.Result.Changes {
			got := back.Result.Changes[i]
			if diff := cmp.Diff([]string{c.Kind, c.Target, string(c.Action), c.Before, c.After, c.PolicyName},
				[]string{got.Kind, got.Target, string(got.Action), got.Before, got.After, got.PolicyName}); diff != "" {
				t.Errorf("%s: (-saved +read):\n%s", c.Kind, diff)
			}
		}
		if sp.KmsgrantVersion != "v1.2.3" {
			t.Errorf("version = %q", sp.KmsgrantVersion)
		}
	}
}

// FuzzReadSaved: a plan file, however damaged, is read or refused, never a
// panic, and a file read back rebuilds without error only if intact.
func FuzzReadSaved(f *testing.F) {
	p := seedPlanTB(f, "arn:aws:iam::444455556666:role/reader")
	data, err := p.Save("dev", apply.SavedBackend{Kind: "state"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte(strings.Replace(string(data), `"read"`, `"write"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := apply.ReadSaved(data)
		if err != nil {
			return
		}
		if _, err := sp.Plan(); err != nil && !strings.Contains(err.Error(), "change ") {
			t.Fatalf("Plan() error without the change it concerns: %v", err)
		}
	})
}

func TestCheckStale(t *testing.T) {
	b, g := fakeSeed(t)
	p, err := apply.NewPlan(context.Background(), b, g)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.CheckStale(context.Background(), b, p); err != nil {
		t.Fatalf("fresh plan: %v", err)
	}
	b.Drifted = map[string]string{"bucket_policy": `{"Version":"2012-10-17","Statement":[]}` + "\n"}
	err = apply.CheckStale(context.Background(), b, p)
	if !errors.Is(err, apply.ErrStalePlan) || !strings.Contains(err.Error(), "bucket_policy arn:aws:s3:::doc-example-bucket") {
		t.Errorf("err = %v", err)
	}
}
