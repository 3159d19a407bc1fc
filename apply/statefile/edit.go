package statefile

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// takeEntity makes data f's contents after checking the one bucket, key,
// role or user that the edit at path changed (or the account it created),
// as take explains; where that cannot stand in for Parse, it parses data
// whole.
// at is where the entity starts when the write knew it (-1 otherwise).
func (f *File) takeEntity(path []string, at int64, data []byte) error {
	if bytes.Equal(data, f.data) {
		return nil // a deletion of what is not there
	}
	if f.mergedFields || len(path) < 4 || path[0] != "accounts" {
		return f.takeAll(data)
	}
	id, kind, name := path[1], path[2], path[3]
	// next checks the entity against the edited bytes, so that messages
	// give its place in them; f changes only once it passed.
	next := &File{name: f.name, data: data, docs: map[string]*policy.Document{}, checked: f.checked}
	acct := f.st.Accounts[id]
	where := slices.Clone(path[:4])
	if acct == nil {
		where = slices.Clone(path[:2])
	}
	start, end, ok := int64(0), int64(0), false
	if at >= 0 && len(where) == 4 {
		// An edit inside the entity leaves its start where it was.
		var err error
		start, ok = at, true
		if end, err = jsonedit.ValueEnd(data, at); err != nil {
			return f.takeAll(data)
		}
	} else {
		start, end, ok = jsonedit.Span(data, where)
	}
	if !ok {
		return f.takeAll(data)
	}
	raw := data[start:end]
	var commit func()
	switch {
	case acct == nil:
		// The edit created the account: all of it is new.
		var a *account
		if json.Unmarshal(raw, &a) != nil {
			return f.takeAll(data)
		}
		if _, err := next.walkKeyCase(start, accountShape, where); err != nil {
			return err
		}
		if err := next.withPolicies(next.checkAccount(id, a)); err != nil {
			return err
		}
		commit = func() {
			if f.st.Accounts == nil {
				f.st.Accounts = map[string]*account{}
			}
			f.st.Accounts[id] = a
		}
	case kind == "buckets":
		var b *bucket
		if json.Unmarshal(raw, &b) != nil {
			return f.takeAll(data)
		}
		if _, err := next.walkKeyCase(start, accountShape.fields[kind].each, where); err != nil {
			return err
		}
		if err := next.withPolicies(next.checkBucket(name, b, where)); err != nil {
			return err
		}
		commit = func() {
			if acct.Buckets == nil {
				acct.Buckets = map[string]*bucket{}
			}
			acct.Buckets[name] = b
		}
	case kind == "kms_keys":
		var k *key
		if json.Unmarshal(raw, &k) != nil {
			return f.takeAll(data)
		}
		if _, err := next.walkKeyCase(start, accountShape.fields[kind].each, where); err != nil {
			return err
		}
		if err := next.withPolicies(next.checkKey(id, name, k, where)); err != nil {
			return err
		}
		commit = func() {
			if acct.KMSKeys == nil {
				acct.KMSKeys = map[string]*key{}
			}
			acct.KMSKeys[name] = k
		}
	case kind == "iam_roles" || kind == "iam_users":
		var ident *identity
		if json.Unmarshal(raw, &ident) != nil {
			return f.takeAll(data)
		}
		if _, err := next.walkKeyCase(start, accountShape.fields[kind].each, where); err != nil {
			return err
		}
		if err := next.withPolicies(next.checkIdentity(acct, kind, name, ident, where)); err != nil {
			return err
		}
		ids := &acct.IAMRoles
		if kind == "iam_users" {
			ids = &acct.IAMUsers
		}
		commit = func() {
			if *ids == nil {
				*ids = map[string]*identity{}
			}
			(*ids)[name] = ident
		}
	default:
		return f.takeAll(data)
	}
	commit()
	prefix := strings.Join(where, "\x00") + "\x00"
	for p := range f.docs {
		if strings.HasPrefix(p, prefix) {
			delete(f.docs, p)
		}
	}
	for p, doc := range next.docs {
		f.docs[p] = doc
	}
	f.data = data
	return nil
}

// takeAll makes data f's contents after parsing it whole.
func (f *File) takeAll(data []byte) error {
	next, err := Parse(f.name, data)
	if err != nil {
		return err
	}
	f.data, f.st, f.docs, f.mergedFields, f.checked = next.data, next.st, next.docs, next.mergedFields, next.checked
	f.spans = nil
	return nil
}
