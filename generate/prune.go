package generate

import (
	"slices"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/templates"
)

// Held is a grant a bucket policy's kmsgrant statements hold: a principal,
// a prefix of the bucket, and the access levels their actions give.
type Held struct {
	Principal string
	Prefix    string
	Access    []string
}

// HeldGrants lists the grants that a bucket's policy holds in kmsgrant's
// statements (those whose Sid starts with Kmsgrant), by principal and
// prefix: what kmsgrant wrote for the bucket, in every run before. Object
// statements tell the prefix by their resource, listing statements by
// their s3:prefix condition.
func HeldGrants(b *Bucket) []Held {
	if b == nil || b.Policy == nil {
		return nil
	}
	objects := arns.BucketARN(arns.PartitionOf(b.Region), b.Name) + "/"
	level := map[string]string{}
	for _, name := range templates.Levels() {
		l, _ := templates.LevelNamed(name)
		for _, a := range append(slices.Clone(l.ObjectActions), l.BucketActions...) {
			level[strings.ToLower(a)] = name
		}
	}
	var out []Held
	add := func(principal, prefix, access string) {
		i := slices.IndexFunc(out, func(h Held) bool { return h.Principal == principal && h.Prefix == prefix })
		if i < 0 {
			out = append(out, Held{Principal: principal, Prefix: prefix})
			i = len(out) - 1
		}
		if !slices.Contains(out[i].Access, access) {
			out[i].Access = append(out[i].Access, access)
			slices.Sort(out[i].Access)
		}
	}
	for _, st := range b.Policy.Statements {
		if !st.HasSidPrefix(SidPrefix) || st.Effect != "Allow" || st.Principal == nil {
			continue
		}
		var prefixes []string
		if c := scopeCondition(st); c >= 0 {
			for _, v := range st.Condition[c].Values.List {
				prefixes = append(prefixes, strings.TrimSuffix(v, "*"))
			}
		} else {
			for _, r := range st.Resource.List {
				if p, ok := strings.CutPrefix(r, objects); ok && strings.HasSuffix(p, "*") {
					prefixes = append(prefixes, strings.TrimSuffix(p, "*"))
				} else if !strings.Contains(r, "/") {
					prefixes = append(prefixes, "") // the whole bucket listed
				}
			}
		}
		for _, a := range st.Action.List {
			access, ok := level[strings.ToLower(a)]
			if !ok {
				continue
			}
			for _, p := range st.Principal.AWS() {
				for _, prefix := range prefixes {
					add(p, prefix, access)
				}
			}
		}
	}
	return out
}
