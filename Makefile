# kmsgrant's build, test and lint targets. CI runs .ci/run, which calls these.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/kmsgrant/kmsgrant/cmd/internal/cli.version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
GORELEASER_VERSION := v2.15.1

.PHONY: build test lint fuzz update-golden tools release-check

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kmsgrant ./cmd/kmsgrant

# Tests never reach AWS; AWS_EC2_METADATA_DISABLED keeps the SDK from
# looking for instance credentials if a test ever loads the default chain.
test:
	AWS_EC2_METADATA_DISABLED=true $(GO) test -race ./...

lint: tools
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	"$$($(GO) env GOPATH)/bin/staticcheck" ./...

# A short run of every fuzz target, from the committed seed corpus on.
# FUZZTIME is a count of runs (Nx) rather than a duration: with a duration,
# Go's fuzzing coordinator can fail a target with "context deadline
# exceeded" when its time ends while a worker is busy, on a loaded machine,
# having found nothing.
FUZZTIME ?= 50000x
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./generate/policy
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./apply/statefile
	$(GO) test -run='^$$' -fuzz=FuzzSet -fuzztime=$(FUZZTIME) ./apply/internal/jsonedit
	$(GO) test -run='^$$' -fuzz=FuzzSpan -fuzztime=$(FUZZTIME) ./apply/internal/jsonedit
	$(GO) test -run='^$$' -fuzz=FuzzReadSaved -fuzztime=$(FUZZTIME) ./apply
	$(GO) test -run='^$$' -fuzz=FuzzGlob -fuzztime=$(FUZZTIME) ./generate/eval
	$(GO) test -run='^$$' -fuzz=FuzzParseMessage -fuzztime=$(FUZZTIME) ./generate/denial
	$(GO) test -run='^$$' -fuzz=FuzzParseCloudTrail -fuzztime=$(FUZZTIME) ./generate/denial
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./cmd/internal/grantsfile

# Rewrite golden files and the expected outputs of the end-to-end scripts;
# review the diff like code.
update-golden:
	KMSGRANT_UPDATE=1 $(GO) test ./...

tools:
	@test -x "$$($(GO) env GOPATH)/bin/staticcheck" || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# Check the release configuration with GoReleaser's own check (installed
# on first use; it needs no network beyond the Go module proxy).
release-check:
	@test -x "$$($(GO) env GOPATH)/bin/goreleaser" || $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION) || \
		{ echo "release-check: GoReleaser could not be installed here; the release configuration is still read by TestReleaseFiles"; exit 0; }
	@if test -x "$$($(GO) env GOPATH)/bin/goreleaser"; then "$$($(GO) env GOPATH)/bin/goreleaser" check; fi
