package cli

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/cmd/internal/grantsfile"
	"github.com/kmsgrant/kmsgrant/generate"
)

// grantFields are the flags that describe a grant, which a grants file
// replaces.
var grantFields = []string{"bucket", "grantee", "prefix", "key", "access", "iam-policy-name"}

// registerFile makes a command take many grants, as plan, apply and revoke
// do: every --grantee on every --prefix, or -f, a grants file. Grant
// flags beside it are refused before the command runs, so that nothing is
// planned but what the file says.
func (g *GrantFlags) registerFile(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&g.File, "file", "f", "", "plan every grant of grants `FILE` (YAML or JSON; see docs/grants-file.md) instead of --bucket and --grantee")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	cmd.Flags().Lookup("grantee").Usage += " (repeat it, or separate ARNs with commas, for several)"
	cmd.Flags().Lookup("prefix").Usage += "; repeat it for several"
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if g.File == "" {
			return nil
		}
		var given []string
		for _, name := range grantFields {
			if cmd.Flags().Changed(name) {
				given = append(given, "--"+name)
			}
		}
		if len(given) > 0 {
			return fmt.Errorf("-f %s holds the grants: give %s in the file, not as flags", g.File, andList(given))
		}
		return nil
	}
}

// registerPrune adds --prune, of plan and apply.
func (g *GrantFlags) registerPrune(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&g.Prune, "prune", false, "with -f: the file is every grant kmsgrant manages on its buckets; revoke the grants kmsgrant wrote there earlier that it does not hold")
}

// batch is the grants of a run, and what it knows of them.
type batch struct {
	grants []apply.Labelled
	// blockers are grants refused before anything is read (a wildcard
	// grantee).
	blockers []generate.Finding
	// profiles are a grants file's AWS profiles, by account.
	profiles map[string]string
	// fromFlags is set when the grants came from flags, whose errors
	// name the flag.
	fromFlags bool
}

// grants are the grants a plan, apply or revoke is about: those of the
// grants file, or every --grantee on every --prefix.
func (g *GrantFlags) grants() (*batch, error) {
	if g.Prune && g.File == "" {
		return nil, errors.New("--prune takes the grants file as the whole set of grants on its buckets: give -f FILE")
	}
	if g.CheckObjects < 0 {
		return nil, fmt.Errorf("--check-objects: want a number of objects, not %d", g.CheckObjects)
	}
	if _, err := generate.ParseVia(g.Via); err != nil {
		return nil, fmt.Errorf("--via: %w", err)
	}
	var b *batch
	var err error
	if g.File != "" {
		b, err = g.fileGrants()
	} else {
		b, err = g.flagGrants()
	}
	if err != nil {
		return nil, err
	}
	if g.CheckObjects > 0 && len(b.grants)+len(b.blockers) > 1 {
		return nil, errors.New("--check-objects looks at the objects under one prefix: give one grant")
	}
	return b, nil
}

// flagGrants are every --grantee (a comma-separated list of ARNs counting
// as several) on every --prefix.
func (g *GrantFlags) flagGrants() (*batch, error) {
	var grantees []string
	for _, v := range append([]string{g.Grantee}, g.moreGrantees...) {
		if looksLikeList(v) {
			for _, part := range strings.Split(v, ",") {
				grantees = append(grantees, strings.TrimSpace(part))
			}
			continue
		}
		grantees = append(grantees, v)
	}
	prefixes := append([]string{g.Prefix}, g.morePrefixes...)
	b := &batch{fromFlags: true}
	several := len(grantees)*len(prefixes) > 1
	for _, grantee := range grantees {
		for _, prefix := range prefixes {
			label := ""
			if several {
				label = fmt.Sprintf("grant of %s on s3://%s/%s*", grantee, g.Bucket, prefix)
			}
			if err := b.add(g.spec(grantee, prefix), flagName, label); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// fileGrants reads the grants file.
func (g *GrantFlags) fileGrants() (*batch, error) {
	data, err := apply.ReadFile(g.File, apply.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("-f: %w", err)
	}
	f, err := grantsfile.Parse(g.File, data)
	if err != nil {
		return nil, err
	}
	b := &batch{profiles: f.Profiles}
	for _, e := range f.Grants {
		name := func(field string) string { return e.Where + ": " + field }
		for _, grantee := range e.Grantees {
			for _, prefix := range e.Prefixes {
				spec := grantSpec{Bucket: e.Bucket, Prefix: prefix, Key: e.Key, Grantee: grantee, Access: e.Access, IAMPolicyName: e.IAMPolicyName, Via: cmp.Or(e.Via, g.Via)}
				if err := b.add(spec, name, e.Where); err != nil {
					return nil, err
				}
			}
		}
	}
	return b, nil
}

// add checks one grant and adds it, or its blocker.
func (b *batch) add(s grantSpec, name fieldName, label string) error {
	g, blocker, err := s.grant(name)
	switch {
	case err != nil:
		return err
	case blocker != nil:
		blocker.Grant = label
		b.blockers = append(b.blockers, *blocker)
	default:
		b.grants = append(b.grants, apply.Labelled{Grant: g, Label: label})
	}
	return nil
}

// reach is what the batch needs of the backend.
func (b *batch) reach(prefix string) reach {
	r := reach{granteeAccount: b.granteeAccount(), prefix: prefix, profiles: b.profiles}
	for _, g := range b.grants {
		if !slices.Contains(r.granteeAccounts, g.Grant.Grantee.Account) {
			r.granteeAccounts = append(r.granteeAccounts, g.Grant.Grantee.Account)
		}
	}
	return r
}

// granteeAccount is the account of every grantee, or "" when they are in
// several.
func (b *batch) granteeAccount() string {
	account := ""
	for i, g := range b.grants {
		if i > 0 && g.Grant.Grantee.Account != account {
			return ""
		}
		account = g.Grant.Grantee.Account
	}
	return account
}
