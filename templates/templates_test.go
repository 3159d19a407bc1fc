package templates

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	if got, want := Levels(), []string{"list", "read", "versions", "write"}; !slices.Equal(got, want) {
		t.Fatalf("Levels() = %v, want %v", got, want)
	}
	read, _ := LevelNamed("read")
	if !slices.Equal(read.ObjectActions, []string{"s3:GetObject"}) || !slices.Equal(read.KeyActions, []string{"kms:Decrypt"}) {
		t.Errorf("read = %+v", read)
	}
	write, _ := LevelNamed("write")
	// Multipart uploads need kms:Decrypt as well as kms:GenerateDataKey.
	if !slices.Contains(write.KeyActions, "kms:GenerateDataKey") || !slices.Contains(write.KeyActions, "kms:Decrypt") {
		t.Errorf("write key actions = %v", write.KeyActions)
	}
	// A version is read with s3:GetObjectVersion, and versions are listed
	// with s3:ListBucketVersions; each may carry another key context.
	versions, _ := LevelNamed("versions")
	if !slices.Equal(versions.ObjectActions, []string{"s3:GetObjectVersion"}) || !slices.Equal(versions.BucketActions, []string{"s3:ListBucketVersions"}) ||
		!slices.Equal(versions.KeyActions, []string{"kms:Decrypt"}) {
		t.Errorf("versions = %+v", versions)
	}
	list, _ := LevelNamed("list")
	if !slices.Equal(list.BucketActions, []string{"s3:ListBucket"}) || len(list.ObjectActions) != 0 {
		t.Errorf("list = %+v", list)
	}
	for _, name := range Levels() {
		l, _ := LevelNamed(name)
		if l.Description == "" || len(l.ObjectActions)+len(l.BucketActions)+len(l.KeyActions) == 0 {
			t.Errorf("level %s has no description or no actions", name)
		}
	}
}

// Every template renders valid JSON in the shape its policy kind needs:
// resource policies name the principal, identity policies do not, and key
// policies use Resource "*".
func TestRender(t *testing.T) {
	d := Data{
		Principal: "arn:aws:iam::444455556666:role/reader", Actions: []string{"s3:GetObject"},
		BucketARN: "arn:aws:s3:::b", ObjectsARN: "arn:aws:s3:::b/p/*", Prefix: "p/",
		KeyARN: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", ViaService: "s3.us-west-2.amazonaws.com",
	}
	for _, kind := range []string{"bucket_policy", "key_policy", "iam_policy"} {
		for _, part := range []Part{Objects, Bucket, Key} {
			raw, err := Render(kind, part, d)
			missing := (kind == "bucket_policy" && part == Key) || (kind == "key_policy" && part != Key)
			if missing {
				if err == nil {
					t.Errorf("%s.%s rendered, want no such template", kind, part)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s.%s: %v", kind, part, err)
			}
			var st map[string]any
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatalf("%s.%s is not JSON: %v\n%s", kind, part, err, raw)
			}
			_, hasPrincipal := st["Principal"]
			if hasPrincipal != (kind != "iam_policy") {
				t.Errorf("%s.%s: Principal present = %v", kind, part, hasPrincipal)
			}
			if kind == "key_policy" && st["Resource"] != "*" {
				t.Errorf("key policy Resource = %v, want *", st["Resource"])
			}
			if kind == "iam_policy" && part == Key && st["Resource"] != d.KeyARN {
				t.Errorf("IAM key statement Resource = %v, want the full key ARN", st["Resource"])
			}
			if part == Bucket && !strings.Contains(string(raw), `"s3:prefix": ["p/*"]`) {
				t.Errorf("%s.bucket lacks the s3:prefix condition:\n%s", kind, raw)
			}
		}
	}
	noPrefix := d
	noPrefix.Prefix = ""
	raw, err := Render("bucket_policy", Bucket, noPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "Condition") {
		t.Errorf("bucket-wide list has a condition:\n%s", raw)
	}
}
