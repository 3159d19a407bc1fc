package live

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// errorCode returns the AWS error code of err, "" for other errors. The
// not-found answers kmsgrant expects (NoSuchBucketPolicy and friends) are
// not modeled error types, so they are told apart by code.
func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// httpStatus is the HTTP status AWS answered err with, 0 when err is not
// an answer (a network error, or none).
func httpStatus(err error) int {
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		return status.HTTPStatusCode()
	}
	return 0
}

func isCode(err error, codes ...string) bool {
	c := errorCode(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

func isAccessDenied(err error) bool {
	// HEAD requests have no body, so S3 answers them with the bare status
	// text "Forbidden".
	return isCode(err, "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AllAccessDisabled", "Forbidden")
}

// callError says which call failed on what, and, for AccessDenied, which
// permission the credentials lack: a person can act on that.
func callError(err error, what, arn, permission string, who *identity) error {
	if isAccessDenied(err) {
		return fmt.Errorf("%s %s needs %s for %s: %w", what, arn, permission, who.name(), err)
	}
	return fmt.Errorf("%s %s (%s): %w", what, arn, who.name(), err)
}
