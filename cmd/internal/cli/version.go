package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Build is what a kmsgrant binary was built from.
type Build struct {
	// Version is the version set with -ldflags, else the module version
	// Go stamped (go install …@v1.2.3, or a pseudo-version from the
	// checkout's VCS), else "dev", with the commit when Go stamped one
	// (dev+1a2b3c4d5e6f, .dirty when the work tree had changes).
	Version string
	// Commit is the VCS revision the binary was built from, "" when
	// unknown (go install of a module version stamps none).
	Commit string
	// Modified is set when the work tree had uncommitted changes.
	Modified bool
	// GoVersion is the Go toolchain that built it.
	GoVersion string
}

// readBuild reads the build information Go stamps into the binary;
// ldflags is the version set at build time, if one was.
func readBuild(ldflags string) Build {
	info, _ := debug.ReadBuildInfo()
	return buildFrom(ldflags, info)
}

// buildFrom derives a Build from the -ldflags version and Go's build
// information (nil where there is none).
func buildFrom(ldflags string, info *debug.BuildInfo) Build {
	b := Build{Version: ldflags, GoVersion: runtime.Version()}
	if info == nil {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	if info.GoVersion != "" {
		b.GoVersion = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
		if b.Commit != "" {
			b.Version += "+" + b.Commit[:min(12, len(b.Commit))]
			if b.Modified {
				b.Version += ".dirty"
			}
		}
	}
	return b
}

// versionText is what `kmsgrant version` and `kmsgrant --version` print.
func versionText(f *Factory) string {
	text := "kmsgrant " + f.Build.Version
	if f.Build.Commit != "" {
		text += "\ncommit " + f.Build.Commit
		if f.Build.Modified {
			text += " (with uncommitted changes)"
		}
	}
	if f.Build.GoVersion != "" {
		text += fmt.Sprintf("\nbuilt with %s for %s/%s", f.Build.GoVersion, runtime.GOOS, runtime.GOARCH)
	}
	return text
}

// NewCmdVersion builds `kmsgrant version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kmsgrant's version, the commit it was built from, and the Go that built it",
		Example: `  kmsgrant version
  kmsgrant --version`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(f.IO.Out, versionText(f))
			return err
		},
	}
}
