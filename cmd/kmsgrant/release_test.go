package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// versionFlag is how every build sets kmsgrant's version.
var versionFlagRE = regexp.MustCompile(`-X github\.com/kmsgrant/kmsgrant/cmd/internal/cli\.version=`)

// The release configuration builds what the README promises, and every
// way of building kmsgrant sets the version through a variable that
// exists ('goreleaser check', run in CI, checks the rest of its syntax;
// docker cannot run here, so the Dockerfile is only read).
func TestReleaseFiles(t *testing.T) {
	if !regexp.MustCompile(`(?m)^var version = ""$`).MatchString(readRepoFile(t, "cmd/internal/cli/root.go")) {
		t.Fatal("cmd/internal/cli has no 'var version', which -ldflags -X sets")
	}
	gr := readRepoFile(t, ".goreleaser.yaml")
	for _, want := range []string{
		"version: 2",
		"main: ./cmd/kmsgrant",
		"goos: [linux, darwin, windows]",
		"goarch: [amd64, arm64]",
		"CGO_ENABLED=0",
		"formats: [tar.gz]",
		"formats: [zip]",
		"checksum:",
		"brews:",
		`bin.install "kmsgrant"`,
	} {
		if !strings.Contains(gr, want) {
			t.Errorf(".goreleaser.yaml lacks %q", want)
		}
	}
	for _, name := range []string{".goreleaser.yaml", "Dockerfile", "Makefile"} {
		if !versionFlagRE.MatchString(readRepoFile(t, name)) {
			t.Errorf("%s does not set the version with -X github.com/kmsgrant/kmsgrant/cmd/internal/cli.version=", name)
		}
	}

	df := readRepoFile(t, "Dockerfile")
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) == 0 || froms[len(froms)-1][1] != "scratch" {
		t.Errorf("the image is not built on an empty base: %v", froms)
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(df, -1)
	if len(user) == 0 || strings.HasPrefix(user[len(user)-1][1], "0") || strings.HasPrefix(user[len(user)-1][1], "root") {
		t.Errorf("the image runs as root: USER %v", user)
	}
	for _, want := range []string{"CGO_ENABLED=0", "ca-certificates.crt", `ENTRYPOINT ["/usr/local/bin/kmsgrant"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
