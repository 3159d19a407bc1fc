package statefile

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// TestKeyGrantsWrite writes kmsgrant's KMS grants on a key, changes and
// revokes them, and checks that a grant another maker made is never
// touched, that a kept grant keeps its ID, and that a key left with no
// grant reads as before.
func TestKeyGrantsWrite(t *testing.T) {
	ctx := context.Background()
	const readerARN = "arn:aws:iam::444455556666:role/reader"
	other := generate.KMSGrant{ID: "other-grant", GranteePrincipal: "arn:aws:iam::111122223333:role/ops", Operations: []string{"Encrypt"}}
	withOther := replaceOnce(t, fixture, `"x_rotation": "yearly"`, `"x_rotation": "yearly",
          "grants": [{"grant_id": "other-grant", "grantee_principal": "arn:aws:iam::111122223333:role/ops", "operations": ["Encrypt"], "x_note": "kept"}]`)
	read := func(t *testing.T, f *File) []generate.KMSGrant {
		t.Helper()
		ref, _ := arns.ParseKeyRef(key1ARN)
		k, err := f.Key(ctx, ref, owner, "us-west-2")
		if err != nil {
			t.Fatal(err)
		}
		return k.Grants
	}
	change := func(t *testing.T, f *File, ops ...string) generate.Change {
		t.Helper()
		var want []generate.KMSGrant
		if len(ops) > 0 {
			want = []generate.KMSGrant{{Name: "kmsgrant-doc-example-bucket", GranteePrincipal: readerARN, Operations: ops}}
		}
		before, err := f.Current(ctx, generate.Change{Kind: generate.KindKeyGrants, Account: owner, Target: key1ARN})
		if err != nil {
			t.Fatal(err)
		}
		c := generate.Change{Kind: generate.KindKeyGrants, Account: owner, Target: key1ARN, Action: generate.Update,
			Before: before, After: generate.GrantsJSON(want), KeyGrants: want}
		if err := f.Write(ctx, c); err != nil {
			t.Fatalf("Write: %v", err)
		}
		now, err := f.Current(ctx, c)
		if err != nil || now != c.After {
			t.Fatalf("Current after Write = %q, %v; want %q", now, err, c.After)
		}
		return c
	}
	hexID := regexp.MustCompile(`^[0-9a-f]{64}$`)

	for _, tc := range []struct {
		name, data string
		others     []generate.KMSGrant
	}{
		{"beside another maker's grant", withOther, []generate.KMSGrant{other}},
		{"on a key with no grant", fixture, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, name := writeFixture(t, tc.data, 0o600)
			change(t, f, "Decrypt")
			grants := read(t, f)
			if len(grants) != len(tc.others)+1 || !hexID.MatchString(grants[len(grants)-1].ID) {
				t.Fatalf("grants = %+v", grants)
			}
			first := grants[len(grants)-1].ID
			// Written again as it is, the grant keeps its ID.
			change(t, f, "Decrypt")
			if got := read(t, f); got[len(got)-1].ID != first {
				t.Errorf("the same grant written again has ID %s, was %s", got[len(got)-1].ID, first)
			}
			// More operations make another grant.
			c := change(t, f, "Decrypt", "GenerateDataKey")
			if got := read(t, f); got[len(got)-1].ID == first || !slices.Equal(got[len(got)-1].Operations, []string{"Decrypt", "GenerateDataKey"}) {
				t.Errorf("grant with more operations = %+v", got[len(got)-1])
			}
			// Rolled back, it is the Decrypt grant again.
			if err := f.Restore(ctx, c); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got, _ := f.Current(ctx, c); got != c.Before {
				t.Errorf("after Restore: %q, want %q", got, c.Before)
			}
			// Revoked, the key has the other maker's grants alone, and a
			// key that had none reads as before, byte for byte.
			change(t, f)
			if got := read(t, f); !slices.EqualFunc(got, tc.others, func(a, b generate.KMSGrant) bool {
				return a.ID == b.ID && generate.GrantIdentity(a) == generate.GrantIdentity(b)
			}) {
				t.Errorf("grants after revoking kmsgrant's = %+v, want %+v", got, tc.others)
			}
			switch {
			case tc.others == nil && string(f.Bytes()) != tc.data:
				t.Errorf("file after grant and revoke differs from the one read:\n%s", f.Bytes())
			case tc.others != nil && !strings.Contains(string(f.Bytes()), `"x_note":"kept"`):
				// Another maker's grant is kept as written, fields
				// kmsgrant does not know included.
				t.Errorf("the other grant lost a field:\n%s", f.Bytes())
			}
			if err := f.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(name); err != nil {
				t.Fatalf("Open after Flush: %v", err)
			}
		})
	}
}
