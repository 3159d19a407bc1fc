package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/apply/statefile"
	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
)

const schemaBase = "https://github.com/kmsgrant/kmsgrant/docs/schema/"

// loadSchemas compiles the JSON Schemas in docs/schema. Strict, every
// object the schemas describe with properties takes no other property, so
// a field the output has and the schema (and its documentation) lacks
// fails the test; the published schemas leave objects open, since fields
// are added within a format_version.
func loadSchemas(t *testing.T, strict bool) (plan, result *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, name := range []string{"plan.schema.json", "result.schema.json"} {
		data, err := os.ReadFile(filepath.Join("../../../docs/schema", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strict {
			closeObjects(doc)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var err error
	if plan, err = c.Compile(schemaBase + "plan.schema.json"); err != nil {
		t.Fatal(err)
	}
	if result, err = c.Compile(schemaBase + "result.schema.json"); err != nil {
		t.Fatal(err)
	}
	return plan, result
}

// closeObjects sets additionalProperties false on every schema in v that
// lists properties.
func closeObjects(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"]; ok {
			if _, set := v["additionalProperties"]; !set {
				v["additionalProperties"] = false
			}
		}
		for _, sub := range v {
			closeObjects(sub)
		}
	case []any:
		for _, sub := range v {
			closeObjects(sub)
		}
	}
}

func validate(t *testing.T, s *jsonschema.Schema, what string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, doc)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not match its schema: %v\n%s", what, err, doc)
	}
}

