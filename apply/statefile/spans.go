package statefile

import (
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
)

// entityKinds are the maps of an account whose members writes edit.
var entityKinds = map[string]bool{"buckets": true, "kms_keys": true, "iam_roles": true, "iam_users": true}

// spans is where each bucket, key, role and user of the file starts, so
// that a write edits inside its entity without reading the file from the
// top: a batch writes hundreds of documents into one file. It is made on
// the first write and kept in step with each edit.
type spans struct {
	// at is the position of each entity (accounts.ID.KIND.NAME) in
	// starts; starts is in file order.
	at     map[string]int
	starts []int64
}

func entityKey(path []string) string { return strings.Join(path[:4], "\x00") }

// entityStart returns where the entity a write at path edits inside
// starts; false when the path is not below one the index knows (a new
// entity or account), or the file has duplicate fields (see take).
func (f *File) entityStart(path []string) (int64, bool) {
	if len(path) < 5 || path[0] != "accounts" || !entityKinds[path[2]] || f.mergedFields {
		return 0, false
	}
	if f.spans == nil {
		f.spans = indexEntities(f.data)
	}
	i, ok := f.spans.at[entityKey(path)]
	if !ok {
		return 0, false
	}
	return f.spans.starts[i], true
}

// edited moves the entities after the one at path by the bytes an edit
// inside it added (or took away, when negative).
func (f *File) edited(path []string, delta int64) {
	if f.spans == nil || delta == 0 {
		return
	}
	i := f.spans.at[entityKey(path)]
	for j := i + 1; j < len(f.spans.starts); j++ {
		f.spans.starts[j] += delta
	}
}

// indexEntities reads data (a state file that passed Parse) once for where
// its entities start.
func indexEntities(data []byte) *spans {
	s := &spans{at: map[string]int{}}
	accounts, _, ok := jsonedit.Span(data, []string{"accounts"})
	if !ok || data[accounts] != '{' {
		return s
	}
	inObject := func(v int64, fn func(key string, value int64) (int64, error)) (int64, error) {
		if data[v] != '{' {
			return jsonedit.ValueEnd(data, v)
		}
		return jsonedit.Members(data, v, fn)
	}
	_, _ = inObject(accounts, func(id string, acct int64) (int64, error) {
		return inObject(acct, func(kind string, entities int64) (int64, error) {
			if !entityKinds[kind] {
				return jsonedit.ValueEnd(data, entities)
			}
			return inObject(entities, func(name string, v int64) (int64, error) {
				// The last of duplicate names is the one read.
				s.at[strings.Join([]string{"accounts", id, kind, name}, "\x00")] = len(s.starts)
				s.starts = append(s.starts, v)
				return jsonedit.ValueEnd(data, v)
			})
		})
	})
	return s
}

// Entity returns the bytes of the bucket, key, role or user at
// accounts.ID.KIND.NAME (path), found through the index writes keep; false
// when there is none.
func (f *File) Entity(path []string) ([]byte, bool) {
	if len(path) != 4 {
		return nil, false
	}
	if f.open != nil && entityKey(f.open.path) == entityKey(path) {
		text, at := f.open.win.Text()
		return jsonedit.ValueAt(text, at, nil)
	}
	start, ok := f.entityStart(append(slices.Clone(path), ""))
	if !ok {
		return nil, false
	}
	end, err := jsonedit.ValueEnd(f.data, start)
	if err != nil {
		return nil, false
	}
	return f.data[start:end], true
}

// openEntity is an entity whose edits are held in a window on it.
type openEntity struct {
	path []string // accounts.ID.KIND.NAME
	win  *jsonedit.Window
}

// entityWindow returns the window on the entity a write at path edits
// inside, opening it (and copying the edits of the one open before into
// data) unless it is open already; false when the index knows no such
// entity (see entityStart). A batch writes a role's inline
// policies, a bucket's policy and encryption, one after another: each
// write copies its entity, not the whole file, and the file is copied once
// per entity written, not once per write.
//
// While a window is open, data is as it was when the window was opened, so
// the index of where entities start holds for the others; everything that
// reads data as a whole (Bytes, Flush, a write outside any entity) closes
// the window first.
func (f *File) entityWindow(path []string) (*jsonedit.Window, bool) {
	if f.open != nil && len(path) > 4 && entityKey(f.open.path) == entityKey(path) {
		return f.open.win, true
	}
	// Closed first: the other window's edits move what follows it.
	f.closeEntity()
	start, ok := f.entityStart(path)
	if !ok {
		return nil, false
	}
	if key, ok := jsonedit.KeyBefore(f.data, start); !ok || key != path[3] {
		// Not where the index says: it is made again from the file
		// before the write edits the whole file.
		f.spans = nil
		return nil, false
	}
	w, err := jsonedit.OpenWindowAt(f.data, start)
	if err != nil {
		return nil, false
	}
	f.open = &openEntity{path: slices.Clone(path[:4]), win: w}
	return w, true
}

// closeEntity copies the open window's edits into data.
func (f *File) closeEntity() {
	if f.open == nil {
		return
	}
	before := int64(len(f.data))
	f.data = f.open.win.Close(f.data)
	f.edited(f.open.path, int64(len(f.data))-before)
	f.open = nil
}
