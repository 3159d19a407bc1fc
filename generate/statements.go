package generate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
	"github.com/kmsgrant/kmsgrant/templates"
)

// Policy kinds, which are also the change kinds of the JSON plan.
const (
	KindBucketPolicy     = "bucket_policy"
	KindKeyPolicy        = "key_policy"
	KindIAMPolicy        = "iam_policy"
	KindBucketEncryption = "bucket_encryption"
)

// statements returns the least-privilege statements that grant the given
// requests in one kind of policy: one statement per part, holding only the
// actions still missing. principal is the grantee's ARN (unused for
// iam_policy).
func statements(kind string, missing []need, principal string, sc scope) ([]policy.Statement, error) {
	byPart := map[templates.Part][]string{}
	var parts []templates.Part
	for _, n := range missing {
		if _, ok := byPart[n.part]; !ok {
			parts = append(parts, n.part)
		}
		if !slices.Contains(byPart[n.part], n.req.Action) {
			byPart[n.part] = append(byPart[n.part], n.req.Action)
		}
	}
	slices.SortFunc(parts, func(a, b templates.Part) int { return partOrder[a] - partOrder[b] })
	var out []policy.Statement
	for _, part := range parts {
		actions := byPart[part]
		slices.Sort(actions)
		raw, err := templates.Render(kind, part, templates.Data{
			Principal:  principal,
			Actions:    actions,
			BucketARN:  sc.bucketARN,
			ObjectsARN: sc.objectsARN + "*",
			Prefix:     sc.prefix,
			KeyARN:     sc.keyARN,
			ViaService: arns.ServiceHost("s3", sc.region),
		})
		if err != nil {
			return nil, err
		}
		st, err := policy.ParseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("template %s.%s is not a valid statement: %w", kind, part, err)
		}
		st = st.Clone()
		st.Sid = sidFor(kind, actions, st)
		out = append(out, st)
	}
	return out, nil
}

var partOrder = map[templates.Part]int{templates.Objects: 0, templates.Bucket: 1, templates.Key: 2}

// sidFor names a statement by what it grants: the actions, then a hash of
// the statement without its principal. Two grantees given the same access
// get the same Sid, which is how a second grantee joins the first one's
// statement instead of adding a near-copy.
func sidFor(kind string, actions []string, st policy.Statement) string {
	shape := st.Clone()
	shape.Sid = ""
	shape.Principal = nil
	sum := sha256.Sum256([]byte(kind + "\n" + shape.String()))
	var words strings.Builder
	for _, a := range actions {
		_, name, _ := strings.Cut(a, ":")
		words.WriteString(name)
	}
	return SidPrefix + words.String() + strings.ToUpper(hex.EncodeToString(sum[:4]))
}
