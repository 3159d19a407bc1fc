package statefile

import (
	"bytes"
	"encoding/json"
	"errors"
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
	done, err := f.checkEntity(path, at, data)
	if errors.Is(err, errWhole) {
		return f.takeAll(data)
	}
	if err != nil {
		return err
	}
	done()
	f.data = data
	return nil
}

// errWhole says that checking one entity cannot stand in for parsing the
// whole file (see take).
var errWhole = errors.New("the file must be parsed whole")

// checkEntity checks the entity at path as the edited text data holds it,
// starting at data[at] (-1: found by its path from the top of data), as
// Parse would check it, and returns what makes f's parsed state hold it; or
// errWhole where that cannot stand in for Parse. data may be the whole file
// or a window on the entity alone.
func (f *File) checkEntity(path []string, at int64, data []byte) (commit func(), err error) {
	if f.mergedFields || len(path) < 4 || path[0] != "accounts" {
		return nil, errWhole
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
			return nil, errWhole
		}
	} else {
		start, end, ok = jsonedit.Span(data, where)
	}
	if !ok {
		return nil, errWhole
	}
	raw := data[start:end]
	var set func()
	switch {
	case acct == nil:
		// The edit created the account: all of it is new.
		var a *account
		if json.Unmarshal(raw, &a) != nil {
			return nil, errWhole
		}
		if _, err := next.walkKeyCase(start, accountShape, where); err != nil {
			return nil, err
		}
		if err := next.withPolicies(next.checkAccount(id, a)); err != nil {
			return nil, err
		}
		set = func() {
			if f.st.Accounts == nil {
				f.st.Accounts = map[string]*account{}
			}
			f.st.Accounts[id] = a
		}
	case kind == "buckets":
		var b *bucket
		if json.Unmarshal(raw, &b) != nil {
			return nil, errWhole
		}
		if _, err := next.walkKeyCase(start, accountShape.fields[kind].each, where); err != nil {
			return nil, err
		}
		if err := next.withPolicies(next.checkBucket(name, b, where)); err != nil {
			return nil, err
		}
		set = func() {
			if acct.Buckets == nil {
				acct.Buckets = map[string]*bucket{}
			}
			acct.Buckets[name] = b
		}
	case kind == "kms_keys":
		var k *key
		if json.Unmarshal(raw, &k) != nil {
			return nil, errWhole
		}
		if _, err := next.walkKeyCase(start, accountShape.fields[kind].each, where); err != nil {
			return nil, err
		}
		if err := next.withPolicies(next.checkKey(id, name, k, where)); err != nil {
			return nil, err
		}
		set = func() {
			if acct.KMSKeys == nil {
				acct.KMSKeys = map[string]*key{}
			}
			acct.KMSKeys[name] = k
		}
	case kind == "iam_roles" || kind == "iam_users":
		var ident *identity
		if json.Unmarshal(raw, &ident) != nil {
			return nil, errWhole
		}
		if _, err := next.walkKeyCase(start, accountShape.fields[kind].each, where); err != nil {
			return nil, err
		}
		if err := next.withPolicies(next.checkIdentity(acct, kind, name, ident, where)); err != nil {
			return nil, err
		}
		ids := &acct.IAMRoles
		if kind == "iam_users" {
			ids = &acct.IAMUsers
		}
		set = func() {
			if *ids == nil {
				*ids = map[string]*identity{}
			}
			(*ids)[name] = ident
		}
	default:
		return nil, errWhole
	}
	return func() {
		set()
		prefix := strings.Join(where, "\x00") + "\x00"
		for p := range f.docs {
			if strings.HasPrefix(p, prefix) {
				delete(f.docs, p)
			}
		}
		for p, doc := range next.docs {
			f.docs[p] = doc
		}
	}, nil
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
