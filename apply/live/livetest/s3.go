package livetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsgrant/kmsgrant/apply/internal/jsonedit"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Ops are the S3 operations the server answers.
var s3Ops = []string{
	"HeadBucket", "GetBucketLocation", "GetBucketPolicy", "PutBucketPolicy",
	"GetBucketEncryption", "PutBucketEncryption", "GetBucketOwnershipControls",
	"ListObjectsV2", "HeadObject", "GetBucketAcl", "DeleteBucketPolicy", "ListBuckets",
}

// splitS3Path splits a path-style request path into bucket and key.
func splitS3Path(r *http.Request) (bucket, key string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// s3Op names the S3 operation of a path-style request by its method, path
// and sub-resource.
func s3Op(r *http.Request) string {
	bucket, key := splitS3Path(r)
	q := r.URL.Query()
	m := r.Method
	switch {
	case bucket == "" && m == http.MethodGet && onlyParams(q, "x-id", "max-buckets", "continuation-token", "prefix", "bucket-region"):
		return "ListBuckets"
	case bucket == "":
	case key != "":
		if m == http.MethodHead && onlyParams(q, "versionId", "partNumber", "x-id") {
			return "HeadObject"
		}
	case q.Has("location") && m == http.MethodGet:
		return "GetBucketLocation"
	case q.Has("policy") && m == http.MethodGet:
		return "GetBucketPolicy"
	case q.Has("policy") && m == http.MethodPut:
		return "PutBucketPolicy"
	case q.Has("policy") && m == http.MethodDelete:
		return "DeleteBucketPolicy"
	case q.Has("encryption") && m == http.MethodGet:
		return "GetBucketEncryption"
	case q.Has("encryption") && m == http.MethodPut:
		return "PutBucketEncryption"
	case q.Has("ownershipControls") && m == http.MethodGet:
		return "GetBucketOwnershipControls"
	case q.Has("acl") && m == http.MethodGet:
		return "GetBucketAcl"
	case q.Get("list-type") == "2" && m == http.MethodGet:
		return "ListObjectsV2"
	case m == http.MethodHead && len(q) == 0:
		return "HeadBucket"
	}
	names := sortedKeys(q)
	return "Unknown(" + m + " " + r.URL.Path + "?" + strings.Join(names, "&") + ")"
}

func onlyParams(q url.Values, allowed ...string) bool {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

func (s *Server) serveS3(req *request) *apiError {
	if strings.HasPrefix(req.op, "Unknown(") {
		return errorf(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented (livetest answers %s)", strings.Join(s3Ops, ", "))
	}
	if req.op == "ListBuckets" {
		s.listBuckets(req)
		return nil
	}
	name, key := splitS3Path(req.r)
	owner, b := s.findBucket(name)
	if b == nil {
		e := errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		e.extra = [][2]string{{"BucketName", name}}
		return e
	}
	if req.op == "HeadBucket" {
		// S3 tells a bucket's Region even to those it refuses.
		req.w.Header().Set("X-Amz-Bucket-Region", b.Region)
	}
	if exp := req.r.Header.Get("X-Amz-Expected-Bucket-Owner"); exp != "" && exp != owner {
		return errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	if req.caller.account != owner {
		return errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	if req.caller.region != b.Region && req.op != "GetBucketLocation" && req.op != "HeadBucket" {
		// S3 answers a request signed for another Region than the
		// bucket's with a redirect that names the bucket's Region;
		// GetBucketLocation and HeadBucket are how a client finds it.
		req.w.Header().Set("X-Amz-Bucket-Region", b.Region)
		e := errorf(http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
		e.extra = [][2]string{{"Bucket", name}, {"Endpoint", "s3." + b.Region + ".amazonaws.com"}}
		return e
	}
	switch req.op {
	case "HeadBucket":
		req.w.WriteHeader(http.StatusOK)
		return nil
	case "GetBucketLocation":
		loc := b.Region
		switch loc {
		case "us-east-1":
			loc = ""
		case "eu-west-1":
			loc = "EU"
		}
		writeS3XML(req, "LocationConstraint", struct {
			Value string `xml:",chardata"`
		}{loc})
		return nil
	case "GetBucketPolicy":
		if !hasDoc(b.Policy) {
			e := errorf(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
			e.extra = [][2]string{{"BucketName", name}}
			return e
		}
		s3Headers(req)
		req.w.Header().Set("Content-Type", "application/json")
		req.w.WriteHeader(http.StatusOK)
		req.w.Write([]byte(compactDoc(b.Policy)))
		return nil
	case "PutBucketPolicy":
		return s.putBucketPolicy(req, owner, name)
	case "DeleteBucketPolicy":
		c := generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: arns.BucketARN("aws", name)}
		if err := s.restore(c); err != nil {
			return errorf(http.StatusInternalServerError, "InternalError", "%v", err)
		}
		s3Headers(req)
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	case "GetBucketEncryption":
		e := b.DefaultEncryption
		if e == nil {
			ee := errorf(http.StatusNotFound, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
			ee.extra = [][2]string{{"BucketName", name}}
			return ee
		}
		bke := e.BucketKeyEnabled
		writeS3XML(req, "ServerSideEncryptionConfiguration", sseConfig{Rules: []sseRule{{
			Default:          &sseDefault{SSEAlgorithm: e.SSEAlgorithm, KMSMasterKeyID: e.KMSMasterKeyID},
			BucketKeyEnabled: &bke,
		}}})
		return nil
	case "PutBucketEncryption":
		return s.putBucketEncryption(req, owner, name, b)
	case "GetBucketOwnershipControls":
		if b.ObjectOwnership == "" {
			e := errorf(http.StatusNotFound, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
			e.extra = [][2]string{{"BucketName", name}}
			return e
		}
		type rule struct {
			ObjectOwnership string
		}
		writeS3XML(req, "OwnershipControls", struct {
			Rule []rule
		}{[]rule{{b.ObjectOwnership}}})
		return nil
	case "ListObjectsV2":
		return listObjectsV2(req, owner, name, b)
	case "GetBucketAcl":
		// The state file has no ACLs: every bucket has the default one,
		// the owner with full control. The owner's canonical ID is how
		// callers match object owners (ListObjectsV2 fetch-owner) to it.
		id := CanonicalID(owner)
		writeS3XML(req, "AccessControlPolicy", accessControlPolicy{
			Owner: s3Owner{ID: id},
			Grants: []s3Grant{{
				Grantee: s3Grantee{
					XMLNS: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: id,
				},
				Permission: "FULL_CONTROL",
			}},
		})
		return nil
	case "HeadObject":
		o, ok := b.Objects[key]
		if !ok {
			return errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		}
		if id := req.r.URL.Query().Get("versionId"); id != "" {
			v, ok := o.Versions[id]
			if !ok {
				return errorf(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.")
			}
			req.w.Header().Set("X-Amz-Version-Id", id)
			o = v
		}
		h := req.w.Header()
		s3Headers(req)
		h.Set("Content-Type", "binary/octet-stream")
		h.Set("Content-Length", "0")
		h.Set("ETag", etag(name+"/"+key))
		h.Set("Last-Modified", created.Format(http.TimeFormat))
		h.Set("Accept-Ranges", "bytes")
		if o.SSEAlgorithm != "" {
			h.Set("X-Amz-Server-Side-Encryption", o.SSEAlgorithm)
		}
		if o.SSEKMSKeyID != "" {
			h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", o.SSEKMSKeyID)
		}
		req.w.WriteHeader(http.StatusOK)
		return nil
	}
	return errorf(http.StatusNotImplemented, "NotImplemented", "not implemented")
}

// findBucket finds a bucket in any account: bucket names are global.
func (s *Server) findBucket(name string) (string, *bucketModel) {
	for _, id := range sortedKeys(s.st.Accounts) {
		if a := s.st.Accounts[id]; a != nil && a.Buckets[name] != nil {
			return id, a.Buckets[name]
		}
	}
	return "", nil
}

func (s *Server) putBucketPolicy(req *request, owner, name string) *apiError {
	doc, err := policy.Parse(req.body)
	if err != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{': %v", err)
	}
	c := generate.Change{Kind: generate.KindBucketPolicy, Account: owner, Target: arns.BucketARN("aws", name), Action: generate.Update, Policy: doc}
	if err := s.write(c); err != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicy", "%v", err)
	}
	s3Headers(req)
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// sseConfig is a bucket's default encryption as S3 reads and writes it.
type sseConfig struct {
	Rules []sseRule `xml:"Rule"`
}

type sseRule struct {
	Default          *sseDefault `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool       `xml:"BucketKeyEnabled"`
}

type sseDefault struct {
	SSEAlgorithm   string
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
}

func (s *Server) putBucketEncryption(req *request, owner, name string, b *bucketModel) *apiError {
	var cfg sseConfig
	if err := xml.Unmarshal(req.body, &cfg); err != nil || len(cfg.Rules) != 1 || cfg.Rules[0].Default == nil {
		return errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	rule := cfg.Rules[0]
	next := encryptionModel{SSEAlgorithm: rule.Default.SSEAlgorithm, KMSMasterKeyID: rule.Default.KMSMasterKeyID}
	if rule.BucketKeyEnabled != nil {
		next.BucketKeyEnabled = *rule.BucketKeyEnabled
	}
	switch next.SSEAlgorithm {
	case "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if next.SSEAlgorithm == "AES256" && next.KMSMasterKeyID != "" {
		return errorf(http.StatusBadRequest, "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	old := b.DefaultEncryption
	var err error
	switch {
	case old != nil && *old == next:
	case old != nil && old.SSEAlgorithm == next.SSEAlgorithm && old.BucketKeyEnabled == next.BucketKeyEnabled && next.KMSMasterKeyID != "":
		// Only the key changes: the change kmsgrant plans.
		err = s.write(generate.Change{Kind: generate.KindBucketEncryption, Account: owner, Target: arns.BucketARN("aws", name), Action: generate.Update,
			Encryption: &generate.Encryption{Algorithm: next.SSEAlgorithm, KMSMasterKeyID: next.KMSMasterKeyID, BucketKeyEnabled: next.BucketKeyEnabled}})
	default:
		// A change statefile.File.Write cannot express (a new
		// configuration, another algorithm or Bucket Key setting):
		// replace the whole object, and check the result the same way.
		value, _ := json.Marshal(next)
		err = s.edit([]string{"accounts", owner, "buckets", name, "default_encryption"}, value)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidArgument", "%v", err)
	}
	s3Headers(req)
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// write makes one change through statefile.File.Write and reads the state
// again. The caller holds s.mu.
func (s *Server) write(c generate.Change) error {
	if err := s.file.Write(context.Background(), c); err != nil {
		return err
	}
	return s.reloadEntity(c)
}

// restore puts a change's target back to its Before (removing it when
// Before is empty) through statefile.File.Restore. The caller holds s.mu.
func (s *Server) restore(c generate.Change) error {
	if err := s.file.Restore(context.Background(), c); err != nil {
		return err
	}
	return s.reloadEntity(c)
}

// edit sets the value at a JSON path of the state file, checked as
// statefile.Parse checks a file. The caller holds s.mu.
func (s *Server) edit(path []string, value []byte) error {
	data, err := jsonedit.Set(s.file.Bytes(), path, value)
	if err != nil {
		return err
	}
	f, err := statefile.Parse(stateName, data)
	if err != nil {
		return err
	}
	s.file = f
	return s.reload()
}

// reloadEntity reads again only the bucket, key, role or user change c
// wrote: a batch's hundreds of writes would otherwise each parse the whole
// state. Anything else is read whole.
func (s *Server) reloadEntity(c generate.Change) error {
	var path []string
	switch c.Kind {
	case generate.KindBucketPolicy, generate.KindBucketEncryption:
		path = []string{"accounts", c.Account, "buckets", c.Target[strings.LastIndex(c.Target, ":")+1:]}
	case generate.KindKeyPolicy:
		path = []string{"accounts", c.Account, "kms_keys", c.Target}
	case generate.KindIAMPolicy:
		if c.Grantee == nil {
			return s.reload()
		}
		kind := "iam_roles"
		if c.Grantee.Kind == arns.User {
			kind = "iam_users"
		}
		path = []string{"accounts", c.Account, kind, c.Grantee.Name}
	}
	acct := s.st.Accounts[c.Account]
	if path == nil || acct == nil {
		return s.reload()
	}
	raw, ok := s.file.Entity(path)
	if !ok {
		return s.reload()
	}
	var err error
	switch path[2] {
	case "buckets":
		var b *bucketModel
		if err = json.Unmarshal(raw, &b); err == nil && acct.Buckets != nil {
			acct.Buckets[path[3]] = b
			return nil
		}
	case "kms_keys":
		var k *keyModel
		if err = json.Unmarshal(raw, &k); err == nil && acct.KMSKeys != nil {
			acct.KMSKeys[path[3]] = k
			return nil
		}
	default:
		var id *identityModel
		ids := acct.IAMRoles
		if path[2] == "iam_users" {
			ids = acct.IAMUsers
		}
		if err = json.Unmarshal(raw, &id); err == nil && ids != nil {
			ids[path[3]] = id
			return nil
		}
	}
	return s.reload()
}

func (s *Server) reload() error {
	st, err := parseModel(s.file.Bytes())
	if err != nil {
		return err
	}
	s.st = st
	return nil
}

type s3Object struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	Owner        *s3Owner `xml:",omitempty"`
	StorageClass string
}

type s3Owner struct {
	ID string
}

type accessControlPolicy struct {
	Owner  s3Owner
	Grants []s3Grant `xml:"AccessControlList>Grant"`
}

type s3Grant struct {
	Grantee    s3Grantee
	Permission string
}

type s3Grantee struct {
	XMLNS string `xml:"xmlns:xsi,attr"`
	Type  string `xml:"xsi:type,attr"`
	ID    string
}

type s3Prefix struct {
	Prefix string
}

type listBucketResult struct {
	Name                  string
	Prefix                string
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	Contents              []s3Object
	CommonPrefixes        []s3Prefix
}

func listObjectsV2(req *request, owner, name string, b *bucketModel) *apiError {
	q := req.r.URL.Query()
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		maxKeys = min(n, 1000)
	}
	prefix, delim, startAfter := q.Get("prefix"), q.Get("delimiter"), q.Get("start-after")
	after := startAfter
	if tok := q.Get("continuation-token"); tok != "" {
		k, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(k)
	}
	enc := func(s string) string { return s }
	if q.Get("encoding-type") == "url" {
		enc = url.QueryEscape
	}
	out := listBucketResult{
		Name: name, Prefix: enc(prefix), Delimiter: enc(delim), EncodingType: q.Get("encoding-type"),
		StartAfter: enc(startAfter), ContinuationToken: q.Get("continuation-token"), MaxKeys: maxKeys,
	}
	seen := map[string]bool{}
	last := ""
	for _, k := range sortedKeys(b.Objects) {
		if !strings.HasPrefix(k, prefix) || k <= after {
			continue
		}
		cp := ""
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp = k[:len(prefix)+i+len(delim)]
			}
		}
		if cp != "" && seen[cp] {
			continue
		}
		if out.KeyCount == maxKeys {
			out.IsTruncated = maxKeys > 0
			break
		}
		out.KeyCount++
		if cp != "" {
			seen[cp] = true
			out.CommonPrefixes = append(out.CommonPrefixes, s3Prefix{enc(cp)})
			// Skip the rest of the prefix's keys: the next page starts after
			// all of them.
			last = cp + "\U0010FFFF"
			after = last
			continue
		}
		obj := s3Object{Key: enc(k), LastModified: created.Format("2006-01-02T15:04:05.000Z"), ETag: etag(name + "/" + k), StorageClass: "STANDARD"}
		if q.Get("fetch-owner") == "true" {
			o := b.Objects[k].Owner
			if o == "" {
				o = owner
			}
			obj.Owner = &s3Owner{ID: CanonicalID(o)}
		}
		out.Contents = append(out.Contents, obj)
		last = k
	}
	if out.IsTruncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(last))
	}
	writeS3XML(req, "ListBucketResult", out)
	return nil
}

func s3Headers(req *request) {
	h := req.w.Header()
	h.Set("X-Amz-Request-Id", req.id)
	h.Set("X-Amz-Id-2", base64.StdEncoding.EncodeToString([]byte("livetest host "+req.id)))
}

// writeS3XML answers 200 with v as the root element name, in S3's namespace.
func writeS3XML(req *request, name string, v any) {
	s3Headers(req)
	req.w.Header().Set("Content-Type", "application/xml")
	req.w.WriteHeader(http.StatusOK)
	writeXML(req.w, xml.StartElement{Name: xml.Name{Local: name}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: s3NS}}}, v)
}

func writeS3Error(req *request, e *apiError) {
	s3Headers(req)
	req.w.Header().Set("Content-Type", "application/xml")
	req.w.WriteHeader(e.status)
	if req.r.Method == http.MethodHead {
		return // HEAD answers have no body; the SDK goes by the status
	}
	type elem struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	}
	body := struct {
		Code      string
		Message   string
		Extra     []elem
		RequestID string `xml:"RequestId"`
		HostID    string `xml:"HostId"`
	}{Code: e.code, Message: e.message, RequestID: req.id, HostID: req.w.Header().Get("X-Amz-Id-2")}
	for _, x := range e.extra {
		body.Extra = append(body.Extra, elem{XMLName: xml.Name{Local: x[0]}, Value: x[1]})
	}
	writeXML(req.w, xml.StartElement{Name: xml.Name{Local: "Error"}}, body)
}

// writeXML writes an XML declaration and v as the element start.
func writeXML(w http.ResponseWriter, start xml.StartElement, v any) {
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	ignore(enc.EncodeElement(v, start))
	ignore(enc.Flush())
}

// listBuckets lists the caller's buckets, in every Region (ListBuckets
// lists them all, whatever Region it is sent to).
func (s *Server) listBuckets(req *request) {
	type bucketEntry struct {
		Name         string
		CreationDate string
		BucketRegion string
	}
	var out struct {
		Owner struct {
			ID string
		}
		Buckets struct {
			Bucket []bucketEntry
		}
	}
	a := s.st.account(req.caller.account)
	out.Owner.ID = CanonicalID(req.caller.account)
	for _, name := range sortedKeys(a.Buckets) {
		out.Buckets.Bucket = append(out.Buckets.Bucket, bucketEntry{Name: name, CreationDate: created.Format("2006-01-02T15:04:05.000Z"), BucketRegion: a.Buckets[name].Region})
	}
	s3Headers(req)
	writeS3XML(req, "ListAllMyBucketsResult", out)
}
