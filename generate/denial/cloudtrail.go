package denial

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// MaxUncompressed is the most ParseCloudTrail reads of a gzip-compressed
// log file once uncompressed, so that a small file cannot grow without end.
const MaxUncompressed = 256 << 20

// record is the part of a CloudTrail record ("CloudTrail record contents")
// a denial is read from.
type record struct {
	EventSource     string `json:"eventSource"`
	EventName       string `json:"eventName"`
	AWSRegion       string `json:"awsRegion"`
	ErrorCode       string `json:"errorCode"`
	ErrorMessage    string `json:"errorMessage"`
	SourceIPAddress string `json:"sourceIPAddress"`
	UserAgent       string `json:"userAgent"`
	UserIdentity    struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext struct {
			SessionIssuer struct {
				Type string `json:"type"`
				ARN  string `json:"arn"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	// requestParameters differ by call and may be null.
	RequestParameters map[string]any `json:"requestParameters"`
	Resources         []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
}

const (
	s3Source  = "s3.amazonaws.com"
	kmsSource = "kms.amazonaws.com"
)

// ParseCloudTrail reads the record of a denied call from a CloudTrail
// record (one JSON object), a log file ({"Records": [...]}, gzip-compressed
// or not), a JSON array of records, or an answer of lookup-events
// ({"Events": [{"CloudTrailEvent": "<record as a JSON string>"}]}). It takes
// the first record of an S3 GetObject or HeadObject, or a KMS Decrypt, that
// AWS denied (errorCode AccessDenied or AccessDeniedException).
func ParseCloudTrail(data []byte) (*Denial, error) {
	data, err := gunzip(data)
	if err != nil {
		return nil, err
	}
	raws, err := records(data)
	if err != nil {
		return nil, err
	}
	denied, other := 0, ""
	for i, raw := range raws {
		// Only the denied reads are read in full, so that a record of
		// another call that is odd in some field does not matter.
		var head struct{ EventSource, EventName, ErrorCode string }
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("record %d of %d: %w", i+1, len(raws), jsonError(err))
		}
		if !strings.EqualFold(head.ErrorCode, "AccessDenied") && !strings.EqualFold(head.ErrorCode, "AccessDeniedException") {
			continue
		}
		denied++
		if !isRead(head.EventSource, head.EventName) {
			if other == "" {
				other = strings.TrimSpace(head.EventSource + " " + head.EventName)
			}
			continue
		}
		var r record
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("record %d of %d: %w", i+1, len(raws), jsonError(err))
		}
		d := r.denial()
		d.Record, d.Records = i+1, len(raws)
		return d, nil
	}
	if denied == 0 {
		return nil, fmt.Errorf("no AccessDenied record in %d %s", len(raws), plural(len(raws), "record"))
	}
	return nil, fmt.Errorf("%d AccessDenied %s, none of an S3 GetObject or a KMS Decrypt (the first is %s)", denied, plural(denied, "record"), other)
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func gunzip(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxUncompressed+1))
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	if len(out) > MaxUncompressed {
		return nil, fmt.Errorf("larger than %d MiB uncompressed", MaxUncompressed>>20)
	}
	return out, nil
}

// records finds the records of a file in any of the shapes ParseCloudTrail
// takes.
func records(data []byte) ([]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("[")) {
		var list []json.RawMessage
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, jsonError(err)
		}
		return list, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(err)
	}
	switch {
	case top["Records"] != nil:
		var list []json.RawMessage
		if err := json.Unmarshal(top["Records"], &list); err != nil {
			return nil, fmt.Errorf("field Records: %w", jsonError(err))
		}
		return list, nil
	case top["Events"] != nil:
		var events []struct {
			CloudTrailEvent *string `json:"CloudTrailEvent"`
		}
		if err := json.Unmarshal(top["Events"], &events); err != nil {
			return nil, fmt.Errorf("field Events: %w", jsonError(err))
		}
		list := make([]json.RawMessage, len(events))
		for i, e := range events {
			if e.CloudTrailEvent == nil {
				return nil, fmt.Errorf("event %d of %d has no CloudTrailEvent", i+1, len(events))
			}
			if !json.Valid([]byte(*e.CloudTrailEvent)) {
				return nil, fmt.Errorf("event %d of %d: CloudTrailEvent is not a JSON record", i+1, len(events))
			}
			list[i] = json.RawMessage(*e.CloudTrailEvent)
		}
		return list, nil
	case top["eventSource"] != nil || top["eventName"] != nil:
		return []json.RawMessage{data}, nil
	}
	return nil, errors.New(`not a CloudTrail record, log file ({"Records": [...]}) or lookup-events answer ({"Events": [...]})`)
}

// jsonError says where JSON went wrong without Go's type names.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("not valid JSON (at byte %d: %v)", syntax.Offset, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		want := "what CloudTrail writes there"
		switch typ.Type.Kind() {
		case reflect.Slice:
			want = "a list"
		case reflect.Struct, reflect.Map:
			want = "an object"
		case reflect.String:
			want = "a string"
		}
		if typ.Field == "" {
			return fmt.Errorf("a JSON %s, not %s", typ.Value, want)
		}
		return fmt.Errorf("%s is a JSON %s, not %s", typ.Field, typ.Value, want)
	}
	return fmt.Errorf("not valid JSON: %w", err)
}

// isRead reports whether a record is of a call explain is about.
func isRead(source, name string) bool {
	switch source {
	case s3Source:
		return isS3Read(name)
	case kmsSource:
		return name == "Decrypt"
	}
	return false
}

// denial reads a record of a denied read.
func (r record) denial() *Denial {
	d := &Denial{}
	if m, err := ParseMessage(r.ErrorMessage); err == nil {
		d = m
	}
	d.Source, d.Code, d.Operation, d.Region = FromCloudTrail, r.ErrorCode, r.EventName, r.AWSRegion
	id := r.UserIdentity
	switch {
	case id.ARN != "":
		d.Caller = id.ARN
	case d.Caller == "":
		// The bucket owner's copy of another account's call may name
		// only that account.
		d.CallerAccount = id.AccountID
	}
	if id.Type == "AssumedRole" && id.SessionContext.SessionIssuer.Type == "Role" {
		d.Role = id.SessionContext.SessionIssuer.ARN
	}
	if d.Action == "" || d.ActionFromOperation {
		d.Action, d.ActionFromOperation = operationActions[r.EventName], false
	}
	partition := arns.PartitionOf(r.AWSRegion)
	if a, ok := arnPartition(d.Caller); ok {
		partition = a
	}
	if r.EventSource == s3Source {
		d.Service = "S3"
		bucket, key := r.param("bucketName"), r.param("key")
		if key == "" {
			key = r.param("Key")
		}
		for _, res := range r.Resources {
			if b, o, ok := ParseS3ARN(res.ARN); ok && o != "" && (bucket == "" || b == bucket) {
				bucket, key = b, o
				break
			}
		}
		if bucket != "" {
			d.Bucket, d.Object = bucket, key
			d.Resource = arns.BucketARN(partition, bucket)
			if key != "" {
				d.Resource += "/" + key
			}
		}
		return d
	}
	d.Service = "KMS"
	if k := r.param("keyId"); arns.IsFullKeyARN(k) {
		d.Key = k
	}
	for _, res := range r.Resources {
		if d.Key == "" && arns.IsFullKeyARN(res.ARN) {
			d.Key = res.ARN
		}
	}
	if d.Key != "" {
		d.Resource = d.Key
	}
	if ctx, ok := r.RequestParameters["encryptionContext"].(map[string]any); ok {
		if s, ok := ctx["aws:s3:arn"].(string); ok {
			if bucket, object, ok := ParseS3ARN(s); ok {
				d.Bucket, d.Object, d.BucketKeyContext = bucket, object, object == ""
				d.ViaS3 = true
			}
		}
	}
	// S3 calls KMS for a reader in a forward access session: the record
	// says S3 invoked it, and S3 is the source.
	for _, v := range []string{id.InvokedBy, r.SourceIPAddress, r.UserAgent} {
		if v == s3Source {
			d.ViaS3 = true
		}
	}
	return d
}

// param is a string request parameter, "" when absent or not a string.
func (r record) param(name string) string {
	s, _ := r.RequestParameters[name].(string)
	return s
}

// arnPartition returns the partition of an ARN.
func arnPartition(s string) (string, bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}
