package statefile

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// File is an open state file. Reads come from the parsed state; writes edit
// the file's bytes in memory, and Flush puts them on disk in one atomic
// rename.
type File struct {
	name string
	// target is the file Flush replaces: name with symbolic links
	// resolved, so a linked state file is updated, not replaced by a copy.
	target string
	data   []byte
	perm   os.FileMode
	st     *state
	// docs holds every parsed policy document, by its JSON path.
	docs map[string]*policy.Document
	// mergedFields is set when a field kmsgrant knows appears twice in
	// one object: encoding/json merges the two, so a write that edits
	// one of them is checked by parsing the whole file again (see take).
	mergedFields bool
	// pending holds the policies a check has met and not yet parsed.
	pending []policyCheck
	// dirty is set once a write changed data.
	dirty bool
	// spans is where each entity starts in data, for writes; nil until
	// the first write, and after one it cannot follow.
	spans *spans
	// open is the entity the last writes edited, in a window not yet
	// copied into data (see entityWindow); nil when there is none.
	open *openEntity
	// checked holds the policies parsed and checked so far, by kind and
	// text: a write checks its entity again, and the entity's other
	// policies, unchanged, need not be parsed again.
	checked map[string]*policy.Document
	// read is the digest of the bytes as read from disk, so Flush can
	// refuse to overwrite changes made by someone else since.
	read [sha256.Size]byte
}

// Error is a problem with a state file, located by file, line and column
// (when known) and JSON path.
type Error struct {
	File      string
	Line, Col int
	Path      string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Open reads and checks a state file. Only a regular file of at most
// apply.MaxFileSize bytes is read.
func Open(name string) (*File, error) {
	data, err := apply.ReadFile(name, apply.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	info, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	f, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	f.read = sha256.Sum256(data)
	f.perm = info.Mode().Perm()
	if f.target, err = filepath.EvalSymlinks(name); err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	return f, nil
}

// Parse checks state file contents; name is used in messages and by Flush.
func Parse(name string, data []byte) (*File, error) {
	f := &File{name: name, target: name, data: data, perm: 0o644, docs: map[string]*policy.Document{}, checked: map[string]*policy.Document{}}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		// Unmarshal refuses what the decoder below refuses, and more
		// (data after the top-level value); the decoder says where and
		// why. A file Unmarshal takes, the decoder takes the same way,
		// without copying the file into its buffer.
		st = state{}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&st); err != nil {
			return nil, f.decodeError(err)
		}
		if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
			return nil, f.errAt(int64(len(data)-len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"))), "", "unexpected data after the top-level object")
		}
	}
	f.st = &st
	if err := f.checkKeyCase(); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte; point at it, not past it.
		return f.errAt(max(syn.Offset-1, 0), "", "invalid JSON: "+syn.Error())
	case errors.As(err, &typ):
		// The offset is just past the offending value; report where it
		// starts, like every other message.
		path := jsonedit.PathAt(f.data, typ.Offset)
		offset := typ.Offset
		if start, ok := jsonedit.Offset(f.data, path); ok {
			offset = start
		}
		return f.errAt(offset, dotted(path), fmt.Sprintf("want %s, got JSON %s", goTypeName(typ.Type.String()), typ.Value))
	case errors.Is(err, io.EOF):
		return &Error{File: f.name, Msg: "empty file; want a JSON object with format_version \"1\""}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return f.errAt(int64(len(f.data)), "", "invalid JSON: the file ends in the middle of a value")
	}
	return &Error{File: f.name, Msg: err.Error()}
}

func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "*statefile."), strings.HasPrefix(t, "statefile."):
		return "an object"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	}
	return t
}

func (f *File) errAt(offset int64, path, msg string) error {
	line, col := jsonedit.Position(f.data, offset)
	return &Error{File: f.name, Line: line, Col: col, Path: path, Msg: msg}
}

// errPath reports a problem at a JSON path, with its line and column.
func (f *File) errPath(path []string, msg string) error {
	e := &Error{File: f.name, Path: dotted(path), Msg: msg}
	if off, ok := jsonedit.Offset(f.data, path); ok {
		e.Line, e.Col = jsonedit.Position(f.data, off)
	}
	return e
}

