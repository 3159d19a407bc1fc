package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/templates"
)

// Shell completion of flag values ('kmsgrant completion bash|zsh|fish|powershell').

// completeProfiles completes AWS profile names from the shared config and
// credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/config and ~/.aws/credentials), as the SDK reads them.
func completeProfiles(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return matching(awsProfiles(), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// awsProfiles lists the profiles of the AWS config and credentials files,
// sorted, without repeats.
func awsProfiles() []string {
	home, _ := os.UserHomeDir()
	file := func(env, name string) string {
		if f := os.Getenv(env); f != "" {
			return f
		}
		return filepath.Join(home, ".aws", name)
	}
	var names []string
	for _, src := range []struct {
		path   string
		config bool
	}{{file("AWS_CONFIG_FILE", "config"), true}, {file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), false}} {
		f, err := os.Open(src.path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			section, ok := strings.CutPrefix(line, "[")
			if !ok || !strings.HasSuffix(section, "]") {
				continue
			}
			section = strings.TrimSpace(strings.TrimSuffix(section, "]"))
			switch {
			case section == "default":
			case src.config && strings.HasPrefix(section, "profile "):
				section = strings.TrimSpace(strings.TrimPrefix(section, "profile "))
			case src.config:
				// sso-session and services sections are not profiles.
				continue
			}
			if section != "" && !slices.Contains(names, section) {
				names = append(names, section)
			}
		}
		f.Close()
	}
	slices.Sort(names)
	return names
}

// stateNames are the names a state file holds, for completion.
type stateNames struct {
	Buckets, Grantees, Keys []string
}

// readStateNames reads the buckets, roles and users (as ARNs) and keys
// (ARNs and aliases) of the state file the command's --state names; none
// without one.
func readStateNames(cmd *cobra.Command) stateNames {
	var names stateNames
	path, _ := cmd.Flags().GetString("state")
	if path == "" {
		return names
	}
	data, err := apply.ReadFile(path, apply.MaxFileSize)
	if err != nil {
		return names
	}
	var doc struct {
		Accounts map[string]struct {
			Buckets map[string]json.RawMessage `json:"buckets"`
			Keys    map[string]struct {
				Aliases []string `json:"aliases"`
			} `json:"kms_keys"`
			Roles map[string]struct {
				Path string `json:"path"`
			} `json:"iam_roles"`
			Users map[string]struct {
				Path string `json:"path"`
			} `json:"iam_users"`
		} `json:"accounts"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return names
	}
	arn := func(account, kind, path, name string) string {
		if path == "" {
			path = "/"
		}
		return "arn:aws:iam::" + account + ":" + kind + path + name
	}
	for account, a := range doc.Accounts {
		for b := range a.Buckets {
			names.Buckets = append(names.Buckets, b)
		}
		for k, key := range a.Keys {
			names.Keys = append(names.Keys, k)
			names.Keys = append(names.Keys, key.Aliases...)
		}
		for name, r := range a.Roles {
			names.Grantees = append(names.Grantees, arn(account, "role", r.Path, name))
		}
		for name, u := range a.Users {
			names.Grantees = append(names.Grantees, arn(account, "user", u.Path, name))
		}
		names.Grantees = append(names.Grantees, account)
	}
	for _, l := range [][]string{names.Buckets, names.Grantees, names.Keys} {
		slices.Sort(l)
	}
	return names
}

// completeFromState completes a flag from what the --state file holds.
func completeFromState(pick func(stateNames) []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return matching(pick(readStateNames(cmd)), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeAccess completes a comma-separated list of access levels: the
// levels not yet in it, after what was typed up to the last comma.
func completeAccess(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, _ := cutLast(toComplete, ",")
	typed := strings.Split(done, ",")
	var out []string
	for _, level := range templates.Levels() {
		if slices.Contains(typed, level) {
			continue
		}
		if done == "" {
			out = append(out, level)
		} else {
			out = append(out, done+","+level)
		}
	}
	return matching(out, toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// cutLast cuts s around the last sep: ("a,b", "c") for "a,b,c"; ("", s)
// without one.
func cutLast(s, sep string) (before, after string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+len(sep):]
}

// matching keeps the candidates that start with what was typed.
func matching(candidates []string, toComplete string) []string {
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, toComplete) {
			out = append(out, c)
		}
	}
	return out
}
