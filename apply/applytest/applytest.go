// Package applytest has an in-memory apply.Backend for tests, with faults to
// inject.
package applytest

import (
	"context"
	"errors"
	"sync"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

var _ apply.Backend = (*Backend)(nil)

// Backend answers reads from its fields and records writes.
type Backend struct {
	// mu makes writes and the reads of what they wrote safe from the
	// goroutines of a concurrent apply.
	mu       sync.Mutex
	Buckets  map[string]*generate.Bucket
	Keys     []*generate.Key
	Grantees map[string]*generate.Grantee // by ARN

	// FailWrite, when positive, makes the FailWrite-th write (1-based)
	// return WriteErr.
	FailWrite int
	WriteErr  error
	// Landed makes the failing write take effect anyway, as a write that
	// times out after reaching AWS does.
	Landed bool
	// FlushErr is returned by Flush.
	FlushErr error
	// AtFlush makes the backend transactional, like the state file:
	// writes take effect only at Flush.
	AtFlush bool

	// Drifted maps change kinds to the document Current reports, for a
	// target someone changed after the plan; others are as planned.
	Drifted map[string]string
	// ChangedAfterWrite maps change kinds to what Current reports once
	// kmsgrant wrote the target: someone changed it again since.
	ChangedAfterWrite map[string]string
	// OnWrite runs after each successful write, with its number.
	OnWrite func(n int)

	Written  []generate.Change
	Restored []generate.Change
	// FailRestore makes Restore fail.
	FailRestore error
	Flushed     int
	writes      int
}

// Bucket implements apply.Backend.
func (b *Backend) Bucket(_ context.Context, name string) (*generate.Bucket, error) {
	return b.Buckets[name], nil
}

// Key implements apply.Backend, resolving key IDs and aliases in the
// caller's account and Region.
func (b *Backend) Key(_ context.Context, ref arns.KeyRef, account, region string) (*generate.Key, error) {
	if ref.Account != "" {
		account, region = ref.Account, ref.Region
	}
	for _, k := range b.Keys {
		if k.Account != account || k.Region != region {
			continue
		}
		switch ref.Form {
		case arns.KeyARN, arns.KeyID:
			if k.ARN == arns.KeyARNOf(region, account, ref.ID) {
				return k, nil
			}
		case arns.AliasName, arns.AliasARN:
			for _, a := range k.Aliases {
				if a == ref.ID {
					return k, nil
				}
			}
		}
	}
	if ref.Form == arns.AliasName || ref.Form == arns.AliasARN {
		return nil, apply.ErrAliasNotFound
	}
	return nil, apply.ErrKeyNotFound
}

// Grantee implements apply.Backend.
func (b *Backend) Grantee(_ context.Context, p arns.Principal) (*generate.Grantee, error) {
	if p.Path == "" {
		// A role named by a session ARN: found by name.
		for _, g := range b.Grantees {
			if g.Principal.Kind == p.Kind && g.Principal.Account == p.Account && g.Principal.Name == p.Name {
				return g, nil
			}
		}
	}
	g, ok := b.Grantees[p.ARN()]
	if !ok {
		return nil, apply.ErrGranteeNotFound
	}
	return g, nil
}

// Current implements apply.Backend.
func (b *Backend) Current(_ context.Context, c generate.Change) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.Drifted[c.Kind]; ok {
		return d, nil
	}
	for i := len(b.Written) - 1; i >= 0; i-- {
		if w := b.Written[i]; w.Kind == c.Kind && w.Target == c.Target {
			if d, ok := b.ChangedAfterWrite[c.Kind]; ok {
				return d, nil
			}
			return w.After, nil
		}
	}
	return c.Before, nil
}

// Write implements apply.Backend.
func (b *Backend) Write(_ context.Context, c generate.Change) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	if b.writes == b.FailWrite {
		if b.Landed {
			b.Written = append(b.Written, c)
		}
		if b.WriteErr == nil {
			return errors.New("injected write failure")
		}
		return b.WriteErr
	}
	b.Written = append(b.Written, c)
	if b.OnWrite != nil {
		b.OnWrite(b.writes)
	}
	return nil
}

// WritesAtFlush implements apply.Transactional.
func (b *Backend) WritesAtFlush() bool { return b.AtFlush }

// Restore implements apply.Restorer.
func (b *Backend) Restore(_ context.Context, c generate.Change) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.FailRestore != nil {
		return b.FailRestore
	}
	b.Restored = append(b.Restored, c)
	return nil
}

// Flush implements apply.Backend.
func (b *Backend) Flush(context.Context) error {
	if b.FlushErr != nil {
		return b.FlushErr
	}
	b.Flushed++
	return nil
}