// The JSON plan and the JSON result of apply, revoke and restore match
// their schemas in docs/schema, strictly (every field documented), in
// every shape they take: changes and none, blocked, validated, saved,
// applied, nothing to do, failed and rolled back, interrupted, revoked,
// restored.
func TestJSONMatchesSchemas(t *testing.T) {
	planSchema, resultSchema := loadSchemas(t, true)
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	const role = "arn:aws:iam::444455556666:role/reader"
	copyExample := func(name string) string {
		data, err := os.ReadFile(filepath.Join("../../../examples", name, "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	kmsgrant := func(f *Factory, args ...string) (int, []byte, string) {
		t.Helper()
		io, _, out, errOut := iostreams.Test()
		f.IO = io
		if f.OpenState == nil {
			f.OpenState = func(path string) (apply.Backend, error) { return statefile.Open(path) }
		}
		code := execute(context.Background(), f, args)
		return code, out.Bytes(), errOut.String()
	}
	expect := func(s *jsonschema.Schema, what string, wantCode int, wantStatus string, f *Factory, args ...string) {
		t.Helper()
		code, out, stderr := kmsgrant(f, args...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", what, code, wantCode, stderr)
		}
		validate(t, s, what, out)
		if wantStatus != "" {
			var r struct{ Status string }
			if err := json.Unmarshal(out, &r); err != nil || r.Status != wantStatus {
				t.Errorf("%s: status %q, want %q", what, r.Status, wantStatus)
			}
		}
	}

	for _, ex := range []struct{ name, bucket, grantee, more string }{
		{"seed", "doc-example-bucket", role, "--prefix reports/"},
		{"already-granted", "analytics-exports", "arn:aws:iam::444455556666:role/service-role/etl", "--access read,list"},
		{"sse-s3", "public-datasets-staging", "arn:aws:iam::444455556666:user/ci", "--access read,write"},
		{"perimeter", "ml-training-data", "arn:aws:iam::444455556666:role/trainer", "--prefix datasets/"},
	} {
		args := append([]string{"plan", "--state", copyExample(ex.name), "--bucket", ex.bucket, "--grantee", ex.grantee, "-o", "json"}, strings.Fields(ex.more)...)
		code, out, stderr := kmsgrant(&Factory{}, args...)
		if code != 0 && !strings.Contains(stderr, "plan blocked") {
			t.Errorf("plan of %s: exit %d: %s", ex.name, code, stderr)
		}
		validate(t, planSchema, "plan of "+ex.name, out)
	}
	viaGrant := copyExample("seed")
	expect(planSchema, "plan by KMS grant", 0, "", &Factory{}, "plan", "--state", viaGrant, "--bucket", "doc-example-bucket", "--grantee", role, "--via", "grant", "-o", "json")
	expect(resultSchema, "apply by KMS grant", 0, apply.ResultApplied, &Factory{}, "apply", "--state", viaGrant, "--bucket", "doc-example-bucket", "--grantee", role, "--via", "grant", "--auto-approve", "-o", "json")
	expect(resultSchema, "revoke of a KMS grant", 0, apply.ResultApplied, &Factory{}, "revoke", "--state", viaGrant, "--bucket", "doc-example-bucket", "--grantee", role, "--auto-approve", "-o", "json")
	expect(planSchema, "blocked plan", 1, "", &Factory{}, "plan", "--state", copyExample("seed"), "--bucket", "doc-example-bucket", "--grantee", "*", "-o", "json")
	validatedBackend := &checkingBackend{Backend: seedBackend(t), broken: true}
	expect(planSchema, "validated plan", 1, "", &Factory{OpenLive: func(context.Context, live.Options) (apply.Backend, error) { return validatedBackend, nil }},
		"plan", "--owner-profile", "o", "--bucket", "doc-example-bucket", "--grantee", role, "--validate", "-o", "json")
	saved := filepath.Join(t.TempDir(), "reader.plan")
	kmsgrant(&Factory{Build: Build{Version: "test"}}, "plan", "--state", copyExample("seed"), "--bucket", "doc-example-bucket", "--grantee", role, "--out", saved)
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, planSchema, "saved plan", data)

	state := copyExample("seed")
	grant := []string{"--state", state, "--bucket", "doc-example-bucket", "--grantee", role, "--prefix", "reports/", "--auto-approve", "-o", "json"}
	expect(resultSchema, "apply", 0, apply.ResultApplied, &Factory{}, append([]string{"apply"}, grant...)...)
	expect(resultSchema, "apply again", 0, apply.ResultNoChanges, &Factory{}, append([]string{"apply"}, grant...)...)
	expect(resultSchema, "revoke", 0, apply.ResultApplied, &Factory{}, append([]string{"revoke"}, grant...)...)
	backups, err := os.ReadDir(filepath.Join(dir, "kmsgrant", "backups"))
	if err != nil || len(backups) != 4 {
		t.Fatalf("backups: %v, %v", backups, err)
	}
	expect(resultSchema, "restore", 0, apply.ResultApplied, &Factory{}, "restore", filepath.Join(dir, "kmsgrant", "backups", backups[3].Name()), "--state", state, "--auto-approve", "-o", "json")
	expect(resultSchema, "blocked apply", 1, apply.ResultBlocked, &Factory{}, "apply", "--state", state, "--bucket", "doc-example-bucket", "--grantee", "*", "--auto-approve", "-o", "json")

	failing := seedBackend(t)
	failing.FailWrite = 2
	code, out, stderr := kmsgrant(&Factory{OpenState: func(string) (apply.Backend, error) { return failing, nil }},
		"apply", "--state", "s.json", "--bucket", "doc-example-bucket", "--grantee", role, "--auto-approve", "-o", "json", "--parallelism", "1")
	validate(t, resultSchema, "failed apply", out)
	var r apply.Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if code != 1 || r.Status != apply.ResultFailed || r.Targets[0].Status != "rolled_back" || r.Targets[1].Status != "failed" || r.Error == "" {
		t.Errorf("failed apply: exit %d, %+v\nstderr:\n%s", code, r, stderr)
	}
	if !strings.Contains(stderr, "Error: ") {
		t.Errorf("failed apply: no error on stderr:\n%s", stderr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupted := seedBackend(t)
	interrupted.OnWrite = func(int) { cancel() }
	io, _, outBuf, _ := iostreams.Test()
	execute(ctx, &Factory{IO: io, OpenState: func(string) (apply.Backend, error) { return interrupted, nil }},
		[]string{"apply", "--state", "s.json", "--bucket", "doc-example-bucket", "--grantee", role, "--auto-approve", "-o", "json", "--parallelism", "1"})
	validate(t, resultSchema, "interrupted apply", outBuf.Bytes())
	if err := json.Unmarshal(outBuf.Bytes(), &r); err != nil || r.Status != apply.ResultInterrupted || !strings.HasPrefix(r.Error, "interrupted; rolled back: bucket_policy") {
		t.Errorf("interrupted apply: %+v, %v", r, err)
	}
}

// The published schemas are open (fields are added within a version) and
// valid themselves; each names its format.
func TestSchemasArePublishable(t *testing.T) {
	plan, result := loadSchemas(t, false)
	const planDoc = `{"format_version":"1","operation":"grant","grant":null,"changes":[],"blockers":[],"warnings":[],"not_checked":[],"summary":{"create":0,"update":0,"no_op":0,"manual":0},"added_later":true}`
	validate(t, plan, "a plan with a field added later", []byte(planDoc))
	validate(t, result, "a result with a field added later", []byte(`{"format_version":"1","operation":"apply","status":"no_changes","plan":`+planDoc+`,"targets":[],"summary":{"created":0,"updated":0,"deleted":0},"added_later":1}`))
}

// --output json asks no question, so it needs --auto-approve.
func TestJSONResultNeedsAutoApprove(t *testing.T) {
	code, out, stderr := run(t, t.TempDir(), "apply", "--state", "$DIR/state.json", "--bucket", "doc-example-bucket", "--grantee", "444455556666", "-o", "json")
	if code != 1 || out != "" || !strings.Contains(stderr, "Error: --output json asks no question: give --auto-approve too") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
