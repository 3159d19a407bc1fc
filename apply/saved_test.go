package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	p := seedPlan(f, "arn:aws:iam::444455556666:role/reader")
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
	p := mustPlan(t, b, g)
	if err := apply.CheckStale(context.Background(), b, p); err != nil {
		t.Fatalf("fresh plan: %v", err)
	}
	b.Drifted = map[string]string{"bucket_policy": `{"Version":"2012-10-17","Statement":[]}` + "\n"}
	err := apply.CheckStale(context.Background(), b, p)
	if !errors.Is(err, apply.ErrStalePlan) || !strings.Contains(err.Error(), "bucket_policy arn:aws:s3:::doc-example-bucket") {
		t.Errorf("err = %v", err)
	}
}

func TestBackup(t *testing.T) {
	p := seedPlan(t, "arn:aws:iam::444455556666:role/reader")
	dir := t.TempDir()
	folder, err := apply.Backup(dir, p, time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(folder), "20261127T160000Z-") {
		t.Errorf("folder = %s", folder)
	}
	data, err := os.ReadFile(filepath.Join(folder, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m apply.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, target := range m.Targets {
		c := p.Result.Changes[i]
		kinds = append(kinds, target.Kind)
		if target.File == "" {
			if c.Before != "" {
				t.Errorf("%s: no file for a document that existed", target.Kind)
			}
			continue
		}
		saved, err := os.ReadFile(filepath.Join(folder, target.File))
		if err != nil {
			t.Fatal(err)
		}
		if string(saved) != c.Before {
			t.Errorf("%s: backup differs from the before document", target.Kind)
		}
	}
	if diff := cmp.Diff([]string{"bucket_encryption", "bucket_policy", "key_policy", "iam_policy"}, kinds); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if info, err := os.Stat(folder); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("backup folder mode = %v, %v; want 0700", info.Mode().Perm(), err)
	}
}
