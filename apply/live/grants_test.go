package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live/livetest"
	"github.com/kmsgrant/kmsgrant/generate"
)

// withGrants is the seed state with these grants on its key (or, with
// unreadable, grants the owner may not list).
func withGrants(t *testing.T, grants []map[string]any, unreadable bool) []byte {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(example(t, "seed"), &st); err != nil {
		t.Fatal(err)
	}
	key := st["accounts"].(map[string]any)[owner].(map[string]any)["kms_keys"].(map[string]any)["arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"].(map[string]any)
	if grants != nil {
		key["grants"] = grants
	}
	if unreadable {
		key["grants_unreadable"] = true
	}
	out, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The key's grants are read through ListGrants, every page, and counted as
// the state file's are: a grant for the reader's Decrypt leaves the key
// policy alone. Grants the owner may not list are said to be unread.
func TestLiveGrants(t *testing.T) {
	var many []map[string]any
	for i := range 120 {
		many = append(many, map[string]any{"grant_id": fmt.Sprintf("g%03d", i), "grantee_principal": "arn:aws:iam::444455556666:role/other", "operations": []string{"Decrypt"}})
	}
	readers := append(many, map[string]any{"grant_id": "reader-grant", "grantee_principal": reader, "operations": []string{"Decrypt", "DescribeKey"}})
	for _, tc := range []struct {
		name       string
		data       []byte
		keyAction  generate.Action
		unreadNote bool
		// pages is how many ListGrants requests to expect, 0 for
		// not counted.
		pages int
	}{
		{"a grant on the last page", withGrants(t, readers, false), generate.NoOp, false, 3},
		{"only other grantees' grants", withGrants(t, many, false), generate.Update, false, 3},
		{"grants not listable", withGrants(t, nil, true), generate.Update, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := grant(t, "doc-example-bucket", "reports/", reader)
			_, want := filePlan(t, tc.data, g)
			srv := livetest.New(t, tc.data)
			b := mustBackend(t, srv)
			got, err := apply.NewPlan(context.Background(), b, g)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viewJSON(t, want), viewJSON(t, got)); diff != "" {
				t.Errorf("live plan differs from the state file's (-file +live):\n%s", diff)
			}
			for _, c := range got.Result.Changes {
				if c.Kind == generate.KindKeyPolicy && c.Action != tc.keyAction {
					t.Errorf("key policy change %s, want %s", c.Action, tc.keyAction)
				}
			}
			if n := srv.RequestCount("kms:ListGrants"); tc.pages != 0 && n != tc.pages {
				t.Errorf("ListGrants requested %d times, want %d pages of 50", n, tc.pages)
			}
			noted := strings.Contains(strings.Join(b.Notes(), "\n"), "may not list the grants")
			if noted != tc.unreadNote {
				t.Errorf("notes %q: unread note = %v, want %v", b.Notes(), noted, tc.unreadNote)
			}
		})
	}
}
