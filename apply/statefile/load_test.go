package statefile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// The state file name the error tests use; messages start with it.
const stateName = "state.json"

// ownerFile wraps the body of account 111122223333 into a multi-line state
// file.
func ownerFile(body string) string {
	return "{\n  \"format_version\": \"1\",\n  \"accounts\": {\n    \"111122223333\": " + body + "\n  }\n}\n"
}

// granteeFile wraps the body of account 444455556666 the same way.
func granteeFile(body string) string {
	return "{\n  \"format_version\": \"1\",\n  \"accounts\": {\n    \"444455556666\": " + body + "\n  }\n}\n"
}

// managedFile wraps the managed_policies object.
func managedFile(body string) string {
	return "{\n  \"format_version\": \"1\",\n  \"managed_policies\": " + body + "\n}\n"
}

// position returns "line:col" of the place at marks in data: at is a string
// that occurs once in data with a | where the position is ("|" alone for
// the end of data).
func position(t *testing.T, data, at string) string {
	t.Helper()
	if at == "|" {
		return lineCol(data, len(data))
	}
	before, after, ok := strings.Cut(at, "|")
	if !ok {
		t.Fatalf("test fixture: position marker %q has no |", at)
	}
	marker := before + after
	if n := strings.Count(data, marker); n != 1 {
		t.Fatalf("test fixture: marker %q occurs %d times in %q, want 1", marker, n, data)
	}
	return lineCol(data, strings.Index(data, marker)+len(before))
}

func lineCol(data string, offset int) string {
	line, col := 1, 1
	for _, c := range []byte(data[:offset]) {
		col++
		if c == '\n' {
			line, col = line+1, 1
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}

type parseErrorTest struct {
	name string
	data string
	// at marks the reported position (see position); "" when the message
	// has none.
	at   string
	path string
	msg  string
}

// want is the exact one-line message.
func (tt parseErrorTest) want(t *testing.T) string {
	t.Helper()
	w := stateName
	if tt.at != "" {
		w += ":" + position(t, tt.data, tt.at)
	}
	if tt.path != "" {
		w += ": " + tt.path
	}
	return w + ": " + tt.msg
}

func runParseErrorTests(t *testing.T, tests []parseErrorTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want(t)
			f, err := Parse(stateName, []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse accepted the file, want error %q", want)
			}
			if f != nil {
				t.Errorf("Parse returned a File with its error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error %v is a %T, want *Error", err, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error message has more than one line: %q", err)
			}
			if e.File != stateName || e.Path != tt.path || e.Msg != tt.msg {
				t.Errorf("Parse error file, path, message = %q, %q, %q; want %q, %q, %q", e.File, e.Path, e.Msg, stateName, tt.path, tt.msg)
			}
			if got := err.Error(); got != want {
				t.Errorf("Parse error mismatch (-want +got):\n%s", cmp.Diff(want, got))
			}
		})
	}
}

// typeErrorBug: encoding/json reports a type error at the end of a literal or
// just past the opening bracket of an object or array; load.go reports that
// offset as is instead of the start of the offending value, where every
// other message of the file points.

