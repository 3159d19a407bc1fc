package live_test

import (
	"context"
	"os"
	"testing"

	"github.com/kmsgrant/kmsgrant/apply"
	"github.com/kmsgrant/kmsgrant/apply/live"
	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
)

// TestAcceptance runs plan, apply and a second plan against real accounts
// or an AWS-compatible endpoint. It is opt-in, and changes the policies it
// is pointed at:
//
//	KMSGRANT_ACCEPTANCE=1 KMSGRANT_OWNER_PROFILE=owner KMSGRANT_GRANTEE_PROFILE=partner \
//	KMSGRANT_BUCKET=my-bucket KMSGRANT_GRANTEE=arn:aws:iam::444455556666:role/reader \
//	[KMSGRANT_ENDPOINT_URL=http://localhost:4566] go test -run Acceptance ./apply/live
func TestAcceptance(t *testing.T) {
	if os.Getenv("KMSGRANT_ACCEPTANCE") != "1" {
		t.Skip("set KMSGRANT_ACCEPTANCE=1 with two profiles (or an endpoint URL) to run against real or emulated accounts")
	}
	bucket, granteeARN := os.Getenv("KMSGRANT_BUCKET"), os.Getenv("KMSGRANT_GRANTEE")
	if bucket == "" || granteeARN == "" {
		t.Fatal("KMSGRANT_BUCKET and KMSGRANT_GRANTEE are required")
	}
	p, err := arns.ParsePrincipal(granteeARN, "")
	if err != nil {
		t.Fatal(err)
	}
	g := generate.Grant{Bucket: bucket, Prefix: os.Getenv("KMSGRANT_PREFIX"), Grantee: p, Access: []string{"read"}, IAMPolicyName: generate.IAMPolicyName}
	ctx := context.Background()
	open := func() *live.Backend {
		b, err := live.New(ctx, live.Options{
			OwnerProfile: os.Getenv("KMSGRANT_OWNER_PROFILE"), GranteeProfile: os.Getenv("KMSGRANT_GRANTEE_PROFILE"),
			EndpointURL: os.Getenv("KMSGRANT_ENDPOINT_URL"), GranteeAccount: p.Account, Prefix: g.Prefix,
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := open()
	plan, err := apply.NewPlan(ctx, b, g)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Blocked() {
		t.Fatalf("plan blocked: %+v", plan.View.Blockers)
	}
	if _, err := apply.Execute(ctx, b, plan); err != nil {
		t.Fatal(err)
	}
	again, err := apply.NewPlan(ctx, open(), g)
	if err != nil {
		t.Fatal(err)
	}
	if again.HasChanges() {
		t.Errorf("second plan has changes: %+v", again.View.Summary)
	}
}
