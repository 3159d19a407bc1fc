package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands returns the command lines of the README's code blocks,
// with continued lines joined.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	inBlock, joined := false, ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			joined += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cmds = append(cmds, strings.Join(strings.Fields(joined+line), " "))
		joined = ""
	}
	return cmds
}

var (
	writerRE = regexp.MustCompile(`\bkmsgrant (apply|revoke|restore)\b`)
	stateRE  = regexp.MustCompile(`--state[ =](\S+)`)
	copyRE   = regexp.MustCompile(`^cp (\S*examples/\S+) (\S+)`)
)

// A reader who runs the README's commands as they stand never rewrites a
// checked-in example: every state file apply, revoke or restore writes is
// a copy made by an earlier command.
func TestReadmeWritesOnlyCopiesOfExamples(t *testing.T) {
	copies := map[string]bool{}
	writes := 0
	for _, cmd := range readmeCommands(t) {
		if m := copyRE.FindStringSubmatch(cmd); m != nil {
			copies[m[2]] = true
		}
		if !writerRE.MatchString(cmd) {
			continue
		}
		m := stateRE.FindStringSubmatch(cmd)
		if m == nil || m[1] == "FILE" {
			continue
		}
		writes++
		if strings.Contains(m[1], "examples/") {
			t.Errorf("the README writes to a checked-in example: %s", cmd)
		} else if !copies[m[1]] {
			t.Errorf("the README writes to %s before saying to copy an example there: %s", m[1], cmd)
		}
	}
	if writes == 0 {
		t.Error("found no apply, revoke or restore command in the README; has its form changed?")
	}
}
