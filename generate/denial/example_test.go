package denial_test

import (
	"fmt"

	"github.com/kmsgrant/kmsgrant/generate/denial"
)

func ExampleParseMessage() {
	d, err := denial.ParseMessage(`An error occurred (AccessDenied) when calling the GetObject operation:
User: arn:aws:sts::444455556666:assumed-role/reader/botocore-session-1700000000 is not authorized to perform: kms:Decrypt
on resource: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
because no resource-based policy allows the kms:Decrypt action`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Caller)
	fmt.Println(d.Action, "in answer to", d.Operation, "made by S3:", d.ViaS3)
	fmt.Println(d.Key)
	fmt.Println(d.Layer)
	// Output:
	// arn:aws:sts::444455556666:assumed-role/reader/botocore-session-1700000000
	// kms:Decrypt in answer to GetObject made by S3: true
	// arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
	// no resource-based policy allows the action
}

func ExampleParseCloudTrail() {
	d, err := denial.ParseCloudTrail([]byte(`{"Records": [{
  "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-west-2",
  "errorCode": "AccessDenied", "errorMessage": "Access Denied",
  "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::444455556666:assumed-role/etl/nightly",
    "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::444455556666:role/data/etl"}}},
  "requestParameters": {"bucketName": "doc-example-bucket", "key": "reports/q1.csv"}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Caller, "of", d.Role)
	fmt.Printf("s3://%s/%s, policy type cited: %v\n", d.Bucket, d.Object, d.Layer != nil)
	// Output:
	// arn:aws:sts::444455556666:assumed-role/etl/nightly of arn:aws:iam::444455556666:role/data/etl
	// s3://doc-example-bucket/reports/q1.csv, policy type cited: false
}
