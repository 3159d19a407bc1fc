package statefile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

var (
	_ apply.Backend = (*File)(nil)
	_ apply.Namer   = (*File)(nil)
)

// BucketNames implements apply.Namer: every bucket of the file.
func (f *File) BucketNames(context.Context) []string {
	var out []string
	for _, a := range f.st.Accounts {
		out = append(out, sortedKeys(a.Buckets)...)
	}
	slices.Sort(out)
	return out
}

// AliasNames implements apply.Namer.
func (f *File) AliasNames(_ context.Context, account, region string) []string {
	var out []string
	if a := f.st.Accounts[account]; a != nil {
		for arn, k := range a.KMSKeys {
			if parsed, err := arns.ParseKeyARN(arn); err == nil && parsed.Region == region {
				for _, al := range k.Aliases {
					if !strings.HasPrefix(al, "alias/aws/") {
						out = append(out, al)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// PrincipalNames implements apply.Namer: the account's roles or users, as
// path/NAME without the leading slash.
func (f *File) PrincipalNames(_ context.Context, account string, kind arns.PrincipalKind) []string {
	a := f.st.Accounts[account]
	if a == nil {
		return nil
	}
	ids := a.IAMRoles
	if kind == arns.User {
		ids = a.IAMUsers
	}
	var out []string
	for _, name := range sortedKeys(ids) {
		out = append(out, strings.TrimPrefix(orRoot(ids[name].Path), "/")+name)
	}
	return out
}

// Bucket implements apply.Backend. Bucket names are global, so any account
// of the file may hold it.
func (f *File) Bucket(_ context.Context, name string) (*generate.Bucket, error) {
	for _, id := range sortedKeys(f.st.Accounts) {
		b, ok := f.st.Accounts[id].Buckets[name]
		if !ok {
			continue
		}
		out := &generate.Bucket{
			Name: name, Account: id, Region: b.Region, Ownership: b.ObjectOwnership,
			Policy: f.doc("accounts", id, "buckets", name, "policy"),
		}
		if e := b.DefaultEncryption; e != nil {
			out.Encryption = &generate.Encryption{Algorithm: e.SSEAlgorithm, KMSMasterKeyID: e.KMSMasterKeyID, BucketKeyEnabled: e.BucketKeyEnabled}
		}
		if len(b.Objects) > 0 {
			out.Objects = map[string]generate.Object{}
			for k, o := range b.Objects {
				obj := generate.Object{Algorithm: o.SSEAlgorithm, KMSKeyID: o.SSEKMSKeyID, Owner: o.Owner}
				for id, v := range o.Versions {
					if obj.Versions == nil {
						obj.Versions = map[string]generate.Object{}
					}
					obj.Versions[id] = generate.Object{Algorithm: v.SSEAlgorithm, KMSKeyID: v.SSEKMSKeyID, Owner: v.Owner}
				}
				out.Objects[k] = obj
			}
		}
		return out, nil
	}
	return nil, nil
}

// Key implements apply.Backend: ARNs name their own account and Region;
// key IDs and alias names resolve in the caller's.
func (f *File) Key(_ context.Context, ref arns.KeyRef, account, region string) (*generate.Key, error) {
	if ref.Account != "" {
		account, region = ref.Account, ref.Region
	}
	acct := f.st.Accounts[account]
	notFound := apply.ErrKeyNotFound
	if ref.Form == arns.AliasName || ref.Form == arns.AliasARN {
		notFound = apply.ErrAliasNotFound
	}
	if acct == nil {
		return nil, notFound
	}
	for _, keyARN := range sortedKeys(acct.KMSKeys) {
		k := acct.KMSKeys[keyARN]
		parsed, _ := arns.ParseKeyARN(keyARN)
		if parsed.Region != region {
			continue
		}
		var match bool
		switch ref.Form {
		case arns.KeyARN, arns.KeyID:
			match = parsed.ID == ref.ID
		case arns.AliasName, arns.AliasARN:
			match = slices.Contains(k.Aliases, ref.ID)
		}
		if !match {
			continue
		}
		out := &generate.Key{
			ARN: keyARN, Account: account, Region: region,
			Manager: k.KeyManager, State: k.KeyState, Aliases: k.Aliases,
			Policy:       f.doc("accounts", account, "kms_keys", keyARN, "policy"),
			GrantsUnread: k.GrantsUnreadable,
		}
		for _, g := range k.Grants {
			out.Grants = append(out.Grants, g.kms())
		}
		return out, nil
	}
	return nil, notFound
}

// Grantee implements apply.Backend. The role or user must exist with the
// path the ARN gives; a role named by a session ARN (no path) takes the
// role's.
func (f *File) Grantee(_ context.Context, p arns.Principal) (*generate.Grantee, error) {
	kind := "iam_roles"
	if p.Kind == arns.User {
		kind = "iam_users"
	}
	notFound := &apply.GranteeNotFoundError{Grantee: p.ARN(),
		Where: fmt.Sprintf("%s has no accounts.%s.%s.%s", f.name, p.Account, kind, p.Name)}
	acct := f.st.Accounts[p.Account]
	if acct != nil && acct.IAMUnreadable {
		return nil, nil
	}
	if acct == nil {
		return nil, notFound
	}
	ids := acct.IAMRoles
	if p.Kind == arns.User {
		ids = acct.IAMUsers
	}
	ident, ok := ids[p.Name]
	if !ok {
		return nil, notFound
	}
	path := orRoot(ident.Path)
	if p.Path == "" {
		// A role named by a session ARN: its path is the role's.
		p.Path = path
	}
	if path != p.Path {
		notFound.Where = fmt.Sprintf("%s has %s %s with path %s, not %s", f.name, p.Kind, p.Name, path, p.Path)
		return nil, notFound
	}
	g := &generate.Grantee{Principal: p}
	for _, name := range sortedKeys(ident.InlinePolicies) {
		g.Inline = append(g.Inline, generate.NamedPolicy{Name: name, Doc: f.doc("accounts", p.Account, kind, p.Name, "inline_policies", name)})
	}
	for _, a := range ident.AttachedPolicies {
		g.Attached = append(g.Attached, generate.NamedPolicy{Name: a, Doc: f.doc("managed_policies", a)})
	}
	for _, name := range ident.Groups {
		grp := acct.IAMGroups[name]
		group := generate.Group{Name: name}
		for _, pn := range sortedKeys(grp.InlinePolicies) {
			group.Inline = append(group.Inline, generate.NamedPolicy{Name: pn, Doc: f.doc("accounts", p.Account, "iam_groups", name, "inline_policies", pn)})
		}
		for _, a := range grp.AttachedPolicies {
			group.Attached = append(group.Attached, generate.NamedPolicy{Name: a, Doc: f.doc("managed_policies", a)})
		}
		g.Groups = append(g.Groups, group)
	}
	if ident.PermissionsBoundary != "" {
		g.Boundary = &generate.NamedPolicy{Name: ident.PermissionsBoundary, Doc: f.doc("managed_policies", ident.PermissionsBoundary)}
	}
	return g, nil
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// Current implements apply.Backend. Writes of this run are included; edits
// by others since the file was read are caught by Flush.
func (f *File) Current(_ context.Context, c generate.Change) (string, error) {
	path, err := changePath(c)
	if err != nil {
		return "", err
	}
	if c.Kind == generate.KindBucketEncryption {
		b, err := f.Bucket(context.Background(), bucketName(c.Target))
		if err != nil || b == nil {
			return "", err
		}
		return generate.EncryptionJSON(b.Encryption), nil
	}
	if c.Kind == generate.KindKeyGrants {
		k, err := f.key(c)
		if err != nil {
			return "", err
		}
		var grants []generate.KMSGrant
		for _, g := range k.Grants {
			grants = append(grants, g.kms())
		}
		return generate.GrantsJSON(grants), nil
	}
	return f.doc(path...).Pretty(), nil
}

// Write implements apply.Backend by editing the file's bytes in memory;
// Flush writes them. A write inside a bucket, key, role or user the file
// has edits that entity alone, in a window (see entityWindow); a write that
// adds an entity or an account, or that the window cannot take, edits the
// whole file.
func (f *File) Write(_ context.Context, c generate.Change) error {
	path, err := changePath(c)
	if err != nil {
		return err
	}
	if w, ok := f.entityWindow(path); ok && f.writeInWindow(w, path, c) == nil {
		return nil
	}
	// Made on the whole file, an edit that fails gives its message with
	// its place in the file.
	f.closeEntity()
	at, rel := int64(-1), path
	if start, ok := f.entityStart(path); ok {
		at, rel = start, path[4:]
	}
	t := &wholeText{data: f.data, at: at}
	err = f.edit(t, c, path, rel)
	before := int64(len(f.data))
	if err := f.take(path, at, t.data, err); err != nil {
		return err
	}
	if at < 0 {
		f.spans = nil // made again on the next write
	} else {
		f.edited(path, int64(len(f.data))-before)
	}
	return nil
}

// writeInWindow makes change c in w, the window on the entity at path, once
// the entity checks as Parse would check it; otherwise the window is left
// as it was and the error returned.
func (f *File) writeInWindow(w *jsonedit.Window, path []string, c generate.Change) error {
	text, _ := w.Text()
	saved := slices.Clone(text)
	err := f.edit(w, c, path, path[4:])
	if err == nil {
		text, at := w.Text()
		if bytes.Equal(text, saved) {
			return nil // a deletion of what is not there
		}
		var commit func()
		if commit, err = f.checkEntity(path, at, text); err == nil {
			commit()
			f.dirty = true
			return nil
		}
	}
	w.Reset(saved)
	return err
}

// text is what a write edits: a window on one entity, or the whole file.
// Paths start inside the entity for a window, at the top of the file for
// the whole file without an entity.
type text interface {
	Set(path []string, value []byte) error
	Append(path []string, value []byte) error
	Delete(path []string) error
	Value(path []string) ([]byte, bool)
}

// wholeText is the file's bytes as a text, path starting at the object at
// data[at] (-1: the top).
type wholeText struct {
	data []byte
	at   int64
}

func (t *wholeText) Set(path []string, value []byte) error {
	out, err := jsonedit.SetAt(t.data, t.at, path, value)
	if err == nil {
		t.data = out
	}
	return err
}

func (t *wholeText) Append(path []string, value []byte) error {
	out, err := jsonedit.AppendAt(t.data, t.at, path, value)
	if err == nil {
		t.data = out
	}
	return err
}

func (t *wholeText) Delete(path []string) error {
	out, err := jsonedit.DeleteAt(t.data, t.at, path)
	if err == nil {
		t.data = out
	}
	return err
}

func (t *wholeText) Value(path []string) ([]byte, bool) { return jsonedit.ValueAt(t.data, t.at, path) }

// edit makes change c, whose document is at path (rel from where t's paths
// start), in t.
func (f *File) edit(t text, c generate.Change, path, rel []string) error {
	switch {
	case c.Kind == generate.KindKeyGrants:
		return f.editGrants(t, c, rel)
	case c.Action == generate.Delete:
		return t.Delete(rel)
	case c.Kind == generate.KindBucketEncryption:
		id, err := json.Marshal(c.Encryption.KMSMasterKeyID)
		if err != nil {
			return err
		}
		return t.Set(rel, id)
	}
	return f.editPolicy(t, path, rel, c.Policy)
}

// key is the key a key_grants change is to.
func (f *File) key(c generate.Change) (*key, error) {
	if acct := f.st.Accounts[c.Account]; acct != nil && acct.KMSKeys[c.Target] != nil {
		return acct.KMSKeys[c.Target], nil
	}
	return nil, fmt.Errorf("%s has no accounts.%s.kms_keys.%s", f.name, c.Account, c.Target)
}

// editGrants makes the grants change c creates and revokes those it
// revokes (generate.GrantsDelta), as the live backend does: every other
// grant stays as it is, text and place. A new grant is appended with an ID
// of 64 hex digits, as KMS gives, made from what it is.
func (f *File) editGrants(t text, c generate.Change, rel []string) error {
	k, err := f.key(c)
	if err != nil {
		return err
	}
	create, revoke, err := generate.GrantsDelta(c.Before, c.After)
	if err != nil {
		return err
	}
	made, revoked := generate.GrantSetOf(create), generate.GrantSetOf(revoke)
	var items [][]byte
	for i, g := range k.Grants {
		kg := g.kms()
		if generate.IsOwnGrant(kg) && revoked.Has(kg) {
			continue
		}
		delete(made, generate.GrantIdentity(kg)) // there already
		item, ok := t.Value(append(slices.Clone(rel), strconv.Itoa(i)))
		if !ok {
			return fmt.Errorf("editing %s: grant %d of %s is not where it was read", f.name, i, c.Target)
		}
		items = append(items, item)
	}
	for _, g := range create {
		if !made.Has(g) {
			continue
		}
		sum := sha256.Sum256([]byte(c.Target + "\x00" + generate.GrantIdentity(g)))
		g.ID = hex.EncodeToString(sum[:])
		item, err := json.Marshal(grantOf(g))
		if err != nil {
			return err
		}
		items = append(items, item)
	}
	switch {
	case len(items) == len(k.Grants) && len(create) == 0 && len(revoke) == 0:
		return nil
	case len(items) == 0 && len(k.Grants) == 0:
		return nil
	case len(items) == 0:
		return t.Delete(rel)
	}
	return t.Set(rel, append(append([]byte("["), bytes.Join(items, []byte(", "))...), ']'))
}

// take makes data, the file's contents with one edit at path, the file's
// contents, once it passes what Parse checks: later reads in this run see
// the edit, and an edit that would make the file invalid never reaches the
// disk.
//
// It does not parse the whole file again, which would make every write
// cost what Open costs. What stands in for that is an invariant: f.data
// passes Parse, and f.st and f.docs are what Parse reads from it. Every
// write edits below one entity, accounts.ID.KIND.NAME (a bucket, key, role
// or user), and keeps the invariant because
//
//   - the result is JSON: jsonedit only puts in or takes out a whole value,
//     member or element and checks that text in its place (put, cut), and
//     leaves the rest of the valid old bytes as they were;
//   - only the entity changed: jsonedit edits inside the value at the path,
//     or, where the entity or its account does not exist yet, adds one
//     member that holds it; it never adds a key that is already there,
//     since it edits the last of duplicate keys;
//   - the entity (or a new account, whole) is checked as Parse checks it:
//     decoded alone, which reads what decoding the file reads since it is
//     a map member (the last of duplicate names wins, whole, there and in
//     jsonedit), then its keys, fields, names and policies, with the
//     messages and positions Parse would give;
//   - no check Parse makes across entities can change: no write edits a
//     group, a managed policy or format_version.
//
// encoding/json merges a known field given twice in one object ("buckets"
// twice in an account), so an entity under it may not decode alone as it
// does in the file. Parse notes such files (mergedFields); they are parsed
// whole after each write, as is an edit anywhere else.
func (f *File) take(path []string, at int64, data []byte, err error) error {
	if err != nil {
		return fmt.Errorf("editing %s: %w", f.name, err)
	}
	if err := f.takeEntity(path, at, data); err != nil {
		return fmt.Errorf("the edited state file does not check: %w", err)
	}
	f.dirty = true
	return nil
}

// Restore implements apply.Restorer: the change's target goes back to its
// Before document; a target that had none is removed.
func (f *File) Restore(ctx context.Context, c generate.Change) error {
	back, err := c.Reversed()
	if err != nil {
		return err
	}
	return f.Write(ctx, back)
}

// changePath is where a change's document lives in the file.
func changePath(c generate.Change) ([]string, error) {
	switch c.Kind {
	case generate.KindBucketPolicy:
		return []string{"accounts", c.Account, "buckets", bucketName(c.Target), "policy"}, nil
	case generate.KindKeyPolicy:
		return []string{"accounts", c.Account, "kms_keys", c.Target, "policy"}, nil
	case generate.KindKeyGrants:
		return []string{"accounts", c.Account, "kms_keys", c.Target, "grants"}, nil
	case generate.KindIAMPolicy:
		if c.Grantee == nil {
			return nil, fmt.Errorf("iam_policy change for %s names no role or user", c.Target)
		}
		kind := "iam_roles"
		if c.Grantee.Kind == arns.User {
			kind = "iam_users"
		}
		return []string{"accounts", c.Account, kind, c.Grantee.Name, "inline_policies", c.PolicyName}, nil
	case generate.KindBucketEncryption:
		return []string{"accounts", c.Account, "buckets", bucketName(c.Target), "default_encryption", "kms_master_key_id"}, nil
	}
	return nil, fmt.Errorf("unknown change kind %q", c.Kind)
}

// editPolicy writes doc, the document at path (rel in t). Where doc is the
// document already there with statements changed or appended, only those
// statements are edited, so the statements kmsgrant did not touch keep
// their lines in the file.
func (f *File) editPolicy(t text, path, rel []string, doc *policy.Document) error {
	old := f.doc(path...)
	if old == nil || old.StatementIsObject() || doc.StatementIsObject() ||
		old.Version != doc.Version || old.ID != doc.ID || len(doc.Statements) < len(old.Statements) {
		return t.Set(rel, doc.Compact())
	}
	statements := append(slices.Clone(rel), "Statement")
	for i, st := range doc.Statements {
		var err error
		switch {
		case i >= len(old.Statements):
			err = t.Append(statements, []byte(st.String()))
		case st.String() != old.Statements[i].String():
			err = t.Set(append(slices.Clone(statements), strconv.Itoa(i)), []byte(st.String()))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func bucketName(bucketARN string) string {
	return bucketARN[strings.LastIndex(bucketARN, ":")+1:]
}

// Flush implements apply.Backend: the file is replaced in one rename of a
// fully written temporary file with the same permissions, so a crash or an
// error leaves either the old file or the new one, never half of one.
func (f *File) Flush(context.Context) error {
	if !f.dirty {
		return nil
	}
	f.closeEntity()
	if f.read != ([sha256.Size]byte{}) {
		// kmsgrant runs that write hold the state lock (AcquireLock) from
		// their read to here, so this catches only programs that do not
		// take it, such as an editor. (One that writes between this check
		// and the rename below is still overwritten: only the lock closes
		// that window.)
		current, err := apply.ReadFile(f.target, apply.MaxFileSize)
		if err != nil {
			return fmt.Errorf("writing state file: %w", err)
		}
		if sha256.Sum256(current) != f.read {
			return &staleError{name: f.name}
		}
	}
	dir := filepath.Dir(f.target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(f.data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Chmod(f.perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.target); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	f.dirty = false
	return nil
}

// WritesAtFlush implements apply.Transactional: nothing reaches the disk
// before Flush.
func (f *File) WritesAtFlush() bool { return true }

// Bytes returns the file's current contents, with writes not yet flushed.
func (f *File) Bytes() []byte {
	f.closeEntity()
	return f.data
}

// staleError says that the state file changed on disk after it was read.
// It matches apply.ErrStale; apply's WriteError adds that nothing was
// written.
type staleError struct{ name string }

func (e *staleError) Error() string {
	return fmt.Sprintf("state file %s changed since kmsgrant read it (a program that does not take the state lock wrote it)", e.name)
}

func (e *staleError) Is(target error) bool { return target == apply.ErrStale }
