package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/cmd/internal/iostreams"
	"github.com/kmsgrant/kmsgrant/generate"
)

func TestCallReporter(t *testing.T) {
	read := live.Call{Service: "S3", Operation: "GetBucketPolicy", Region: "us-west-2", Target: "Bucket=doc-example-bucket"}
	readDone := read
	readDone.Done, readDone.Status, readDone.Duration = true, 200, 12*time.Millisecond
	write := live.Call{Service: "KMS", Operation: "PutKeyPolicy", Region: "us-west-2", Target: "KeyId=k"}
	writeDone := write
	writeDone.Done, writeDone.Status, writeDone.Duration, writeDone.Err = true, 400, 3*time.Millisecond, errors.New("boom")
	for _, tc := range []struct {
		name           string
		debug, stderr  bool
		want           string
		wantNoReporter bool
	}{
		{name: "neither", wantNoReporter: true},
		{name: "debug, not a terminal", debug: true,
			want: "debug: S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket status=200 time=12ms\n" +
				"debug: KMS PutKeyPolicy region=us-west-2 KeyId=k status=400 time=3ms error=boom\n"},
		{name: "terminal: the call in flight, erased when none is", stderr: true,
			want: "reading S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket …\r\x1b[K" +
				"writing KMS PutKeyPolicy region=us-west-2 KeyId=k …\r\x1b[K"},
		{name: "terminal and debug", stderr: true, debug: true,
			want: "reading S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket …\r\x1b[K" +
				"debug: S3 GetBucketPolicy region=us-west-2 Bucket=doc-example-bucket status=200 time=12ms\n" +
				"writing KMS PutKeyPolicy region=us-west-2 KeyId=k …\r\x1b[K" +
				"debug: KMS PutKeyPolicy region=us-west-2 KeyId=k status=400 time=3ms error=boom\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, _, _, errOut := iostreams.Test()
			io.SetTTY(false, false, tc.stderr)
			report := callReporter(&Factory{IO: io, Debug: tc.debug})
			if (report == nil) != tc.wantNoReporter {
				t.Fatalf("reporter %v, want none %v", report != nil, tc.wantNoReporter)
			}
			if report == nil {
				return
			}
			for _, c := range []live.Call{read, readDone, write, writeDone} {
				report(c)
			}
			if diff := cmp.Diff(tc.want, errOut.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// A status line never wraps: it could not be erased in place.
func TestCallReporterFitsTheTerminal(t *testing.T) {
	io, _, _, errOut := iostreams.Test()
	io.SetTTY(false, false, true)
	report := callReporter(&Factory{IO: io})
	report(live.Call{Service: "S3", Operation: "GetObject", Target: "Key=" + strings.Repeat("k", 200)})
	if n := len([]rune(errOut.String())); n >= 80 {
		t.Errorf("status line of %d characters on an 80-column terminal: %q", n, errOut.String())
	}
}

// cancellingBackend is the seed backend whose reads fail as an SDK call
// that an interrupt cancelled fails.
type cancellingBackend struct{ apply.Backend }

func (b cancellingBackend) Bucket(ctx context.Context, name string) (*generate.Bucket, error) {
	return nil, fmt.Errorf("reading bucket %s: operation error S3: GetBucketLocation, https response error: canceled, %w", name, context.Canceled)
}

// Ctrl-C says what was and was not written, not the error of the call it
// cancelled.
func TestInterruptSaysWhatWasWritten(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	const role = "arn:aws:iam::444455556666:role/reader"
	// One document at a time, so that the interrupt falls between two.
	grant := []string{"--state", "s.json", "--bucket", "doc-example-bucket", "--grantee", role, "--auto-approve", "--parallelism", "1"}

	t.Run("while reading", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		io, _, _, errOut := iostreams.Test()
		f := &Factory{IO: io, OpenState: func(string) (apply.Backend, error) {
			return cancellingBackend{seedBackend(t)}, nil
		}}
		if code := execute(ctx, f, append([]string{"apply"}, grant...)); code != ExitError {
			t.Errorf("exit %d", code)
		}
		if want := "Error: interrupted; nothing was written\n"; errOut.String() != want {
			t.Errorf("stderr = %q, want %q", errOut.String(), want)
		}
	})

	t.Run("between writes", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		io, _, _, errOut := iostreams.Test()
		backend := seedBackend(t)
		backend.OnWrite = func(int) { cancel() }
		f := &Factory{IO: io, OpenState: func(string) (apply.Backend, error) { return backend, nil }}
		if code := execute(ctx, f, append([]string{"apply"}, grant...)); code != ExitError {
			t.Errorf("exit %d", code)
		}
		want := "Error: interrupted; rolled back: bucket_policy arn:aws:s3:::doc-example-bucket; not written: key_policy arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab, iam_policy arn:aws:iam::444455556666:role/reader\n"
		if got := errOut.String()[strings.LastIndex(errOut.String(), "Error: "):]; got != want {
			t.Errorf("stderr ends %q, want %q", got, want)
		}
	})
}

// A run that goes on says how long it has been going, and how many calls
// are done, as Terraform's "Still modifying... [10s elapsed]".
func TestCallReporterSaysHowLong(t *testing.T) {
	io, _, _, errOut := iostreams.Test()
	io.SetTTY(false, false, true)
	clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	r := &reporter{w: errOut, status: true, width: 120, now: func() time.Time { return clock }}
	put := live.Call{Service: "IAM", Operation: "PutRolePolicy", Target: "RoleName=a"}
	putDone := put
	putDone.Done = true
	r.report(put)
	r.report(putDone)
	clock = clock.Add(12*time.Second + 300*time.Millisecond)
	r.report(put)
	want := "writing IAM PutRolePolicy RoleName=a …\r\x1b[K" + "writing IAM PutRolePolicy RoleName=a … [1 call done, 12s elapsed]"
	if got := errOut.String(); got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}
