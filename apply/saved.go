package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// SavedPlan is a plan written by `plan --out`, to be applied later exactly
// as it was reviewed. It is the JSON plan plus what applying it safely
// needs: the kmsgrant version, where it was made, and a checksum that
// catches edits and truncation.
type SavedPlan struct {
	View
	KmsgrantVersion string `json:"kmsgrant_version"`
	// Backend says what the plan was made against.
	Backend SavedBackend `json:"backend"`
	// Checksum is the SHA-256 of the file's JSON with this field empty.
	Checksum string `json:"checksum"`
}

// SavedBackend says what a saved plan was made against: a state file, or
// live accounts.
type SavedBackend struct {
	Kind           string `json:"kind"` // "state" or "live"
	OwnerAccount   string `json:"owner_account,omitempty"`
	GranteeAccount string `json:"grantee_account,omitempty"`
	// Profiles are the AWS profiles by account a grants file named, used
	// again when the plan is applied.
	Profiles map[string]string `json:"profiles,omitempty"`
}

// ErrStalePlan is returned when a saved plan's targets changed since it
// was made.
var ErrStalePlan = errors.New("saved plan is stale")

// Save returns the plan as a saved plan file.
func (p *Plan) Save(version string, backend SavedBackend) ([]byte, error) {
	sp := SavedPlan{View: p.View, KmsgrantVersion: version, Backend: backend}
	body, err := marshalSaved(sp)
	if err != nil {
		return nil, err
	}
	sp.Checksum = digest(string(body))
	return marshalSaved(sp)
}

func marshalSaved(sp SavedPlan) ([]byte, error) {
	b, err := indentedJSON(sp)
	if err != nil {
		return nil, fmt.Errorf("writing the plan: %w", err)
	}
	return b, nil
}

// ReadSaved reads a saved plan file, refusing one that was edited,
// truncated, or is of another format version.
func ReadSaved(data []byte) (*SavedPlan, error) {
	var sp SavedPlan
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return nil, fmt.Errorf("not a complete kmsgrant plan file: %w", err)
	}
	if sp.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan file format_version %q; this kmsgrant applies %q", sp.FormatVersion, FormatVersion)
	}
	check := sp
	check.Checksum = ""
	body, err := marshalSaved(check)
	if err != nil {
		return nil, err
	}
	if sp.Checksum == "" || digest(string(body)) != sp.Checksum {
		return nil, errors.New("the plan file was changed after kmsgrant wrote it (checksum mismatch); make the plan again")
	}
	if len(sp.Blockers) > 0 {
		return nil, errors.New("the saved plan is blocked; nothing to apply")
	}
	return &sp, nil
}

// Plan rebuilds the plan to execute: exactly the saved after documents.
func (sp *SavedPlan) Plan() (*Plan, error) {
	res := &generate.Result{}
	for i, cv := range sp.Changes {
		c, err := cv.change()
		if err != nil {
			return nil, fmt.Errorf("change %d (%s of %s): %w", i+1, cv.Kind, cv.Target, err)
		}
		res.Changes = append(res.Changes, c)
	}
	return &Plan{Result: res, View: sp.View}, nil
}

// change turns a change of the JSON plan back into one to execute.
func (cv ChangeView) change() (generate.Change, error) {
	c := generate.Change{Kind: cv.Kind, Account: cv.Account, Target: cv.Target, PolicyName: cv.PolicyName, Action: cv.Action, Reason: cv.Reason}
	var err error
	if c.Before, _, _, err = canonical(cv.Kind, cv.Before); err != nil {
		return c, fmt.Errorf("before: %w", err)
	}
	if digest(c.Before) != cv.BeforeSHA256 {
		return c, errors.New("before does not match its checksum")
	}
	if c.After, c.Policy, c.Encryption, err = canonical(cv.Kind, cv.After); err != nil {
		return c, fmt.Errorf("after: %w", err)
	}
	if cv.Kind == generate.KindKeyGrants {
		grants, _ := generate.ParseGrantsJSON(c.After) // canonical read it
		c.KeyGrants = generate.OwnGrants(grants)
	}
	if cv.Kind == generate.KindIAMPolicy && cv.Action != generate.Manual {
		p, err := arns.ParsePrincipal(cv.Target, "")
		if err != nil {
			return c, err
		}
		c.Grantee = &p
	}
	return c, nil
}

// canonical parses a document of the JSON plan and returns its canonical
// text, which is what plans compare and hash, whatever the file's layout.
// A key_grants document's grants are read by the caller (grantsOf).
func canonical(kind string, raw json.RawMessage) (string, *policy.Document, *generate.Encryption, error) {
	if len(raw) == 0 || strings.TrimSpace(string(raw)) == "null" {
		return "", nil, nil, nil
	}
	if kind == generate.KindKeyGrants {
		grants, err := generate.ParseGrantsJSON(string(raw))
		if err != nil {
			return "", nil, nil, err
		}
		return generate.GrantsJSON(grants), nil, nil, nil
	}
	if kind == generate.KindBucketEncryption {
		var e generate.Encryption
		if err := json.Unmarshal(raw, &e); err != nil {
			return "", nil, nil, err
		}
		return generate.EncryptionJSON(&e), nil, &e, nil
	}
	d, err := policy.Parse(raw)
	if err != nil {
		return "", nil, nil, err
	}
	return d.Pretty(), d, nil, nil
}

// CheckStale compares each target with the before the saved plan showed,
// and names every one that moved since.
func CheckStale(ctx context.Context, b Backend, p *Plan) error {
	var moved []string
	for _, c := range p.Result.Changes {
		if !c.Writes() {
			continue
		}
		current, err := b.Current(ctx, c)
		if err != nil {
			return err
		}
		if digest(current) != digest(c.Before) {
			moved = append(moved, c.Kind+" "+c.Target)
		}
	}
	if len(moved) > 0 {
		return fmt.Errorf("%w: changed since the plan was made: %s; make the plan again", ErrStalePlan, strings.Join(moved, ", "))
	}
	return nil
}

// SamePlan checks that a saved plan writes exactly what a fresh plan of its
// grant writes: the same targets, actions and after documents.
func SamePlan(saved, fresh *Plan) error {
	key := func(c generate.Change) string { return c.Kind + " " + c.Target }
	want := map[string]generate.Change{}
	for _, c := range fresh.Result.Changes {
		want[key(c)] = c
	}
	var differ []string
	for _, c := range saved.Result.Changes {
		f, ok := want[key(c)]
		delete(want, key(c))
		if !ok || f.Action != c.Action || f.After != c.After || f.PolicyName != c.PolicyName {
			differ = append(differ, key(c))
		}
	}
	for k := range want {
		differ = append(differ, k)
	}
	if len(differ) > 0 {
		slices.Sort(differ)
		return fmt.Errorf("%w: it does not match what kmsgrant plans for its grant now (%s); make the plan again", ErrStalePlan, strings.Join(differ, ", "))
	}
	return nil
}