func TestParseSyntaxErrors(t *testing.T) {
	runParseErrorTests(t, []parseErrorTest{
		{
			name: "missing colon",
			data: "{\n  \"format_version\" \"1\"\n}\n",
			at:   `"format_version" |"1"`,
			msg:  `invalid JSON: invalid character '"' after object key`,
		},
		{
			name: "trailing comma",
			data: "{\n  \"format_version\": \"1\",\n}\n",
			at:   "\n|}",
			msg:  `invalid JSON: invalid character '}' looking for beginning of object key string`,
		},
		{
			name: "missing comma between members",
			data: "{\n  \"format_version\": \"1\"\n  \"accounts\": {}\n}\n",
			at:   `|"accounts"`,
			msg:  `invalid JSON: invalid character '"' after object key:value pair`,
		},
		{
			name: "bad literal deep in the file",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "x": tru } } }`),
			at:   `tru| }`,
			msg:  `invalid JSON: invalid character ' ' in literal true (expecting 'e')`,
		},
		{
			name: "control character in a string",
			data: "{\"format_version\": \"1\x01\"}",
			at:   "1|\x01",
			msg:  `invalid JSON: invalid character '\x01' in string literal`,
		},
		{
			name: "single quotes",
			data: "{'format_version': '1'}",
			at:   "{|'",
			msg:  `invalid JSON: invalid character '\'' looking for beginning of object key string`,
		},
		{
			name: "byte order mark",
			data: "\xef\xbb\xbf{\"format_version\": \"1\"}",
			at:   "|\xef",
			msg:  `invalid JSON: invalid character 'ï' looking for beginning of value`,
		},
		{
			name: "truncated after an opening brace",
			data: "{\n  \"format_version\": \"1\",\n  \"accounts\": {",
			at:   "|",
			msg:  "invalid JSON: the file ends in the middle of a value",
		},
		{
			name: "truncated inside a string",
			data: "{\n  \"format_version\": \"1",
			at:   "|",
			msg:  "invalid JSON: the file ends in the middle of a value",
		},
		{
			name: "truncated after a member",
			data: ownerFile(`{ "buckets": {} }`)[:60],
			at:   "|",
			msg:  "invalid JSON: the file ends in the middle of a value",
		},
		{
			name: "only an opening brace",
			data: "{",
			at:   "|",
			msg:  "invalid JSON: the file ends in the middle of a value",
		},
		{
			name: "empty file",
			data: "",
			msg:  `empty file; want a JSON object with format_version "1"`,
		},
		{
			name: "only white space",
			data: " \n\t\r\n",
			msg:  `empty file; want a JSON object with format_version "1"`,
		},
		{
			name: "a second object",
			data: "{\"format_version\": \"1\"}\n{\"format_version\": \"1\"}\n",
			at:   "\n|{",
			msg:  "unexpected data after the top-level object",
		},
		{
			name: "trailing word",
			data: "{\"format_version\": \"1\"} x",
			at:   "} |x",
			msg:  "unexpected data after the top-level object",
		},
		{
			name: "trailing comma after the object",
			data: "{\n  \"format_version\": \"1\"\n},\n",
			at:   "}|,",
			msg:  "unexpected data after the top-level object",
		},
		{
			name: "trailing closing brace",
			data: "{\n  \"format_version\": \"1\"\n}}\n",
			at:   "}|}",
			msg:  "unexpected data after the top-level object",
		},
		{
			name: "trailing closing bracket",
			data: "{\n  \"format_version\": \"1\"\n}\n]\n",
			at:   "\n|]",
			msg:  "unexpected data after the top-level object",
		},
	})
}

func TestParseTypeErrors(t *testing.T) {
	runParseErrorTests(t, []parseErrorTest{
		{
			name: "top level is an array",
			data: "[]\n",
			at:   "|[",
			msg:  "want an object, got JSON array",
		},
		{
			name: "top level is a string",
			data: `"format_version"`,
			at:   `|"format_version"`,
			msg:  "want an object, got JSON string",
		},
		{
			name: "format_version is a number",
			data: "{\n  \"format_version\": 1\n}\n",
			at:   `: |1`,
			path: "format_version",
			msg:  "want a string, got JSON number",
		},
		{
			name: "accounts is a list",
			data: "{\n  \"format_version\": \"1\",\n  \"accounts\": []\n}\n",
			at:   `|[]`,
			path: "accounts",
			msg:  "want an object, got JSON array",
		},
		{
			name: "account is a string",
			data: ownerFile(`"all of them"`),
			at:   `|"all of them"`,
			path: "accounts.111122223333",
			msg:  "want an object, got JSON string",
		},
		{
			name: "region is a number",
			data: ownerFile("{\n      \"buckets\": {\n        \"doc-bucket\": { \"region\": 5 }\n      }\n    }"),
			at:   `"region": |5`,
			path: "accounts.111122223333.buckets.doc-bucket.region",
			msg:  "want a string, got JSON number",
		},
		{
			name: "bucket_key_enabled is a string",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "default_encryption": { "sse_algorithm": "aws:kms", "bucket_key_enabled": "yes" } } } }`),
			at:   `|"yes"`,
			path: "accounts.111122223333.buckets.doc-bucket.default_encryption.bucket_key_enabled",
			msg:  "want true or false, got JSON string",
		},
		{
			name: "default_encryption is a string",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "default_encryption": "aws:kms" } } }`),
			at:   `|"aws:kms"`,
			path: "accounts.111122223333.buckets.doc-bucket.default_encryption",
			msg:  "want an object, got JSON string",
		},
		{
			name: "an object is a number",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "objects": { "reports/q1.csv": 7 } } } }`),
			at:   `|7`,
			path: "accounts.111122223333.buckets.doc-bucket.objects.reports/q1.csv",
			msg:  "want an object, got JSON number",
		},
		{
			name: "aliases is a string",
			data: ownerFile(`{ "kms_keys": { "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab": { "aliases": "alias/app-data" } } }`),
			at:   `|"alias/app-data"`,
			path: "accounts.111122223333.kms_keys.arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab.aliases",
			msg:  "want a list, got JSON string",
		},
		{
			name: "an attached policy is a number",
			data: granteeFile(`{ "iam_roles": { "reader": { "attached_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess", 42] } } }`),
			at:   `|42`,
			path: "accounts.444455556666.iam_roles.reader.attached_policies.1",
			msg:  "want a string, got JSON number",
		},
		{
			name: "an IAM path is an object",
			data: granteeFile(`{ "iam_users": { "alice": { "path": { "team": true } } } }`),
			at:   `|{ "team"`,
			path: "accounts.444455556666.iam_users.alice.path",
			msg:  "want a string, got JSON object",
		},
		{
			name: "managed_policies is a list",
			data: managedFile(`[]`),
			at:   `|[]`,
			path: "managed_policies",
			msg:  "want an object, got JSON array",
		},
	})
}

