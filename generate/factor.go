package generate

import (
	"slices"
	"strings"
	"sync"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// A policy's kmsgrant statements are, taken apart, a set of grants of one
// principal (none, in an identity policy) to one scope value (an object
// ARN, an s3:prefix pattern, an encryption context ARN) under one form: the
// rest of the statement, effect, actions, resource and conditions. Put back
// together, the scopes that the same principals hold under the same form
// share one statement, listing those principals and those scopes. That is
// exact: an Allow of principals P on scopes S grants every p in P every s
// in S, and in no other pairing are both lists shared, so no principal
// gains a scope it was not granted. It is what keeps a data lake's
// documents within AWS's size limits: one statement per set of grantees,
// not per grantee and prefix.
//
// Only statements in the exact form kmsgrant writes are taken apart (see
// pristine): a kmsgrant statement someone edited is left as it is.

// factoring holds the kmsgrant statements of one document taken apart.
type factoring struct {
	kind  string
	forms []*form
	byKey map[string]*form
}

// form is the rest of a statement once its principals and scope values
// are taken out, and who holds which scope under it.
type form struct {
	// base is the statement with no Sid, no principal and no scope value.
	base policy.Statement
	// cond is the index of the condition that holds the scope values;
	// -1 when the scope is the Resource.
	cond int
	// identity is set for statements without a principal.
	identity bool
	// scopes in the order first seen, and each one's principals in the
	// order first seen.
	scopes  []string
	holders map[string][]string
}

func newFactoring(kind string) *factoring {
	return &factoring{kind: kind, byKey: map[string]*form{}}
}

// scopeKeys are the condition keys whose StringLike values are a kmsgrant
// statement's scope: the objects a key statement decrypts for, the
// prefixes a ListBucket statement lists.
var scopeKeys = []string{"kms:encryptioncontext:aws:s3:arn", "s3:prefix"}

// scopeCondition returns the index of a statement's scope condition, -1
// when its scope is its Resource.
func scopeCondition(st policy.Statement) int {
	for i, c := range st.Condition {
		if c.Operator == "StringLike" && slices.Contains(scopeKeys, strings.ToLower(c.Key)) {
			return i
		}
	}
	return -1
}

// pristine reports whether a statement is one of kmsgrant's in the exact
// form it writes them: an Allow to AWS principals (or, in an identity
// policy, none) whose Sid is the one kmsgrant gives that form.
func (f *factoring) pristine(st policy.Statement) bool {
	if !st.HasSidPrefix(SidPrefix) || st.Effect != policy.Allow || st.NotPrincipal != nil ||
		st.NotAction.IsSet() || st.NotResource.IsSet() || !st.Action.IsSet() || !st.Resource.IsSet() {
		return false
	}
	if p := st.Principal; p != nil && (p.Wildcard || len(p.Types) != 1 || len(p.AWS()) == 0) {
		return false
	}
	sid := sidFor(f.kind, st.Action.List, st)
	return st.Sid == sid || strings.HasPrefix(st.Sid, sid+"V")
}

// parts is what taking one statement apart finds: whether it is pristine,
// its form and its scope values, and its text without its Sid.
type parts struct {
	pristine   bool
	key        string
	base       policy.Statement
	cond       int
	principals []string
	scopes     []string
	text       string
}

// partsCache keeps what taking statements apart found, by kind and
// statement text: a batch plans hundreds of grants into the same documents,
// and each plan takes their statements apart again.
var partsCache = struct {
	sync.Mutex
	m map[string]*parts
}{m: map[string]*parts{}}

// partsCacheSize bounds the cache; it starts again when full.
const partsCacheSize = 1 << 16

func (f *factoring) partsOf(st policy.Statement) *parts {
	id := f.kind + "\x00" + st.String()
	partsCache.Lock()
	p, ok := partsCache.m[id]
	partsCache.Unlock()
	if ok {
		return p
	}
	p = &parts{pristine: f.pristine(st), text: withoutSid(st)}
	if p.pristine {
		p.base = st.Clone()
		p.base.Sid, p.base.Principal = "", nil
		p.cond = scopeCondition(st)
		if p.cond < 0 {
			p.scopes, p.base.Resource = st.Resource.List, policy.Values{}
		} else {
			p.scopes, p.base.Condition[p.cond].Values = st.Condition[p.cond].Values.List, policy.Values{}
		}
		p.key = p.base.String()
		p.principals = []string{""}
		if st.Principal != nil {
			p.principals = st.Principal.AWS()
		}
	}
	partsCache.Lock()
	if len(partsCache.m) >= partsCacheSize {
		partsCache.m = map[string]*parts{}
	}
	partsCache.m[id] = p
	partsCache.Unlock()
	return p
}

// add takes a statement apart; it reports false, and takes nothing, for a
// statement that is not pristine.
func (f *factoring) add(st policy.Statement) bool {
	p := f.partsOf(st)
	if !p.pristine {
		return false
	}
	fm, ok := f.byKey[p.key]
	if !ok {
		fm = &form{base: p.base, cond: p.cond, identity: st.Principal == nil, holders: map[string][]string{}}
		f.byKey[p.key] = fm
		f.forms = append(f.forms, fm)
	}
	for _, s := range p.scopes {
		if _, seen := fm.holders[s]; !seen {
			fm.scopes = append(fm.scopes, s)
			fm.holders[s] = nil
		}
		for _, pr := range p.principals {
			if !slices.Contains(fm.holders[s], pr) {
				fm.holders[s] = append(fm.holders[s], pr)
			}
		}
	}
	return true
}

// statement is the form granting principals the scopes.
func (fm *form) statement(principals, scopes []string) policy.Statement {
	st := fm.base.Clone()
	if !fm.identity {
		st.Principal = &policy.Principal{Types: map[string]policy.Values{"AWS": policy.Strings(principals...)}}
	}
	if fm.cond < 0 {
		st.Resource = policy.Strings(scopes...)
	} else {
		st.Condition[fm.cond].Values = policy.Values{List: slices.Clone(scopes)}
	}
	return st
}

// statements puts the statements back together: per form, the grants of
// each principal to each scope, as few statements as the two exact ways
// of putting them together give: one statement for each set of
// principals holding the same scopes, or one for each set of scopes held by
// the same principals, whichever is shorter. Each has the Sid kmsgrant
// gives its form.
func (f *factoring) statements() []policy.Statement {
	var out []policy.Statement
	for _, fm := range f.forms {
		groups := fm.byScope()
		if other := fm.byPrincipal(); length(other) < length(groups) {
			groups = other
		}
		for _, g := range groups {
			st := fm.statement(g.principals, g.scopes)
			st.Sid = sidFor(f.kind, st.Action.List, st)
			out = append(out, st)
		}
	}
	return out
}

// group is the principals of a statement and its scopes: every principal
// holds every scope.
type group struct{ principals, scopes []string }

// byScope puts the scopes that the same principals hold together.
func (fm *form) byScope() []group {
	var groups []group
	at := map[string]int{}
	for _, s := range fm.scopes {
		holders := fm.holders[s]
		if len(holders) == 0 {
			continue
		}
		key := strings.Join(slices.Sorted(slices.Values(holders)), "\n")
		i, ok := at[key]
		if !ok {
			i = len(groups)
			at[key] = i
			groups = append(groups, group{principals: holders})
		}
		groups[i].scopes = append(groups[i].scopes, s)
	}
	return groups
}

// byPrincipal puts the principals that hold the same scopes together.
func (fm *form) byPrincipal() []group {
	var principals []string
	held := map[string][]string{}
	for _, s := range fm.scopes {
		for _, p := range fm.holders[s] {
			if _, ok := held[p]; !ok {
				principals = append(principals, p)
			}
			held[p] = append(held[p], s)
		}
	}
	var groups []group
	at := map[string]int{}
	for _, p := range principals {
		key := strings.Join(slices.Sorted(slices.Values(held[p])), "\n")
		i, ok := at[key]
		if !ok {
			i = len(groups)
			at[key] = i
			groups = append(groups, group{scopes: held[p]})
		}
		groups[i].principals = append(groups[i].principals, p)
	}
	return groups
}

// length is about how many bytes statements of groups take: their
// principals and scopes, and what each statement repeats.
func length(groups []group) int {
	const perStatement = 250
	n := 0
	for _, g := range groups {
		n += perStatement
		for _, p := range g.principals {
			n += len(p) + 3
		}
		for _, s := range g.scopes {
			n += len(s) + 3
		}
	}
	return n
}

// refactor takes doc's pristine kmsgrant statements apart, lets edit add
// to or take from them, and puts them back together into a new document.
// Every other statement is kept as it was, in place. A statement that
// comes back the same keeps its place and its bytes; one whose principals
// changed takes the place of the statement with its Sid; the others go at
// the end, under Sids no other statement uses.
func refactor(kind string, doc *policy.Document, edit func(*factoring)) *policy.Document {
	f := newFactoring(kind)
	taken := make([]bool, len(doc.Statements))
	for i, st := range doc.Statements {
		taken[i] = f.add(st)
	}
	edit(f)
	rebuilt := f.statements()
	placed := make([]bool, len(rebuilt))
	byText, bySid := map[string]int{}, map[string]int{}
	for i, r := range rebuilt {
		byText[withoutSid(r)] = i
		bySid[r.Sid] = i
	}
	out := doc.Clone()
	out.Statements = nil
	for i, st := range doc.Statements {
		if !taken[i] {
			out.Append(st)
			continue
		}
		if same, ok := byText[f.partsOf(st).text]; ok && !placed[same] {
			placed[same] = true
			out.Append(st)
			continue
		}
		if j, ok := bySid[st.Sid]; ok && !placed[j] {
			placed[j] = true
			out.Append(withText(rebuilt[j]))
		}
	}
	for i, st := range rebuilt {
		if !placed[i] {
			st.Sid = uniqueSid(out, st.Sid)
			out.Append(withText(st))
		}
	}
	return out
}

// withText returns a statement built from its fields as if read from its
// text, which it then keeps: the next plan of a batch reads it without
// writing it out again.
func withText(st policy.Statement) policy.Statement {
	parsed, err := policy.ParseStatement([]byte(st.String()))
	if err != nil {
		panic("generate: a statement kmsgrant built does not parse: " + err.Error())
	}
	return parsed
}

// withoutSid is a statement's text from its fields, with no Sid.
//
// Lists are sorted and their string-or-list shapes forgotten: the order a
// statement lists its principals, actions, resources or condition values
// in does not change what it grants, and a statement kmsgrant wrote in
// another order is kept as it is rather than written again.
func withoutSid(st policy.Statement) string {
	c := st.Clone()
	c.Sid = ""
	sorted := func(v *policy.Values) {
		v.List = slices.Sorted(slices.Values(v.List))
		v.Single = false
	}
	for _, v := range []*policy.Values{&c.Action, &c.NotAction, &c.Resource, &c.NotResource} {
		if v.IsSet() {
			sorted(v)
		}
	}
	if c.Principal != nil {
		for t, v := range c.Principal.Types {
			sorted(&v)
			c.Principal.Types[t] = v
		}
	}
	for i := range c.Condition {
		sorted(&c.Condition[i].Values)
	}
	return c.String()
}

// revoke takes from principal ("" in an identity policy) every scope value
// that one of shapes grants under the same form, whatever the actions: the
// statements kmsgrant could have written for the revoked grant. A value
// that names only a bucket (the encryption context S3 gives a bucket key)
// is kept while the principal still holds an object ARN of that bucket
// under the same form: another of its grants needs it too.
//
// It reports whether it took anything.
func (f *factoring) revoke(principal string, shapes []policy.Statement) (took bool) {
	revoked := map[string]map[string]bool{}
	for _, sh := range shapes {
		key, values := scopeParts(sh)
		if revoked[key] == nil {
			revoked[key] = map[string]bool{}
		}
		for _, v := range values {
			revoked[key][v] = true
		}
	}
	for _, fm := range f.forms {
		values := revoked[formKey(fm.base, fm.cond)]
		if values == nil {
			continue
		}
		drop := func(s string) {
			n := len(fm.holders[s])
			fm.holders[s] = slices.DeleteFunc(fm.holders[s], func(p string) bool { return p == principal })
			took = took || len(fm.holders[s]) < n
		}
		for _, s := range fm.scopes {
			if values[s] && !isBucketARN(s) {
				drop(s)
			}
		}
		for _, s := range fm.scopes {
			if values[s] && isBucketARN(s) && !fm.holdsUnder(principal, s+"/") {
				drop(s)
			}
		}
	}
	return took
}

// holdsUnder reports whether principal holds a scope value starting with
// prefix.
func (fm *form) holdsUnder(principal, prefix string) bool {
	for _, s := range fm.scopes {
		if strings.HasPrefix(s, prefix) && slices.Contains(fm.holders[s], principal) {
			return true
		}
	}
	return false
}

// isBucketARN reports whether a scope value is a bucket's ARN, not an
// object ARN or a key prefix.
func isBucketARN(s string) bool {
	_, name, ok := strings.Cut(s, ":::")
	return strings.HasPrefix(s, "arn:") && ok && !strings.Contains(name, "/")
}

// scopeParts takes a statement apart into the key of its form without its
// actions, and its scope values.
func scopeParts(st policy.Statement) (string, []string) {
	cond := scopeCondition(st)
	if cond < 0 {
		return formKey(st, cond), st.Resource.List
	}
	return formKey(st, cond), st.Condition[cond].Values.List
}

// formKey is the text of a statement without its Sid, principal, actions
// and scope values, whatever their string-or-list shapes: what a revoke
// compares.
func formKey(st policy.Statement, cond int) string {
	c := st.Clone()
	c.Sid, c.Principal, c.Action = "", nil, policy.Values{}
	if cond < 0 {
		c.Resource = policy.Values{}
	} else {
		c.Condition[cond].Values = policy.Values{}
	}
	c.NotAction.Single, c.Resource.Single, c.NotResource.Single = false, false, false
	for i := range c.Condition {
		c.Condition[i].Values.Single = false
	}
	return c.String()
}