func dotted(path []string) string { return strings.Join(path, ".") }

var (
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)
	iamPathRE    = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	iamNameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)  // roles and users
	groupNameRE  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`) // groups
	keyStates    = []string{"Enabled", "Disabled", "PendingDeletion", "PendingImport", "PendingReplicaDeletion", "Unavailable", "Creating", "Updating"}
	algorithms   = []string{"AES256", "aws:kms", "aws:kms:dsse"}
	ownershipSet = []string{"", "BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"}
)

// check validates what JSON types cannot: names, ARNs, enumerations and
// every policy document.
func (f *File) check() error {
	return f.withPolicies(f.checkState())
}

func (f *File) checkState() error {
	st := f.st
	if st.FormatVersion == "" {
		return f.errPath(nil, "missing format_version (want \"1\")")
	}
	if st.FormatVersion != FormatVersion {
		return f.errPath([]string{"format_version"}, fmt.Sprintf("unsupported format_version %q; this kmsgrant reads %q", st.FormatVersion, FormatVersion))
	}
	for _, id := range sortedKeys(st.Accounts) {
		if err := f.checkAccount(id, st.Accounts[id]); err != nil {
			return err
		}
	}
	for _, a := range sortedKeys(st.ManagedPolicies) {
		p := []string{"managed_policies", a}
		if _, ok := arns.AccountOfPrincipal(a); !strings.HasPrefix(a, "arn:") || !strings.Contains(a, ":policy/") || (!ok && !strings.Contains(a, ":iam::aws:policy/")) {
			return f.errPath(p, "want a managed policy ARN such as arn:aws:iam::aws:policy/NAME")
		}
		if err := f.parsePolicy(p, st.ManagedPolicies[a], true, identityPolicy); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) checkAccount(id string, acct *account) error {
	p := []string{"accounts", id}
	if !arns.IsAccountID(id) {
		return f.errPath(p, "account IDs are 12 digits")
	}
	if acct == nil {
		return f.errPath(p, "want an object")
	}
	for _, name := range sortedKeys(acct.Buckets) {
		if err := f.checkBucket(name, acct.Buckets[name], append(slices.Clone(p), "buckets", name)); err != nil {
			return err
		}
	}
	for _, a := range sortedKeys(acct.KMSKeys) {
		if err := f.checkKey(id, a, acct.KMSKeys[a], append(slices.Clone(p), "kms_keys", a)); err != nil {
			return err
		}
	}
	for _, kind := range []string{"iam_roles", "iam_users"} {
		ids := acct.IAMRoles
		if kind == "iam_users" {
			ids = acct.IAMUsers
		}
		for _, name := range sortedKeys(ids) {
			if err := f.checkIdentity(acct, kind, name, ids[name], append(slices.Clone(p), kind, name)); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(acct.IAMGroups) {
		grp := acct.IAMGroups[name]
		gp := append(slices.Clone(p), "iam_groups", name)
		if !groupNameRE.MatchString(name) || grp == nil {
			return f.errPath(gp, "want a group object under a valid IAM name")
		}
		for _, pn := range sortedKeys(grp.InlinePolicies) {
			if err := f.parsePolicy(append(slices.Clone(gp), "inline_policies", pn), grp.InlinePolicies[pn], true, identityPolicy); err != nil {
				return err
			}
		}
		for _, a := range grp.AttachedPolicies {
			if !strings.HasPrefix(a, "arn:") || !strings.Contains(a, ":policy/") {
				return f.errPath(gp, fmt.Sprintf("%q is not a managed policy ARN", a))
			}
		}
	}
	return nil
}

// grantOperations are the operations a KMS grant can allow (CreateGrant's
// Operations, AWS KMS API Reference).
var grantOperations = []string{"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
	"Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret"}

// checkGrants checks a key's grants as ListGrants would report them.
func (f *File) checkGrants(kp []string, grants []*grant) error {
	for i, g := range grants {
		gp := append(slices.Clone(kp), "grants", strconv.Itoa(i))
		switch {
		case g == nil:
			return f.errPath(gp, "want a grant object")
		case g.GrantID == "":
			return f.errPath(gp, "missing grant_id")
		case g.GranteePrincipal == "":
			return f.errPath(gp, "missing grantee_principal (an ARN, or a service principal such as s3.amazonaws.com)")
		case len(g.Operations) == 0:
			return f.errPath(gp, "missing operations (such as [\"Decrypt\"])")
		}
		for _, op := range g.Operations {
			if !slices.Contains(grantOperations, op) {
				return f.errPath(append(gp, "operations"), fmt.Sprintf("%q is not a grant operation (want one of %s)", op, strings.Join(grantOperations, ", ")))
			}
		}
	}
	return nil
}

// checkBucket checks the bucket at path bp (accounts.ID.buckets.NAME).
func (f *File) checkBucket(name string, b *bucket, bp []string) error {
	if err := arns.ValidateBucketName(name); err != nil {
		return f.errPath(bp, err.Error())
	}
	if b == nil || !regionRE.MatchString(b.Region) {
		return f.errPath(append(bp, "region"), "want a Region such as us-west-2")
	}
	if err := arns.CheckBucketRegion(name, b.Region); err != nil {
		return f.errPath(bp, err.Error())
	}
	if err := f.parsePolicy(append(slices.Clone(bp), "policy"), b.Policy, false, resourcePolicy); err != nil {
		return err
	}
	if e := b.DefaultEncryption; e != nil {
		ep := append(slices.Clone(bp), "default_encryption")
		if !slices.Contains(algorithms, e.SSEAlgorithm) {
			return f.errPath(append(ep, "sse_algorithm"), "want AES256, aws:kms or aws:kms:dsse")
		}
		if e.SSEAlgorithm == "AES256" && e.KMSMasterKeyID != "" {
			return f.errPath(append(ep, "kms_master_key_id"), "AES256 (SSE-S3) takes no KMS key")
		}
		if e.KMSMasterKeyID != "" {
			if _, err := arns.ParseKeyRef(e.KMSMasterKeyID); err != nil {
				return f.errPath(append(ep, "kms_master_key_id"), err.Error())
			}
		}
	}
	if !slices.Contains(ownershipSet, b.ObjectOwnership) {
		return f.errPath(append(bp, "object_ownership"), "want BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter")
	}
	for _, k := range sortedKeys(b.Objects) {
		if b.Objects[k] == nil {
			return f.errPath(append(bp, "objects", k), "want an object")
		}
		for _, id := range sortedKeys(b.Objects[k].Versions) {
			if b.Objects[k].Versions[id] == nil {
				return f.errPath(append(bp, "objects", k, "versions", id), "want an object")
			}
		}
	}
	return nil
}

// checkKey checks the key at path kp (accounts.ID.kms_keys.ARN).
func (f *File) checkKey(id, a string, k *key, kp []string) error {
	ref, err := arns.ParseKeyARN(a)
	if err != nil {
		return f.errPath(kp, "keys are listed by full key ARN: "+err.Error())
	}
	if ref.Account != id {
		return f.errPath(kp, fmt.Sprintf("key ARN names account %s but is listed under account %s", ref.Account, id))
	}
	if k == nil || (k.KeyManager != "AWS" && k.KeyManager != "CUSTOMER") {
		return f.errPath(append(kp, "key_manager"), "want AWS or CUSTOMER")
	}
	if !slices.Contains(keyStates, k.KeyState) {
		return f.errPath(append(kp, "key_state"), "want one of "+strings.Join(keyStates, ", "))
	}
	if len(bytes.TrimSpace(k.Policy)) == 0 {
		return f.errPath(kp, "missing policy: every KMS key has a key policy")
	}
	if err := f.parsePolicy(append(slices.Clone(kp), "policy"), k.Policy, true, resourcePolicy); err != nil {
		return err
	}
	for _, al := range k.Aliases {
		if r, err := arns.ParseKeyRef(al); err != nil || r.Form != arns.AliasName {
			return f.errPath(append(kp, "aliases"), fmt.Sprintf("%q is not an alias name (alias/NAME)", al))
		}
	}
	return f.checkGrants(kp, k.Grants)
}

// checkIdentity checks the role or user at path ip
// (accounts.ID.iam_roles.NAME or accounts.ID.iam_users.NAME) of acct.
func (f *File) checkIdentity(acct *account, kind, name string, ident *identity, ip []string) error {
	if !iamNameRE.MatchString(name) {
		return f.errPath(ip, "not a valid IAM name")
	}
	if ident == nil {
		return f.errPath(ip, "want an object")
	}
	if ident.Path != "" && !iamPathRE.MatchString(ident.Path) {
		return f.errPath(append(ip, "path"), "an IAM path starts and ends with /")
	}
	for _, pn := range sortedKeys(ident.InlinePolicies) {
		if err := f.parsePolicy(append(slices.Clone(ip), "inline_policies", pn), ident.InlinePolicies[pn], true, identityPolicy); err != nil {
			return err
		}
	}
	for _, a := range append(slices.Clone(ident.AttachedPolicies), ident.PermissionsBoundary) {
		if a != "" && (!strings.HasPrefix(a, "arn:") || !strings.Contains(a, ":policy/")) {
			return f.errPath(ip, fmt.Sprintf("%q is not a managed policy ARN", a))
		}
	}
	for _, g := range ident.Groups {
		if kind == "iam_roles" {
			return f.errPath(append(ip, "groups"), "roles are not in groups; only users are")
		}
		if _, ok := acct.IAMGroups[g]; !ok {
			return f.errPath(append(ip, "groups"), fmt.Sprintf("group %q is not in this account's iam_groups", g))
		}
	}
	return nil
}

// Policy kinds, for the checks AWS makes beyond the grammar.
const (
	resourcePolicy = iota
	identityPolicy
)

// policyCheck is a policy document of the file waiting to be parsed.
type policyCheck struct {
	path []string
	raw  json.RawMessage
	kind int
	doc  *policy.Document
	err  error
}

// id is what the check of a policy depends on: its kind and its text.
func (c *policyCheck) id() string { return strconv.Itoa(c.kind) + "\x00" + string(c.raw) }

func (c *policyCheck) parse() {
	c.doc, c.err = policy.Parse(c.raw)
	if c.err == nil && c.kind == resourcePolicy {
		c.err = c.doc.CheckResourcePolicy()
	} else if c.err == nil {
		c.err = c.doc.CheckIdentityPolicy()
	}
}

// parsePolicy queues the policy at path to be parsed and remembered by
// withPolicies. A missing or null policy is allowed only where AWS allows
// none.
func (f *File) parsePolicy(path []string, raw json.RawMessage, required bool, kind int) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return f.errPath(path, "missing policy document")
		}
		return nil
	}
	f.pending = append(f.pending, policyCheck{path: path, raw: raw, kind: kind})
	return nil
}

// parallelPolicies is how many queued policies make it worth parsing them
// on every CPU.
const parallelPolicies = 64

// withPolicies parses the policies queued by the checks, which stopped at
// err (nil when every check passed), and returns the first problem in the
// order the checks met them: a policy queued before err was reached comes
// first. Parsing a policy is most of the work of checking a large file, and
// the documents do not depend on one another, so they are parsed on every
// CPU.
func (f *File) withPolicies(err error) error {
	var pending []policyCheck
	for _, c := range f.pending {
		if doc, ok := f.checked[c.id()]; ok {
			f.docs[strings.Join(c.path, "\x00")] = doc
			continue
		}
		pending = append(pending, c)
	}
	f.pending = nil
	if workers := min(runtime.GOMAXPROCS(0), len(pending)/parallelPolicies); workers > 1 {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(pending)); i = next.Add(1) - 1 {
					pending[i].parse()
				}
			})
		}
		wg.Wait()
	} else {
		for i := range pending {
			pending[i].parse()
		}
	}
	for _, c := range pending {
		if c.err != nil {
			return f.errPath(c.path, "not a valid policy: "+c.err.Error())
		}
		f.docs[strings.Join(c.path, "\x00")] = c.doc
		if f.checked != nil {
			f.checked[c.id()] = c.doc
		}
	}
	return err
}

func (f *File) doc(path ...string) *policy.Document {
	return f.docs[strings.Join(path, "\x00")]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