func TestParseCheckErrors(t *testing.T) {
	const keyARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	const keyPolicy = `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}`
	key := func(fields string) string {
		return ownerFile("{\n      \"kms_keys\": {\n        \"" + keyARN + "\": {\n          " + fields + "\n        }\n      }\n    }")
	}
	role := func(name, fields string) string {
		return granteeFile("{\n      \"iam_roles\": {\n        \"" + name + "\": {\n          " + fields + "\n        }\n      }\n    }")
	}
	runParseErrorTests(t, []parseErrorTest{
		// format_version
		{name: "missing format_version", data: "{\n  \"accounts\": {}\n}\n", at: "|{\n", msg: `missing format_version (want "1")`},
		{name: "empty object", data: "{}", at: "|{}", msg: `missing format_version (want "1")`},
		{name: "null format_version", data: `{"format_version": null}`, at: "|{", msg: `missing format_version (want "1")`},
		{
			name: "unknown format_version",
			data: "{\n  \"format_version\": \"2\",\n  \"accounts\": {}\n}\n",
			at:   `|"2"`, path: "format_version",
			msg: `unsupported format_version "2"; this kmsgrant reads "1"`,
		},
		{
			name: "format_version 1.0",
			data: `{"format_version": "1.0"}`,
			at:   `|"1.0"`, path: "format_version",
			msg: `unsupported format_version "1.0"; this kmsgrant reads "1"`,
		},

		// accounts
		{
			name: "account ID too short",
			data: "{\n  \"format_version\": \"1\",\n  \"accounts\": {\n    \"1234\": {}\n  }\n}\n",
			at:   `"1234": |{}`, path: "accounts.1234",
			msg: "account IDs are 12 digits",
		},
		{
			name: "account ID with a letter",
			data: "{\n  \"format_version\": \"1\",\n  \"accounts\": {\n    \"11112222333a\": {}\n  }\n}\n",
			at:   `"11112222333a": |{}`, path: "accounts.11112222333a",
			msg: "account IDs are 12 digits",
		},
		{
			name: "account is null",
			data: ownerFile("null"),
			at:   "|null", path: "accounts.111122223333",
			msg: "want an object",
		},

		// buckets
		{
			name: "legacy bucket name outside us-east-1",
			data: ownerFile(`{ "buckets": { "Doc_Bucket": { "region": "us-west-2" } } }`),
			at:   `"Doc_Bucket": |{`, path: "accounts.111122223333.buckets.Doc_Bucket",
			msg: `"Doc_Bucket" is a legacy bucket name, which S3 allowed only in us-east-1 (before March 2018), but the bucket is in us-west-2`,
		},
		{
			name: "bucket name with a space",
			data: ownerFile(`{ "buckets": { "Doc Bucket": { "region": "us-east-1" } } }`),
			at:   `"Doc Bucket": |{`, path: "accounts.111122223333.buckets.Doc Bucket",
			msg: `"Doc Bucket" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens; or, created in us-east-1 before March 2018, up to 255 letters, digits, dots, hyphens and underscores)`,
		},
		{
			name: "bucket name too short",
			data: ownerFile(`{ "buckets": { "b1": { "region": "us-west-2" } } }`),
			at:   `"b1": |{`, path: "accounts.111122223333.buckets.b1",
			msg: `"b1" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens; or, created in us-east-1 before March 2018, up to 255 letters, digits, dots, hyphens and underscores)`,
		},
		{
			name: "missing region",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "object_ownership": "BucketOwnerEnforced" } } }`),
			path: "accounts.111122223333.buckets.doc-bucket.region",
			msg:  "want a Region such as us-west-2",
		},
		{
			name: "bucket is null",
			data: ownerFile(`{ "buckets": { "doc-bucket": null } }`),
			path: "accounts.111122223333.buckets.doc-bucket.region",
			msg:  "want a Region such as us-west-2",
		},
		{
			name: "bad region",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west" } } }`),
			at:   `|"us-west"`, path: "accounts.111122223333.buckets.doc-bucket.region",
			msg: "want a Region such as us-west-2",
		},
		{
			name: "bad sse_algorithm",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "default_encryption": { "sse_algorithm": "aws:kms:foo" } } } }`),
			at:   `|"aws:kms:foo"`, path: "accounts.111122223333.buckets.doc-bucket.default_encryption.sse_algorithm",
			msg: "want AES256, aws:kms or aws:kms:dsse",
		},
		{
			name: "missing sse_algorithm",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "default_encryption": { "bucket_key_enabled": true } } } }`),
			path: "accounts.111122223333.buckets.doc-bucket.default_encryption.sse_algorithm",
			msg:  "want AES256, aws:kms or aws:kms:dsse",
		},
		{
			name: "AES256 with a key",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "default_encryption": { "sse_algorithm": "AES256", "kms_master_key_id": "alias/app-data" } } } }`),
			at:   `|"alias/app-data"`, path: "accounts.111122223333.buckets.doc-bucket.default_encryption.kms_master_key_id",
			msg: "AES256 (SSE-S3) takes no KMS key",
		},
		{
			name: "bad kms_master_key_id",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "default_encryption": { "sse_algorithm": "aws:kms", "kms_master_key_id": "my-key" } } } }`),
			at:   `|"my-key"`, path: "accounts.111122223333.buckets.doc-bucket.default_encryption.kms_master_key_id",
			msg: `"my-key" is not a key ID, key ARN, alias name (alias/NAME) or alias ARN`,
		},
		{
			name: "bad object_ownership",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "object_ownership": "BucketOwnerFull" } } }`),
			at:   `|"BucketOwnerFull"`, path: "accounts.111122223333.buckets.doc-bucket.object_ownership",
			msg: "want BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter",
		},
		{
			name: "object is null",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "objects": { "a/b.csv": null } } } }`),
			at:   `|null`, path: "accounts.111122223333.buckets.doc-bucket.objects.a/b.csv",
			msg: "want an object",
		},
		{
			name: "bucket policy with a bad Effect",
			data: ownerFile("{\n      \"buckets\": {\n        \"doc-bucket\": {\n          \"region\": \"us-west-2\",\n          \"policy\": {\n            \"Version\": \"2012-10-17\",\n            \"Statement\": [{ \"Effect\": \"Maybe\", \"Action\": \"s3:*\", \"Resource\": \"*\" }]\n          }\n        }\n      }\n    }"),
			at:   `"policy": |{`, path: "accounts.111122223333.buckets.doc-bucket.policy",
			msg: `not a valid policy: Statement[0].Effect: must be "Allow" or "Deny", got "Maybe"`,
		},
		{
			name: "bucket policy that is a string",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "policy": "{}" } } }`),
			at:   `|"{}"`, path: "accounts.111122223333.buckets.doc-bucket.policy",
			msg: "not a valid policy: a policy document must be a JSON object",
		},
		{
			name: "bucket policy with a single-object Statement and a bad Action",
			data: ownerFile(`{ "buckets": { "doc-bucket": { "region": "us-west-2", "policy": { "Statement": { "Effect": "Allow", "Action": 5 } } } } }`),
			at:   `"policy": |{`, path: "accounts.111122223333.buckets.doc-bucket.policy",
			msg: "not a valid policy: Statement.Action: must be a string or a list of strings",
		},

		// KMS keys
		{
			name: "key listed by alias",
			data: ownerFile(`{ "kms_keys": { "alias/app-data": { "key_manager": "CUSTOMER", "key_state": "Enabled", "policy": ` + keyPolicy + ` } } }`),
			at:   `"alias/app-data": |{`, path: "accounts.111122223333.kms_keys.alias/app-data",
			msg: `keys are listed by full key ARN: "alias/app-data" is not a key ARN (it is the alias name form)`,
		},
		{
			name: "key listed by key ID",
			data: ownerFile(`{ "kms_keys": { "1234abcd-12ab-34cd-56ef-1234567890ab": { "key_manager": "CUSTOMER" } } }`),
			at:   `"1234abcd-12ab-34cd-56ef-1234567890ab": |{`, path: "accounts.111122223333.kms_keys.1234abcd-12ab-34cd-56ef-1234567890ab",
			msg: `keys are listed by full key ARN: "1234abcd-12ab-34cd-56ef-1234567890ab" is not a key ARN (it is the key ID form)`,
		},
		{
			name: "key listed by alias ARN",
			data: ownerFile(`{ "kms_keys": { "arn:aws:kms:us-west-2:111122223333:alias/app-data": { "key_manager": "CUSTOMER" } } }`),
			at:   `: |{ "key_manager"`, path: "accounts.111122223333.kms_keys.arn:aws:kms:us-west-2:111122223333:alias/app-data",
			msg: `keys are listed by full key ARN: "arn:aws:kms:us-west-2:111122223333:alias/app-data" is not a key ARN (it is the alias ARN form)`,
		},
		{
			name: "key ARN with a bad key ID",
			data: ownerFile(`{ "kms_keys": { "arn:aws:kms:us-west-2:111122223333:key/not-a-key": { "key_manager": "CUSTOMER" } } }`),
			at:   `: |{ "key_manager"`, path: "accounts.111122223333.kms_keys.arn:aws:kms:us-west-2:111122223333:key/not-a-key",
			msg: `keys are listed by full key ARN: "arn:aws:kms:us-west-2:111122223333:key/not-a-key" is not a KMS key or alias ARN`,
		},
		{
			name: "key ARN under another account",
			data: ownerFile(`{ "kms_keys": { "arn:aws:kms:us-west-2:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab": { "key_manager": "CUSTOMER" } } }`),
			at:   `: |{ "key_manager"`, path: "accounts.111122223333.kms_keys.arn:aws:kms:us-west-2:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			msg: "key ARN names account 999988887777 but is listed under account 111122223333",
		},
		{
			name: "bad key_manager",
			data: key(`"key_manager": "Customer", "key_state": "Enabled", "policy": ` + keyPolicy),
			at:   `|"Customer"`, path: "accounts.111122223333.kms_keys." + keyARN + ".key_manager",
			msg: "want AWS or CUSTOMER",
		},
		{
			name: "missing key_manager",
			data: key(`"key_state": "Enabled", "policy": ` + keyPolicy),
			path: "accounts.111122223333.kms_keys." + keyARN + ".key_manager",
			msg:  "want AWS or CUSTOMER",
		},
		{
			name: "key is null",
			data: ownerFile(`{ "kms_keys": { "` + keyARN + `": null } }`),
			path: "accounts.111122223333.kms_keys." + keyARN + ".key_manager",
			msg:  "want AWS or CUSTOMER",
		},
		{
			name: "bad key_state",
			data: key(`"key_manager": "CUSTOMER", "key_state": "enabled", "policy": ` + keyPolicy),
			at:   `|"enabled"`, path: "accounts.111122223333.kms_keys." + keyARN + ".key_state",
			msg: "want one of Enabled, Disabled, PendingDeletion, PendingImport, PendingReplicaDeletion, Unavailable, Creating, Updating",
		},
		{
			name: "missing key policy",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled"`),
			at:   `1234567890ab": |{`, path: "accounts.111122223333.kms_keys." + keyARN,
			msg: "missing policy: every KMS key has a key policy",
		},
		{
			name: "null key policy",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "policy": null`),
			at:   `|null`, path: "accounts.111122223333.kms_keys." + keyARN + ".policy",
			msg: "missing policy document",
		},
		{
			name: "key policy without Statement",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "policy": { "Version": "2012-10-17" }`),
			at:   `"policy": |{`, path: "accounts.111122223333.kms_keys." + keyARN + ".policy",
			msg: "not a valid policy: missing Statement",
		},
		{
			name: "alias without alias/",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": ["alias/ok", "app-data"], "policy": ` + keyPolicy),
			at:   `|["alias/ok"`, path: "accounts.111122223333.kms_keys." + keyARN + ".aliases",
			msg: `"app-data" is not an alias name (alias/NAME)`,
		},
		{
			name: "grant without a grantee",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "policy": ` + keyPolicy + `, "grants": [{"grant_id": "g1", "operations": ["Decrypt"]}]`),
			at:   `"grants": [|{"grant_id"`, path: "accounts.111122223333.kms_keys." + keyARN + ".grants.0",
			msg: "missing grantee_principal (an ARN, or a service principal such as s3.amazonaws.com)",
		},
		{
			name: "grant of an operation KMS has not",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "policy": ` + keyPolicy + `, "grants": [{"grant_id": "g1", "grantee_principal": "arn:aws:iam::444455556666:role/reader", "operations": ["Decrypt", "kms:Decrypt"]}]`),
			at:   `"operations": |["Decrypt", "kms`, path: "accounts.111122223333.kms_keys." + keyARN + ".grants.0.operations",
			msg: `"kms:Decrypt" is not a grant operation (want one of Decrypt, Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, ReEncryptFrom, ReEncryptTo, Sign, Verify, GetPublicKey, CreateGrant, RetireGrant, DescribeKey, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, GenerateMac, VerifyMac, DeriveSharedSecret)`,
		},
		{
			name: "alias listed as an alias ARN",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": ["arn:aws:kms:us-west-2:111122223333:alias/app-data"], "policy": ` + keyPolicy),
			at:   `|["arn:`, path: "accounts.111122223333.kms_keys." + keyARN + ".aliases",
			msg: `"arn:aws:kms:us-west-2:111122223333:alias/app-data" is not an alias name (alias/NAME)`,
		},
		{
			name: "alias with a space",
			data: key(`"key_manager": "CUSTOMER", "key_state": "Enabled", "aliases": ["alias/app data"], "policy": ` + keyPolicy),
			at:   `|["alias/app data"]`, path: "accounts.111122223333.kms_keys." + keyARN + ".aliases",
			msg: `"alias/app data" is not an alias name (alias/NAME)`,
		},

		// IAM roles and users
		{
			name: "role name with a space",
			data: role("bad name", `"path": "/"`),
			at:   `"bad name": |{`, path: "accounts.444455556666.iam_roles.bad name",
			msg: "not a valid IAM name",
		},
		{
			name: "user name with a slash",
			data: granteeFile(`{ "iam_users": { "team/alice": { "path": "/team/" } } }`),
			at:   `"team/alice": |{`, path: "accounts.444455556666.iam_users.team/alice",
			msg: "not a valid IAM name",
		},
		{
			name: "role name of 65 characters",
			data: role(strings.Repeat("r", 65), `"path": "/"`),
			at:   `r": |{`, path: "accounts.444455556666.iam_roles." + strings.Repeat("r", 65),
			msg: "not a valid IAM name",
		},
		{
			name: "user name of 65 characters",
			data: granteeFile(`{ "iam_users": { "` + strings.Repeat("u", 65) + `": {} } }`),
			at:   `u": |{`, path: "accounts.444455556666.iam_users." + strings.Repeat("u", 65),
			msg: "not a valid IAM name",
		},
		{
			name: "role is null",
			data: granteeFile(`{ "iam_roles": { "reader": null } }`),
			at:   `|null`, path: "accounts.444455556666.iam_roles.reader",
			msg: "want an object",
		},
		{
			name: "path without slashes",
			data: role("reader", `"path": "team"`),
			at:   `|"team"`, path: "accounts.444455556666.iam_roles.reader.path",
			msg: "an IAM path starts and ends with /",
		},
		{
			name: "path without a trailing slash",
			data: granteeFile(`{ "iam_users": { "alice": { "path": "/team" } } }`),
			at:   `|"/team"`, path: "accounts.444455556666.iam_users.alice.path",
			msg: "an IAM path starts and ends with /",
		},
		{
			name: "path with a space",
			data: role("reader", `"path": "/my team/"`),
			at:   `|"/my team/"`, path: "accounts.444455556666.iam_roles.reader.path",
			msg: "an IAM path starts and ends with /",
		},
		{
			name: "inline policy with an unknown element",
			data: role("reader", `"inline_policies": { "p1": { "Version": "2012-10-17", "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" }, { "Effect": "Allow", "Actions": "s3:GetObject", "Resource": "*" }] } }`),
			at:   `"p1": |{`, path: "accounts.444455556666.iam_roles.reader.inline_policies.p1",
			msg: "not a valid policy: Statement[1].Actions: unknown statement element",
		},
		{
			name: "inline policy with Action and NotAction",
			data: role("reader", `"inline_policies": { "p1": { "Statement": [{ "Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Delete*", "Resource": "*" }] } }`),
			at:   `"p1": |{`, path: "accounts.444455556666.iam_roles.reader.inline_policies.p1",
			msg: "not a valid policy: Statement[0]: needs exactly one of Action and NotAction",
		},
		{
			name: "inline policy with a bad condition value",
			data: role("reader", `"inline_policies": { "p1": { "Statement": [{ "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": { "StringEquals": { "kms:ViaService": {} } } }] } }`),
			at:   `"p1": |{`, path: "accounts.444455556666.iam_roles.reader.inline_policies.p1",
			msg: "not a valid policy: Statement[0].Condition.StringEquals.kms:ViaService: condition values must be strings, numbers or booleans",
		},
		{
			name: "inline policy is null",
			data: granteeFile(`{ "iam_users": { "alice": { "inline_policies": { "p1": null } } } }`),
			at:   `|null`, path: "accounts.444455556666.iam_users.alice.inline_policies.p1",
			msg: "missing policy document",
		},
		{
			name: "attached policy by name",
			data: role("reader", `"attached_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "ReadOnlyAccess"]`),
			at:   `"reader": |{`, path: "accounts.444455556666.iam_roles.reader",
			msg: `"ReadOnlyAccess" is not a managed policy ARN`,
		},
		{
			name: "permissions boundary that is a role ARN",
			data: granteeFile(`{ "iam_users": { "alice": { "permissions_boundary": "arn:aws:iam::444455556666:role/boundary" } } }`),
			at:   `"alice": |{`, path: "accounts.444455556666.iam_users.alice",
			msg: `"arn:aws:iam::444455556666:role/boundary" is not a managed policy ARN`,
		},

		// managed policies
		{
			name: "managed policy by name",
			data: managedFile(`{ "ReadOnlyAccess": { "Statement": [] } }`),
			at:   `"ReadOnlyAccess": |{`, path: "managed_policies.ReadOnlyAccess",
			msg: "want a managed policy ARN such as arn:aws:iam::aws:policy/NAME",
		},
		{
			name: "managed policy keyed by a role ARN",
			data: managedFile(`{ "arn:aws:iam::444455556666:role/reader": { "Statement": [] } }`),
			at:   `: |{ "Statement"`, path: "managed_policies.arn:aws:iam::444455556666:role/reader",
			msg: "want a managed policy ARN such as arn:aws:iam::aws:policy/NAME",
		},
		{
			name: "managed policy ARN with a bad account",
			data: managedFile(`{ "arn:aws:iam::4444:policy/boundary": { "Statement": [] } }`),
			at:   `: |{ "Statement"`, path: "managed_policies.arn:aws:iam::4444:policy/boundary",
			msg: "want a managed policy ARN such as arn:aws:iam::aws:policy/NAME",
		},
		{
			name: "managed policy with a bad Version",
			data: managedFile("{\n    \"arn:aws:iam::aws:policy/ReadOnlyAccess\": {\n      \"Version\": \"2012-10-18\",\n      \"Statement\": []\n    }\n  }"),
			at:   "ReadOnlyAccess\": |{", path: "managed_policies.arn:aws:iam::aws:policy/ReadOnlyAccess",
			msg: `not a valid policy: Version: must be "2012-10-17" or "2008-10-17", got "2012-10-18"`,
		},
		{
			name: "managed policy is null",
			data: managedFile(`{ "arn:aws:iam::aws:policy/ReadOnlyAccess": null }`),
			at:   `|null`, path: "managed_policies.arn:aws:iam::aws:policy/ReadOnlyAccess",
			msg: "missing policy document",
		},
	})
}

// TestParseErrorMessages pins the whole format of a few messages, written
// out by hand.
func TestParseErrorMessages(t *testing.T) {
	tests := []struct {
		data, want string
	}{
		{
			data: "{\n  \"format_version\": \"1\",\n  \"accounts\": {\n    \"111122223333\": {\n      \"buckets\": {\n        \"doc-bucket\": { \"region\": \"us-west\" }\n      }\n    }\n  }\n}\n",
			want: "state.json:6:35: accounts.111122223333.buckets.doc-bucket.region: want a Region such as us-west-2",
		},
		{
			data: "{\n  \"format_version\": \"1\"\n  \"accounts\": {}\n}\n",
			want: "state.json:3:3: invalid JSON: invalid character '\"' after object key:value pair",
		},
		{
			data: "{\"format_version\": \"1\"} []",
			want: "state.json:1:25: unexpected data after the top-level object",
		},
		{
			data: "",
			want: "state.json: empty file; want a JSON object with format_version \"1\"",
		},
		{
			data: "{\"format_version\": \"1\", \"accounts\": {\"111122223333\": {\"buckets\": {\"doc-bucket\": {}}}}}",
			want: "state.json: accounts.111122223333.buckets.doc-bucket.region: want a Region such as us-west-2",
		},
	}
	for _, tt := range tests {
		_, err := Parse(stateName, []byte(tt.data))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error = %v, want %q", tt.data, err, tt.want)
		}
	}
}

