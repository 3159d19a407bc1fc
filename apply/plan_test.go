package apply_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
)

// golden compares got with testdata/name, or rewrites it when
// KMSGRANT_UPDATE=1.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("KMSGRANT_UPDATE") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with KMSGRANT_UPDATE=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// seedPlan plans a read (or the given access) of reports/ in the seed
// example for grantee.
func seedPlan(t testing.TB, grantee string, access ...string) *apply.Plan {
	t.Helper()
	return planState(t, "../examples/seed/state.json", grantee, access...)
}

func TestPlanRendering(t *testing.T) {
	for _, tc := range []struct {
		name    string
		grantee string
		access  []string
	}{
		{"seed_role_read", "arn:aws:iam::444455556666:role/reader", nil},
		{"seed_account_read_list_write", "444455556666", []string{"list", "read", "write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := seedPlan(t, tc.grantee, tc.access...)
			var text, color, js bytes.Buffer
			if err := p.WriteText(&text, false); err != nil {
				t.Fatal(err)
			}
			if err := p.WriteText(&color, true); err != nil {
				t.Fatal(err)
			}
			if err := p.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".txt", text.Bytes())
			golden(t, tc.name+".color.txt", color.Bytes())
			golden(t, tc.name+".json", js.Bytes())
			if bytes.Contains(text.Bytes(), []byte("\x1b[")) {
				t.Error("plain text output has escape sequences")
			}
			if !bytes.Contains(color.Bytes(), []byte("\x1b[32m+")) {
				t.Error("coloured output has no green insertions")
			}
		})
	}
}

// The JSON plan and the text plan come from one view: every diff the JSON
// holds appears verbatim in the text.
func TestTextAndJSONAgree(t *testing.T) {
	p := seedPlan(t, "arn:aws:iam::444455556666:role/reader")
	var text, js bytes.Buffer
	if err := p.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Changes       []struct {
			Kind   string          `json:"kind"`
			Action string          `json:"action"`
			Before json.RawMessage `json:"before"`
			After  json.RawMessage `json:"after"`
			Diff   string          `json:"diff"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1" {
		t.Errorf("format_version = %q, want 1", doc.FormatVersion)
	}
	var kinds []string
	for _, c := range doc.Changes {
		kinds = append(kinds, c.Kind+":"+c.Action)
		if !bytes.Contains(text.Bytes(), []byte(c.Diff)) {
			t.Errorf("%s diff is not in the text plan", c.Kind)
		}
		if c.Action == "create" && string(c.Before) != "null" {
			t.Errorf("%s: create with before %s", c.Kind, c.Before)
		}
	}
	want := []string{"bucket_encryption:update", "bucket_policy:update", "key_policy:update", "iam_policy:create"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		s    apply.Summary
		want string
	}{
		{apply.Summary{Create: 1, Update: 2, NoOp: 1}, "Plan: 1 to create, 2 to update, 1 already grants access."},
		{apply.Summary{Update: 1, NoOp: 2, Manual: 1}, "Plan: 0 to create, 1 to update, 2 already grant access, 1 to attach manually."},
		{apply.Summary{NoOp: 3}, "No changes. 3 already grant access."},
		{apply.Summary{NoOp: 2, Manual: 1}, "No changes. 2 already grant access. 1 to attach manually."},
		{apply.Summary{}, "No changes."},
	} {
		p := &apply.Plan{Result: &generate.Result{}, View: apply.View{Summary: tc.s}}
		if got := p.SummaryLine(); got != tc.want {
			t.Errorf("SummaryLine(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
