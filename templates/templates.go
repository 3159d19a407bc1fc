// Package templates holds, as embedded data, what each access level needs
// and the shape of every statement kmsgrant writes. Adding an access level,
// or changing a statement's shape, is an edit here plus a test; the planner
// has no statement text of its own.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"
)

//go:embed access.json statements/*.json.tmpl
var files embed.FS

// Level is one access level: the actions a grantee needs, by the resource
// they act on.
type Level struct {
	Description string `json:"description"`
	// ObjectActions act on arn:aws:s3:::bucket/prefix*.
	ObjectActions []string `json:"object_actions"`
	// BucketActions act on the bucket ARN itself (s3:ListBucket).
	BucketActions []string `json:"bucket_actions"`
	// KeyActions act on the KMS key, through S3.
	KeyActions []string `json:"key_actions"`
}

// Part names the resource a statement covers; it picks the template.
type Part string

// The three parts of a grant.
const (
	Objects Part = "objects"
	Bucket  Part = "bucket"
	Key     Part = "key"
)

// Data fills a statement template.
type Data struct {
	// Principal is the grantee's ARN; unused in identity policies.
	Principal  string
	Actions    []string
	BucketARN  string
	ObjectsARN string
	Prefix     string
	KeyARN     string
	// ViaService is the kms:ViaService value, s3.<region>.amazonaws.com.
	ViaService string
}

var (
	levels    map[string]Level
	templates = template.New("").Funcs(template.FuncMap{"json": toJSON})
)

func init() {
	data, err := files.ReadFile("access.json")
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&levels); err != nil {
		panic(fmt.Sprintf("templates: access.json: %v", err))
	}
	template.Must(templates.ParseFS(files, "statements/*.json.tmpl"))
}

func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Levels returns the names of the access levels, sorted.
func Levels() []string {
	names := make([]string, 0, len(levels))
	for n := range levels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LevelNamed returns an access level by name.
func LevelNamed(name string) (Level, bool) {
	l, ok := levels[name]
	return l, ok
}

// Render returns the JSON of one statement: the part it covers, in the
// policy kind given (bucket_policy, key_policy or iam_policy).
func Render(kind string, part Part, d Data) ([]byte, error) {
	name := kind + "." + string(part) + ".json.tmpl"
	t := templates.Lookup(name)
	if t == nil {
		return nil, fmt.Errorf("no statement template %s", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}