// TestParseAccepts covers files that must parse.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name, data string
	}{
		{"only format_version", `{"format_version": "1"}`},
		{"trailing white space", "{\"format_version\": \"1\"}\n\n\t "},
		{"empty maps and nulls", `{"format_version": "1", "accounts": {}, "managed_policies": null}`},
		{"unknown fields everywhere", `{"format_version": "1", "x_notes": [1, {"a": null}], "accounts": {"111122223333": {"x_alias": "prod", "buckets": {"doc-bucket": {"region": "us-west-2", "x_tags": {"a": 1}, "objects": {"k": {"x": true}}}}, "iam_roles": {"r": {"x": 1}}}}}`},
		{"null bucket policy", `{"format_version": "1", "accounts": {"111122223333": {"buckets": {"doc-bucket": {"region": "us-west-2", "policy": null}}}}}`},
		{"every sse_algorithm", `{"format_version": "1", "accounts": {"111122223333": {"buckets": {"b-aes": {"region": "us-west-2", "default_encryption": {"sse_algorithm": "AES256"}}, "b-kms": {"region": "us-gov-west-1", "default_encryption": {"sse_algorithm": "aws:kms"}}, "b-dsse": {"region": "cn-north-1", "default_encryption": {"sse_algorithm": "aws:kms:dsse", "kms_master_key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"}}}}}}`},
		{"every key state", `{"format_version": "1", "accounts": {"111122223333": {"kms_keys": {` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a1": {"key_manager": "AWS", "key_state": "Disabled", "policy": {"Statement": []}},` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a2": {"key_manager": "CUSTOMER", "key_state": "PendingDeletion", "policy": {"Statement": []}},` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a3": {"key_manager": "CUSTOMER", "key_state": "PendingImport", "policy": {"Statement": []}},` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a4": {"key_manager": "CUSTOMER", "key_state": "PendingReplicaDeletion", "policy": {"Statement": []}},` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a5": {"key_manager": "CUSTOMER", "key_state": "Unavailable", "policy": {"Statement": []}},` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a6": {"key_manager": "CUSTOMER", "key_state": "Creating", "policy": {"Statement": []}},` +
			`"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890a7": {"key_manager": "CUSTOMER", "key_state": "Updating", "policy": {"Statement": []}}` +
			`}}}}`},
		{"legacy bucket names in us-east-1", `{"format_version": "1", "accounts": {"111122223333": {"buckets": {"Legacy_Bucket": {"region": "us-east-1"}, "legacy..bucket-": {"region": "us-east-1"}, "` + strings.Repeat("A_", 127) + `b": {"region": "us-east-1"}, "doc-bucket": {"region": "us-west-2"}}}}}`},
		{"IAM paths and names", `{"format_version": "1", "accounts": {"444455556666": {"iam_roles": {"a+b=c,d.e@f-g_h": {"path": "/a/b/c/"}, "r": {"path": "/"}}, "iam_users": {"u": {"path": ""}}}}}`},
		{"managed policy ARNs", `{"format_version": "1", "managed_policies": {"arn:aws:iam::aws:policy/service-role/AmazonS3ReadOnly": {"Statement": []}, "arn:aws-cn:iam::444455556666:policy/path/boundary": {"Version": "2008-10-17", "Statement": []}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(stateName, []byte(tt.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(f.Bytes()) != tt.data {
				t.Errorf("Bytes() = %q, want the input", f.Bytes())
			}
		})
	}
}

func TestParseExamples(t *testing.T) {
	files := exampleFiles(t)
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file)), func(t *testing.T) {
			f, err := Open(file)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(f.Bytes())); diff != "" {
				t.Errorf("Bytes() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func exampleFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("../../examples/*/state.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no example state files: %v", err)
	}
	return files
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing file", func(t *testing.T) {
		_, err := Open(filepath.Join(dir, "missing.json"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open error = %v, want fs.ErrNotExist", err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "reading state file: ") {
			t.Errorf("Open error = %q, want it to start with %q", err, "reading state file: ")
		}
	})
	t.Run("directory", func(t *testing.T) {
		_, err := Open(dir)
		want := "reading state file: " + dir + ": not a regular file (a directory)"
		if err == nil || err.Error() != want {
			t.Errorf("Open error = %v, want %q", err, want)
		}
	})
	t.Run("bad contents name the file as given", func(t *testing.T) {
		name := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(name, []byte("{\n  \"format_version\": \"9\"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(name)
		want := name + `:2:21: format_version: unsupported format_version "9"; this kmsgrant reads "1"`
		if err == nil || err.Error() != want {
			t.Errorf("Open error = %v, want %q", err, want)
		}
	})
}

// FuzzParse checks that Parse never panics, and that a file it accepts holds
// only policies that marshal to valid JSON that parses to the same policy,
// re-parses to the same state, and takes back each of its own policies.
func FuzzParse(f *testing.F) {
	for _, file := range exampleFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(fixture))
	f.Add([]byte(`{"format_version": "1"}`))
	f.Add([]byte(`{"format_version": "1"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	// Flush with nothing written must not create this file.
	unwritten := filepath.Join(f.TempDir(), "state.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := Parse(stateName, data)
		if err != nil {
			if sf != nil {
				t.Fatalf("Parse returned a File with error %v", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error %v is a %T, want *Error", err, err)
			}
			if strings.Contains(e.Msg, "\n") {
				t.Fatalf("Parse error has more than one line: %q", err)
			}
			return
		}
		for path, doc := range sf.docs {
			compact := doc.Compact()
			if !json.Valid(compact) {
				t.Fatalf("policy at %q marshals to invalid JSON %q", strings.ReplaceAll(path, "\x00", "."), compact)
			}
			again, err := policy.Parse(compact)
			if err != nil {
				t.Fatalf("policy at %q marshals to %s, which does not parse: %v", strings.ReplaceAll(path, "\x00", "."), compact, err)
			}
			if again.Pretty() != doc.Pretty() {
				t.Fatalf("policy at %q changes on a round trip:\n%s\n%s", path, doc.Pretty(), again.Pretty())
			}
		}
		// A Flush with nothing written does not write.
		sf.name = unwritten
		if err := sf.Flush(context.Background()); err != nil {
			t.Fatalf("Flush with nothing written: %v", err)
		}
		if _, err := os.Stat(sf.name); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Flush with nothing written created the file (stat: %v)", err)
		}
		again, err := Parse(stateName, sf.Bytes())
		if err != nil {
			t.Fatalf("Bytes() of an accepted file does not parse: %v", err)
		}
		if diff := cmp.Diff(sf.st, again.st); diff != "" {
			t.Fatalf("state changes on a re-parse (-first +second):\n%s", diff)
		}
		// Writing each policy back as it is must be accepted and change
		// no policy.
		writeBack(t, sf)
	})
}

// writeBack writes every bucket, key and inline policy of f back unchanged,
// and checks that every policy then reads as before.
func writeBack(t *testing.T, f *File) {
	t.Helper()
	before := map[string]string{}
	for path, doc := range f.docs {
		before[path] = doc.Pretty()
	}
	var changes []generate.Change
	for _, id := range sortedKeys(f.st.Accounts) {
		acct := f.st.Accounts[id]
		for _, name := range sortedKeys(acct.Buckets) {
			if doc := f.doc("accounts", id, "buckets", name, "policy"); doc != nil {
				changes = append(changes, generate.Change{Kind: generate.KindBucketPolicy, Account: id, Target: arns.BucketARN("aws", name), Policy: doc})
			}
		}
		for _, k := range sortedKeys(acct.KMSKeys) {
			changes = append(changes, generate.Change{Kind: generate.KindKeyPolicy, Account: id, Target: k, Policy: f.doc("accounts", id, "kms_keys", k, "policy")})
		}
		for _, kind := range []arns.PrincipalKind{arns.Role, arns.User} {
			ids, key := acct.IAMRoles, "iam_roles"
			if kind == arns.User {
				ids, key = acct.IAMUsers, "iam_users"
			}
			for _, name := range sortedKeys(ids) {
				p := &arns.Principal{Kind: kind, Partition: "aws", Account: id, Path: orRoot(ids[name].Path), Name: name}
				for _, pn := range sortedKeys(ids[name].InlinePolicies) {
					changes = append(changes, generate.Change{Kind: generate.KindIAMPolicy, Account: id, Target: p.ARN(), PolicyName: pn, Grantee: p, Policy: f.doc("accounts", id, key, name, "inline_policies", pn)})
				}
			}
		}
	}
	for _, c := range changes {
		// As parsing the whole file again would.
		if err := writeAgrees(t, f, c); err != nil {
			t.Fatalf("writing back %s %s %s unchanged: %v", c.Kind, c.Target, c.PolicyName, err)
		}
	}
	after := map[string]string{}
	for path, doc := range f.docs {
		after[path] = doc.Pretty()
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("policies after writing them back unchanged (-before +after):\n%s", diff)
	}
}

// encoding/json matches keys without regard to case, but kmsgrant edits
// the exact key: a key that differs from a known one only in case is
// refused, at its place.
func TestParseRefusesKeysInAnotherCase(t *testing.T) {
	for _, tt := range []struct {
		name, data, want string
	}{
		{
			name: "bucket Policy",
			data: "{\"format_version\": \"1\", \"accounts\": {\"111122223333\": {\"buckets\": {\"b1\": {\"region\": \"us-west-2\",\n  \"Policy\": {\"Statement\": []}}}}}}",
			want: `state.json:2:13: accounts.111122223333.buckets.b1.Policy: keys are case-sensitive: did you mean "policy"?`,
		},
		{
			name: "top-level Format_Version",
			data: `{"Format_Version": "1"}`,
			want: `state.json:1:20: Format_Version: keys are case-sensitive: did you mean "format_version"?`,
		},
		{
			name: "role Inline_Policies",
			data: `{"format_version": "1", "accounts": {"444455556666": {"iam_roles": {"r": {"Inline_Policies": {}}}}}}`,
			want: `state.json:1:94: accounts.444455556666.iam_roles.r.Inline_Policies: keys are case-sensitive: did you mean "inline_policies"?`,
		},
		{
			name: "key Grants",
			data: `{"format_version": "1", "accounts": {"111122223333": {"kms_keys": {"k": {"Grants": []}}}}}`,
			want: `state.json:1:84: accounts.111122223333.kms_keys.k.Grants: keys are case-sensitive: did you mean "grants"?`,
		},
		{
			name: "object version SSE_Algorithm",
			data: `{"format_version": "1", "accounts": {"111122223333": {"buckets": {"b1": {"objects": {"o": {"versions": {"v1": {"SSE_Algorithm": "aws:kms"}}}}}}}}}`,
			want: `state.json:1:129: accounts.111122223333.buckets.b1.objects.o.versions.v1.SSE_Algorithm: keys are case-sensitive: did you mean "sse_algorithm"?`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("state.json", []byte(tt.data))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Parse error = %v\nwant %s", err, tt.want)
			}
		})
	}
	// Unknown keys that are not a known key in another case are kept.
	if _, err := Parse("state.json", []byte(`{"format_version": "1", "x_notes": "kept", "accounts": {}}`)); err != nil {
		t.Fatal(err)
	}
}
