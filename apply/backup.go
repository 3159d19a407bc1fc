package apply

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// Manifest lists what a backup holds: one file per target, with the
// document as it was before an apply.
type Manifest struct {
	FormatVersion string             `json:"format_version"`
	Created       time.Time          `json:"created"`
	Targets       []BackupTarget     `json:"targets"`
	Grant         *generate.Resolved `json:"grant,omitempty"`
	// Grants are the grants of a batch's apply, in place of Grant.
	Grants []generate.Resolved `json:"grants,omitempty"`
}

// BackupTarget is one saved document.
type BackupTarget struct {
	Kind       string `json:"kind"`
	Account    string `json:"account"`
	Target     string `json:"target"`
	PolicyName string `json:"policy_name,omitempty"`
	// File holds the canonical text of the document; "" when the target
	// had none (the apply created it).
	File         string `json:"file,omitempty"`
	BeforeSHA256 string `json:"before_sha256"`
	// AfterSHA256 is the digest of what the apply wrote: a restore puts
	// back only targets that still hold it.
	AfterSHA256 string `json:"after_sha256"`
}

// Backup saves the before document of every change an apply will write,
// in a new folder under dir, and returns the folder. It is written before
// the first write, so whatever happens next, the documents as they were
// can be put back.
func Backup(dir string, p *Plan, now time.Time) (string, error) {
	m := Manifest{FormatVersion: FormatVersion, Created: now.UTC(), Grant: p.View.Grant, Grants: p.View.Grants}
	var writes []generate.Change
	for _, c := range p.Result.Changes {
		if c.Writes() {
			writes = append(writes, c)
		}
	}
	if len(writes) == 0 {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup folder: %w", err)
	}
	folder, err := os.MkdirTemp(dir, now.UTC().Format("20060102T150405Z")+"-")
	if err != nil {
		return "", fmt.Errorf("backup folder: %w", err)
	}
	for i, c := range writes {
		t := BackupTarget{Kind: c.Kind, Account: c.Account, Target: c.Target, PolicyName: c.PolicyName,
			BeforeSHA256: Digest(c.Before), AfterSHA256: Digest(c.After)}
		if c.Before != "" {
			t.File = fmt.Sprintf("%02d-%s.json", i+1, c.Kind)
			if err := os.WriteFile(filepath.Join(folder, t.File), []byte(c.Before), 0o600); err != nil {
				return "", fmt.Errorf("writing backup: %w", err)
			}
		}
		m.Targets = append(m.Targets, t)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(folder, "manifest.json"), append(data, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("writing backup: %w", err)
	}
	return folder, nil
}

// Digest is the hex SHA-256 of what a document means, as backups record
// it: a policy is rebuilt from its parsed statements, so that another key
// order or layout of the same document gives the same digest.
func Digest(text string) string {
	if d, err := policy.Parse([]byte(text)); err == nil {
		rebuilt := d.Clone()
		for i, st := range rebuilt.Statements {
			rebuilt.Statements[i] = st.Clone()
		}
		return digest(rebuilt.Pretty())
	}
	return digest(text)
}

// DefaultBackupDir is where backups go without --backup-dir: under the
// user's configuration folder.
func DefaultBackupDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for backups (%v): give one with --backup-dir", err)
	}
	return filepath.Join(dir, "kmsgrant", "backups"), nil
}
