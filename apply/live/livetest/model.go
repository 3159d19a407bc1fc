package livetest

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stateModel is this package's read-only view of a state file (the
// statefile package keeps its own unexported); it is parsed again after
// every write.
type stateModel struct {
	Accounts        map[string]*accountModel   `json:"accounts"`
	ManagedPolicies map[string]json.RawMessage `json:"managed_policies"`
}

type accountModel struct {
	Buckets   map[string]*bucketModel   `json:"buckets"`
	KMSKeys   map[string]*keyModel      `json:"kms_keys"`
	IAMRoles  map[string]*identityModel `json:"iam_roles"`
	IAMUsers  map[string]*identityModel `json:"iam_users"`
	IAMGroups map[string]*groupModel    `json:"iam_groups"`
}

type bucketModel struct {
	Region            string                  `json:"region"`
	Policy            json.RawMessage         `json:"policy"`
	DefaultEncryption *encryptionModel        `json:"default_encryption"`
	ObjectOwnership   string                  `json:"object_ownership"`
	Objects           map[string]*objectModel `json:"objects"`
}

type encryptionModel struct {
	SSEAlgorithm     string `json:"sse_algorithm"`
	KMSMasterKeyID   string `json:"kms_master_key_id,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
}

type objectModel struct {
	SSEAlgorithm string                  `json:"sse_algorithm"`
	SSEKMSKeyID  string                  `json:"sse_kms_key_id"`
	Owner        string                  `json:"owner"`
	Versions     map[string]*objectModel `json:"versions"`
}

type keyModel struct {
	KeyManager       string          `json:"key_manager"`
	KeyState         string          `json:"key_state"`
	Policy           json.RawMessage `json:"policy"`
	Aliases          []string        `json:"aliases"`
	Grants           []grantModel    `json:"grants"`
	GrantsUnreadable bool            `json:"grants_unreadable"`
}

type grantModel struct {
	GrantID          string   `json:"grant_id"`
	Name             string   `json:"name,omitempty"`
	GranteePrincipal string   `json:"grantee_principal"`
	Operations       []string `json:"operations"`
	Constraints      *struct {
		EncryptionContextEquals map[string]string `json:"encryption_context_equals"`
		EncryptionContextSubset map[string]string `json:"encryption_context_subset"`
	} `json:"constraints"`
}

type identityModel struct {
	Path                string                     `json:"path"`
	InlinePolicies      map[string]json.RawMessage `json:"inline_policies"`
	AttachedPolicies    []string                   `json:"attached_policies"`
	PermissionsBoundary string                     `json:"permissions_boundary"`
	Groups              []string                   `json:"groups"`
}

type groupModel struct {
	InlinePolicies   map[string]json.RawMessage `json:"inline_policies"`
	AttachedPolicies []string                   `json:"attached_policies"`
}

func parseModel(data []byte) (*stateModel, error) {
	var st stateModel
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// account returns an account of the state, empty when the state has none.
func (st *stateModel) account(id string) *accountModel {
	if a := st.Accounts[id]; a != nil {
		return a
	}
	return &accountModel{}
}

// hasDoc reports whether a raw policy is present (not absent or null).
func hasDoc(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

// docText is a policy as the services store it: its text in the state
// file, without surrounding space.
func docText(raw json.RawMessage) string {
	return string(bytes.TrimSpace(raw))
}

// compactDoc is a policy without insignificant white space, the way S3
// returns bucket policies.
func compactDoc(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return docText(raw)
	}
	return b.String()
}

// rfc3986Escape percent-encodes everything but RFC 3986's unreserved
// characters (A-Z a-z 0-9 - . _ ~), the way IAM returns policy documents:
// a space is %20 and "+" is %2B, so url.PathUnescape and url.QueryUnescape
// both decode it.
func rfc3986Escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// created is the creation date of everything the server describes.
var created = time.Date(2024, time.January, 2, 3, 4, 5, 0, time.UTC)

// uniqueID makes an IAM unique ID (AROA…, AIDA…, AGPA…, ANPA…): the
// prefix and upper-case letters and digits derived from seed, 21 characters
// in all.
func uniqueID(prefix, seed string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	sum := sha256.Sum256([]byte(seed))
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; b.Len() < 21; i++ {
		b.WriteByte(alphabet[sum[i]%32])
	}
	return b.String()
}

// CanonicalID is the canonical user ID S3 reports as the owner of what
// account owns (ListObjectsV2 with fetch-owner=true): 64 hex digits derived
// from the account ID.
func CanonicalID(account string) string {
	sum := sha256.Sum256([]byte("livetest canonical user " + account))
	return hex.EncodeToString(sum[:])
}

func etag(s string) string {
	sum := md5.Sum([]byte(s))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// page returns the items of one page of a list with a marker (the index of
// the first item, as a decimal string) and a page size, and the next
// marker, "" on the last page.
func page[T any](items []T, marker string, size, defaultSize, maxSize int) ([]T, string, error) {
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", errors.New("invalid marker")
		}
		start = n
	}
	if size <= 0 {
		size = defaultSize
	}
	size = min(size, maxSize)
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// maxBody bounds a request body; policies are at most a few tens of KB.
const maxBody = 4 << 20

// readBody reads a request body, undoing aws-chunked content encoding (which
// the SDK uses for trailing checksums).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") || strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return decodeChunked(data)
	}
	return data, nil
}

// decodeChunked decodes an aws-chunked body: hex size[;chunk-signature=…]
// CRLF data CRLF, ending with a zero-size chunk and optional trailers.
func decodeChunked(data []byte) ([]byte, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	var out []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		sizeText, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || size < 0 || size > maxBody {
			return nil, fmt.Errorf("aws-chunked body: bad chunk size %q", sizeText)
		}
		if size == 0 {
			return out, nil
		}
		chunk := make([]byte, size)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		out = append(out, chunk...)
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
	}
}

func parseForm(body []byte) (url.Values, error) {
	return url.ParseQuery(string(body))
}
