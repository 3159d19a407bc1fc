package live

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Call is one AWS API call, as Options.OnCall sees it: once when it starts
// (Done false) and once when it ends, with how.
type Call struct {
	// Service and Operation are the SDK's names ("S3", "GetBucketPolicy").
	Service, Operation string
	Region             string
	// Target names what the call is about, from its input: the bucket,
	// the key, the role or user, the policy ("Bucket=doc-example-bucket").
	Target string
	Done   bool
	// Status is the HTTP status of the last answer, 0 when none came.
	Status int
	// Attempts counts the requests the SDK made (retries included).
	Attempts int
	Duration time.Duration
	// Err is the call's error, nil on success.
	Err error
}

// String is the call as --debug shows it, one line.
func (c Call) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", c.Service, c.Operation)
	if c.Region != "" {
		fmt.Fprintf(&b, " region=%s", c.Region)
	}
	if c.Target != "" {
		b.WriteString(" " + c.Target)
	}
	if !c.Done {
		return b.String()
	}
	if c.Status != 0 {
		fmt.Fprintf(&b, " status=%d", c.Status)
	}
	if c.Attempts > 1 {
		fmt.Fprintf(&b, " attempts=%d", c.Attempts)
	}
	fmt.Fprintf(&b, " time=%s", c.Duration.Round(time.Millisecond))
	if c.Err != nil {
		var api smithy.APIError
		switch {
		case errors.As(c.Err, &api):
			fmt.Fprintf(&b, " error=%s", api.ErrorCode())
		case errors.Is(c.Err, context.Canceled):
			b.WriteString(" error=canceled")
		case errors.Is(c.Err, context.DeadlineExceeded):
			b.WriteString(" error=timeout")
		default:
			b.WriteString(" error=" + strings.ReplaceAll(c.Err.Error(), " ", "_"))
		}
	}
	return b.String()
}

// targetFields are the input fields that name what a call is about, in the
// order they are shown.
var targetFields = []string{"Bucket", "Key", "VersionId", "KeyId", "AliasName", "RoleName", "UserName", "GroupName", "PolicyName", "PolicyArn"}

// targetOf reads the fields of an operation's input that name what it is
// about.
func targetOf(input any) string {
	v := reflect.ValueOf(input)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	var parts []string
	for _, name := range targetFields {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Type() != reflect.TypeFor[*string]() || f.IsNil() {
			continue
		}
		parts = append(parts, name+"="+f.Elem().String())
	}
	return strings.Join(parts, " ")
}

// callHook is an API option that reports every call of a client to on, as
// it starts and as it ends (after the SDK's retries).
func callHook(on func(Call)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("KmsgrantCallHook",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c := Call{
					Service:   awsmiddleware.GetServiceID(ctx),
					Operation: awsmiddleware.GetOperationName(ctx),
					Region:    awsmiddleware.GetRegion(ctx),
					Target:    targetOf(in.Parameters),
				}
				on(c)
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				c.Done, c.Duration, c.Err = true, time.Since(start), err
				if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
					c.Status = resp.StatusCode
				}
				if s := httpStatus(err); s != 0 {
					c.Status = s
				}
				if results, ok := retry.GetAttemptResults(md); ok {
					c.Attempts = len(results.Results)
				}
				on(c)
				return out, md, err
			}), middleware.After)
	}
}

// hookCalls adds on to the API options of cfg, so every client made from
// it reports its calls; nothing when on is nil.
func hookCalls(cfg *aws.Config, on func(Call)) {
	if on != nil {
		// A copy of the list: cfg may share it with the config it was
		// copied from.
		cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], callHook(on))
	}
}
