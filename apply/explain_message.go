package apply

import (
	"fmt"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/denial"
)

// writeCitation writes what AWS said of the denied call, before the checks:
// what the message or record names, and what it leaves for flags to say.
func writeCitation(b *strings.Builder, c *generate.Citation) {
	if c == nil {
		return
	}
	from, missing := "From the message:", "not in the message"
	if c.Source == denial.FromCloudTrail {
		from, missing = "From the CloudTrail record:", "not in the record"
	}
	b.WriteString(from + "\n")
	// What the message leaves out, the flags that give it say.
	line := func(label, value, flags string) {
		if value == "" {
			value = missing
			if flags != "" {
				value += " (" + flags + ")"
			}
		}
		fmt.Fprintf(b, "  %-11s%s\n", label+":", value)
	}
	line("caller", c.Caller, "--grantee gives it")
	if c.Role != "" {
		line("role", c.Role, "")
	}
	action := c.Action
	if action != "" && c.Operation != "" {
		action += " (the " + c.Operation + " operation)"
	}
	line("action", action, "")
	resourceFlags := "--object gives it"
	if strings.HasPrefix(c.Action, "kms:") {
		resourceFlags = "--key gives the key, --object the object"
	}
	line("resource", c.Resource, resourceFlags)
	cited := c.CitedLayer
	if cited != "" && c.CitedCheck != "" {
		cited += " (kmsgrant's " + c.CitedCheck + " check)"
	}
	if c.CitedPolicy != "" {
		cited += ": " + c.CitedPolicy
	}
	line("AWS cites", cited, "")
	for _, n := range c.Notes {
		fmt.Fprintf(b, "  note: %s\n", n)
	}
	b.WriteString("\n")
}

// checkName is a check's name, marked when AWS cited its layer.
func checkName(ch generate.Check) string {
	if ch.Cited {
		return ch.Name + " (cited by AWS)"
	}
	return ch.Name
}
