package eval

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

const (
	readerARN = "arn:aws:iam::444455556666:role/Reader"
	bobARN    = "arn:aws:iam::444455556666:user/Bob"
	objectARN = "arn:aws:s3:::b/reports/x.csv"
)

var (
	reader    = arns.Principal{Kind: arns.Role, Partition: "aws", Account: "444455556666", Path: "/", Name: "Reader"}
	bob       = arns.Principal{Kind: arns.User, Partition: "aws", Account: "444455556666", Path: "/", Name: "Bob"}
	accountB  = arns.Principal{Kind: arns.Account, Partition: "aws", Account: "444455556666"}
	teamRoleB = arns.Principal{Kind: arns.Role, Partition: "aws", Account: "444455556666", Path: "/team/", Name: "Reader"}
	// aliceSession is the Reader role acting through its session "alice".
	aliceSession = arns.Principal{Kind: arns.Role, Partition: "aws", Account: "444455556666", Path: "/", Name: "Reader", Session: "alice"}
)

// request is a cross-account GetObject by the Reader role as kmsgrant sees
// it: some keys known, a few known to be absent, the rest unknown
// (aws:PrincipalOrgID, aws:CurrentTime, aws:username, ...).
func request() Request {
	return Request{
		Principal: reader,
		Action:    "s3:GetObject",
		Resource:  Exactly(objectARN),
		Context: map[string]Value{
			"aws:securetransport":              Exactly("true"),
			"aws:principalaccount":             Exactly("444455556666"),
			"aws:principalarn":                 Exactly(readerARN),
			"aws:sourceip":                     Exactly("203.0.113.7"),
			"kms:viaservice":                   Exactly("s3.us-west-2.amazonaws.com"),
			"kms:calleraccount":                Exactly("444455556666"),
			"kms:encryptioncontext:aws:s3:arn": StartingWith("arn:aws:s3:::b/reports/"),
			"s3:max-keys":                      Exactly("10"),
		},
		Absent: map[string]bool{
			"aws:sourcevpce":               true,
			"aws:sourcearn":                true,
			"aws:multifactorauthpresent":   true,
			"aws:vpcsourceip":              true,
			"aws:principaltag/team":        true,
			"aws:requesttag/project":       true,
			"aws:calledvia":                true,
			"aws:viaawsservice":            true,
			"s3:x-amz-server-side-encrypt": true,
		},
	}
}

func calledVia(services ...string) map[string]Value {
	return map[string]Value{"aws:calledvia": Values(services...)}
}

func mustStatement(t *testing.T, in string) policy.Statement {
	t.Helper()
	s, err := policy.ParseStatement([]byte(in))
	if err != nil {
		t.Fatalf("ParseStatement(%s): %v", in, err)
	}
	return s
}

func mustDoc(t *testing.T, in string) *policy.Document {
	t.Helper()
	d, err := policy.Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse(%s): %v", in, err)
	}
	return d
}

func TestStatementPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		principal string // the Principal element's JSON
		caller    arns.Principal
		want      Tri
	}{
		{name: "exact role ARN", principal: `{"AWS":"` + readerARN + `"}`, caller: reader, want: Yes},
		{name: "exact role ARN in a list", principal: `{"AWS":["arn:aws:iam::111122223333:root","` + readerARN + `"]}`, caller: reader, want: Yes},
		{name: "account ID string", principal: `{"AWS":"444455556666"}`, caller: reader, want: Yes},
		{name: "account root ARN", principal: `{"AWS":"arn:aws:iam::444455556666:root"}`, caller: reader, want: Yes},
		{name: "bare wildcard", principal: `"*"`, caller: reader, want: Yes},
		{name: "AWS wildcard", principal: `{"AWS":"*"}`, caller: reader, want: Yes},
		{name: "AWS wildcard in a list", principal: `{"AWS":["arn:aws:iam::111122223333:root","*"]}`, caller: reader, want: Yes},
		{name: "other account ID", principal: `{"AWS":"111122223333"}`, caller: reader, want: No},
		{name: "other account root ARN", principal: `{"AWS":"arn:aws:iam::111122223333:root"}`, caller: reader, want: No},
		{name: "other role in the same account", principal: `{"AWS":"arn:aws:iam::444455556666:role/Writer"}`, caller: reader, want: No},
		{name: "same role name in another account", principal: `{"AWS":"arn:aws:iam::111122223333:role/Reader"}`, caller: reader, want: No},
		{name: "role ARN with a path does not name the role without one", principal: `{"AWS":"arn:aws:iam::444455556666:role/team/Reader"}`, caller: reader, want: No},
		{name: "role ARN with its path", principal: `{"AWS":"arn:aws:iam::444455556666:role/team/Reader"}`, caller: teamRoleB, want: Yes},
		{name: "role unique ID left by a deleted role", principal: `{"AWS":"AROAEXAMPLEID1234567"}`, caller: reader, want: No},
		{name: "partial wildcards are not principal wildcards", principal: `{"AWS":"arn:aws:iam::444455556666:role/*"}`, caller: reader, want: No},
		{name: "Service principal", principal: `{"Service":"s3.amazonaws.com"}`, caller: reader, want: No},
		{name: "Federated principal", principal: `{"Federated":"cognito-identity.amazonaws.com"}`, caller: reader, want: No},
		{name: "CanonicalUser may be the caller's account", principal: `{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, caller: reader, want: Maybe},
		{name: "other account plus CanonicalUser", principal: `{"AWS":"111122223333","CanonicalUser":"79a59df9"}`, caller: reader, want: Maybe},
		{name: "matching ARN wins over CanonicalUser", principal: `{"AWS":"` + readerARN + `","CanonicalUser":"79a59df9"}`, caller: reader, want: Yes},
		{name: "exact user ARN", principal: `{"AWS":"` + bobARN + `"}`, caller: bob, want: Yes},
		{name: "a known session, named by its session ARN", principal: `{"AWS":"arn:aws:sts::444455556666:assumed-role/Reader/alice"}`, caller: aliceSession, want: Yes},
		{name: "a known session, another session of its role named", principal: `{"AWS":"arn:aws:sts::444455556666:assumed-role/Reader/bob"}`, caller: aliceSession, want: No},
		{name: "a known session, its role named", principal: `{"AWS":"` + readerARN + `"}`, caller: aliceSession, want: Yes},
		{name: "a session of the role may be the caller", principal: `{"AWS":"arn:aws:sts::444455556666:assumed-role/Reader/alice"}`, caller: reader, want: Maybe},
		{name: "role ARN does not name a user", principal: `{"AWS":"` + readerARN + `"}`, caller: bob, want: No},
		{name: "account grantee named by root ARN", principal: `{"AWS":"arn:aws:iam::444455556666:root"}`, caller: accountB, want: Yes},
		{name: "account grantee named by account ID", principal: `{"AWS":"444455556666"}`, caller: accountB, want: Yes},
		// Some callers of the account are that role: an Allow does not
		// cover the account, a Deny may apply.
		{name: "account grantee partly covered by one of its roles", principal: `{"AWS":"` + readerARN + `"}`, caller: accountB, want: Maybe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStatement(t, `{"Effect":"Allow","Principal":`+tc.principal+`,"Action":"s3:GetObject","Resource":"*"}`)
			req := request()
			req.Principal = tc.caller
			if got := Statement(st, Resource, req); got != tc.want {
				t.Errorf("Statement(Principal %s) = %v, want %v", tc.principal, got, tc.want)
			}
		})
	}
}

func TestStatementWithoutPrincipal(t *testing.T) {
	st := mustStatement(t, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)
	if got := Statement(st, Resource, request()); got != No {
		t.Errorf("resource policy statement without Principal: got %v, want %v", got, No)
	}
	if got := Statement(st, Identity, request()); got != Yes {
		t.Errorf("identity policy statement: got %v, want %v", got, Yes)
	}
	// Identity policies have no Principal; one naming another account is
	// not consulted.
	other := mustStatement(t, `{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}`)
	if got := Statement(other, Identity, request()); got != Yes {
		t.Errorf("identity policy ignores Principal: got %v, want %v", got, Yes)
	}
}

func TestStatementNotPrincipal(t *testing.T) {
	// AWS: "all principals except the user named Bob in AWS account
	// 444455556666 are explicitly denied" for NotPrincipal [Bob, account
	// root]: in NotPrincipal the account ARN excludes the account itself,
	// not every principal in it.
	// AWS: without the account ARN "the policy might deny access to the
	// entire account", and an assumed-role session is excluded only by its
	// own session ARN.
	tests := []struct {
		name         string
		notPrincipal string
		caller       arns.Principal
		want         Tri
	}{
		{name: "other account is denied", notPrincipal: `{"AWS":"111122223333"}`, caller: reader, want: Yes},
		{name: "other role in another account is denied", notPrincipal: `{"AWS":["arn:aws:iam::111122223333:role/Admin","arn:aws:iam::111122223333:root"]}`, caller: reader, want: Yes},
		{name: "user and its account listed, as AWS documents, is not denied", notPrincipal: `{"AWS":["` + bobARN + `","arn:aws:iam::444455556666:root"]}`, caller: bob, want: No},
		{name: "wildcard excludes everyone", notPrincipal: `"*"`, caller: reader, want: No},
		{name: "CanonicalUser exclusion is uncertain", notPrincipal: `{"CanonicalUser":"79a59df9"}`, caller: reader, want: Maybe},
		{name: "Service exclusion does not exclude a role", notPrincipal: `{"Service":"s3.amazonaws.com"}`, caller: reader, want: Yes},
		{name: "other role in the caller's account, with the account, is denied", notPrincipal: `{"AWS":["arn:aws:iam::444455556666:role/Admin","arn:aws:iam::444455556666:root"]}`, caller: reader, want: Yes},
		{name: "only the caller's account ID listed does not exclude its roles", notPrincipal: `{"AWS":"444455556666"}`, caller: reader, want: Yes},
		{name: "only the caller's account root ARN listed does not exclude its roles", notPrincipal: `{"AWS":"arn:aws:iam::444455556666:root"}`, caller: reader, want: Yes},
		{name: "user ARN without its account ARN might still deny", notPrincipal: `{"AWS":"` + bobARN + `"}`, caller: bob, want: Maybe},
		{name: "role ARN without its account ARN might still deny", notPrincipal: `{"AWS":"` + readerARN + `"}`, caller: reader, want: Maybe},
		{name: "role and account without the session ARN might still deny the session", notPrincipal: `{"AWS":["` + readerARN + `","arn:aws:iam::444455556666:root"]}`, caller: reader, want: Maybe},
		{name: "a session of the caller's role may be the caller", notPrincipal: `{"AWS":["arn:aws:sts::444455556666:assumed-role/Reader/alice","arn:aws:iam::444455556666:root"]}`, caller: reader, want: Maybe},
		// A known session (explain given the ARN from an AccessDenied
		// message): excluded by its session, role and account ARNs, as
		// AWS's example lists them.
		{name: "known session listed with its role and account is not denied", notPrincipal: `{"AWS":["arn:aws:sts::444455556666:assumed-role/Reader/alice","` + readerARN + `","arn:aws:iam::444455556666:root"]}`, caller: aliceSession, want: No},
		{name: "known session listed without its role might still be denied", notPrincipal: `{"AWS":["arn:aws:sts::444455556666:assumed-role/Reader/alice","arn:aws:iam::444455556666:root"]}`, caller: aliceSession, want: Maybe},
		{name: "another session of the role listed does not exclude a known session", notPrincipal: `{"AWS":["arn:aws:sts::444455556666:assumed-role/Reader/bob","` + readerARN + `","arn:aws:iam::444455556666:root"]}`, caller: aliceSession, want: Maybe},
		{name: "a whole-account caller may be the user listed", notPrincipal: `{"AWS":["` + bobARN + `","arn:aws:iam::444455556666:root"]}`, caller: accountB, want: Maybe},
		{name: "a whole-account caller, only the root listed", notPrincipal: `{"AWS":"arn:aws:iam::444455556666:root"}`, caller: accountB, want: Yes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStatement(t, `{"Effect":"Deny","NotPrincipal":`+tc.notPrincipal+`,"Action":"s3:*","Resource":"*"}`)
			req := request()
			req.Principal = tc.caller
			if got := Statement(st, Resource, req); got != tc.want {
				t.Errorf("Statement(NotPrincipal %s) = %v, want %v", tc.notPrincipal, got, tc.want)
			}
		})
	}
}

func TestStatementAction(t *testing.T) {
	tests := []struct {
		name    string
		element string // "Action":... or "NotAction":...
		action  string
		want    Tri
	}{
		{name: "exact action", element: `"Action":"s3:GetObject"`, want: Yes},
		{name: "wildcard prefix in other case", element: `"Action":"S3:get*"`, want: Yes},
		{name: "action in upper case", element: `"Action":"S3:GETOBJECT"`, want: Yes},
		{name: "request action in odd case", element: `"Action":"s3:GetObject"`, action: "S3:getobject", want: Yes},
		{name: "service wildcard", element: `"Action":"s3:*"`, want: Yes},
		{name: "everything", element: `"Action":"*"`, want: Yes},
		{name: "single-character wildcard", element: `"Action":"s3:GetObjec?"`, want: Yes},
		{name: "star matches nothing at the end", element: `"Action":"s3:GetObject*"`, want: Yes},
		{name: "single-character wildcard needs a character", element: `"Action":"s3:GetObject?"`, want: No},
		{name: "other S3 action", element: `"Action":"s3:Put*"`, want: No},
		{name: "wildcard in the middle that does not fit", element: `"Action":"s3:Get*Version"`, want: No},
		{name: "other service", element: `"Action":"kms:Decrypt"`, want: No},
		{name: "list with a match", element: `"Action":["kms:Decrypt","s3:GetObject"]`, want: Yes},
		{name: "list without a match", element: `"Action":["kms:Decrypt","s3:ListBucket"]`, want: No},
		{name: "NotAction of another action applies", element: `"NotAction":"s3:Put*"`, want: Yes},
		{name: "NotAction of all S3 does not apply", element: `"NotAction":"s3:*"`, want: No},
		{name: "NotAction is case-insensitive too", element: `"NotAction":"S3:GETOBJECT"`, want: No},
		{name: "NotAction list without the action applies", element: `"NotAction":["kms:*","s3:List*"]`, want: Yes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStatement(t, `{"Effect":"Allow",`+tc.element+`,"Resource":"*"}`)
			req := request()
			if tc.action != "" {
				req.Action = tc.action
			}
			if got := Statement(st, Identity, req); got != tc.want {
				t.Errorf("Statement(%s) for %s = %v, want %v", tc.element, req.Action, got, tc.want)
			}
		})
	}
}

func TestStatementResource(t *testing.T) {
	tests := []struct {
		name     string
		element  string // "Resource":..., "NotResource":... or ""
		resource Value
		caller   *arns.Principal
		context  map[string]Value
		absent   []string
		want     Tri
	}{
		{name: "bucket-wide pattern, one object", element: `"Resource":"arn:aws:s3:::b/*"`, resource: Exactly(objectARN), want: Yes},
		{name: "bucket-wide pattern covers a prefix", element: `"Resource":"arn:aws:s3:::b/*"`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: Yes},
		{name: "narrower pattern covers part of a prefix", element: `"Resource":"arn:aws:s3:::b/reports/*"`, resource: StartingWith("arn:aws:s3:::b/"), want: Maybe},
		{name: "one object is in a prefix set but does not cover it", element: `"Resource":"` + objectARN + `"`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: Maybe},
		{name: "exact object", element: `"Resource":"` + objectARN + `"`, resource: Exactly(objectARN), want: Yes},
		{name: "bucket ARN does not name objects", element: `"Resource":"arn:aws:s3:::b"`, resource: Exactly(objectARN), want: No},
		{name: "bucket ARN is not under an object prefix", element: `"Resource":"arn:aws:s3:::b"`, resource: StartingWith("arn:aws:s3:::b/"), want: No},
		{name: "other bucket", element: `"Resource":"arn:aws:s3:::c/*"`, resource: StartingWith("arn:aws:s3:::b/"), want: No},
		{name: "sibling prefix", element: `"Resource":"arn:aws:s3:::b/logs/*"`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: No},
		{name: "resource matching is case-sensitive", element: `"Resource":"arn:aws:s3:::B/*"`, resource: Exactly(objectARN), want: No},
		{name: "star covers every prefix", element: `"Resource":"*"`, resource: StartingWith("arn:aws:s3:::b/"), want: Yes},
		{name: "list with a covering pattern", element: `"Resource":["arn:aws:s3:::c/*","arn:aws:s3:::b/*"]`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: Yes},
		{name: "list of partial patterns", element: `"Resource":["arn:aws:s3:::b/reports/a*","arn:aws:s3:::b/reports/b*"]`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: Maybe},
		{name: "NotResource elsewhere applies", element: `"NotResource":"arn:aws:s3:::c/*"`, resource: StartingWith("arn:aws:s3:::b/"), want: Yes},
		{name: "NotResource covering the prefix does not apply", element: `"NotResource":"arn:aws:s3:::b/*"`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: No},
		{name: "NotResource carving out part of the prefix", element: `"NotResource":"arn:aws:s3:::b/reports/secret/*"`, resource: StartingWith("arn:aws:s3:::b/reports/"), want: Maybe},
		{name: "NotResource carving out another object", element: `"NotResource":"arn:aws:s3:::b/reports/secret/*"`, resource: Exactly(objectARN), want: Yes},
		{name: "no Resource element grants nothing", element: ``, resource: Exactly(objectARN), want: No},
		{
			name: "known user name substituted", element: `"Resource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly("arn:aws:s3:::b/home/Bob/x"),
			caller: &bob, context: map[string]Value{"aws:username": Exactly("Bob")}, want: Yes,
		},
		{
			name: "known user name substituted, other user's object", element: `"Resource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly("arn:aws:s3:::b/home/alice/x"),
			caller: &bob, context: map[string]Value{"aws:username": Exactly("Bob")}, want: No,
		},
		{
			name: "known user name substituted, prefix set", element: `"Resource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: StartingWith("arn:aws:s3:::b/home/Bob/"),
			caller: &bob, context: map[string]Value{"aws:username": Exactly("Bob")}, want: Yes,
		},
		{
			name: "variable names are case-insensitive", element: `"Resource":"arn:aws:s3:::b/home/${AWS:UserName}/*"`, resource: Exactly("arn:aws:s3:::b/home/Bob/x"),
			caller: &bob, context: map[string]Value{"aws:username": Exactly("Bob")}, want: Yes,
		},
		{name: "unknown user name", element: `"Resource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly("arn:aws:s3:::b/home/Bob/x"), caller: &bob, want: Maybe},
		{
			name: "variable with a set value is unknown", element: `"Resource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly("arn:aws:s3:::b/home/Bob/x"),
			caller: &bob, context: map[string]Value{"aws:username": StartingWith("B")}, want: Maybe,
		},
		{
			name: "a variable before the fifth colon is undecided", element: `"Resource":"arn:aws:kms:us-west-2:${aws:PrincipalAccount}:key/*"`, resource: Exactly("arn:aws:kms:us-west-2:444455556666:key/k"),
			context: map[string]Value{"aws:principalaccount": Exactly("444455556666")}, want: Maybe,
		},
		{
			name: "a variable after the fifth colon is substituted", element: `"Resource":"arn:aws:kms:us-west-2:444455556666:key/${aws:PrincipalTag/key}"`, resource: Exactly("arn:aws:kms:us-west-2:444455556666:key/k"),
			context: map[string]Value{"aws:principaltag/key": Exactly("k")}, want: Yes,
		},
		{name: "unknown variable in NotResource", element: `"NotResource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly(objectARN), caller: &bob, want: Maybe},
		{name: "unknown variable in one pattern, another pattern matches", element: `"Resource":["arn:aws:s3:::b/home/${aws:username}/*","arn:aws:s3:::b/*"]`, resource: Exactly(objectARN), caller: &bob, want: Yes},
		// ${*}, ${?} and ${$} are the literal characters *, ? and $.
		{name: "${$} is a dollar sign", element: `"Resource":"arn:aws:s3:::b/${$}x"`, resource: Exactly("arn:aws:s3:::b/$x"), want: Yes},
		{name: "${*} matches a literal asterisk", element: `"Resource":"arn:aws:s3:::b/${*}"`, resource: Exactly("arn:aws:s3:::b/*"), want: Yes},
		{name: "unterminated variable is literal text", element: `"Resource":"arn:aws:s3:::b/${aws:username"`, resource: Exactly("arn:aws:s3:::b/${aws:username"), want: Yes},
		{name: "${*} is not a wildcard", element: `"Resource":"arn:aws:s3:::b/${*}"`, resource: Exactly("arn:aws:s3:::b/x"), want: No},
		{name: "${?} is not a wildcard", element: `"Resource":"arn:aws:s3:::b/x${?}"`, resource: Exactly("arn:aws:s3:::b/xy"), want: No},
		{name: "${?} matches a literal question mark", element: `"Resource":"arn:aws:s3:::b/x${?}"`, resource: Exactly("arn:aws:s3:::b/x?"), want: Yes},
		{name: "${*} then a wildcard covers a prefix of literal asterisks", element: `"Resource":"arn:aws:s3:::b/${*}*"`, resource: StartingWith("arn:aws:s3:::b/*"), want: Yes},
		{name: "${*} then a wildcard does not cover other prefixes", element: `"Resource":"arn:aws:s3:::b/${*}*"`, resource: StartingWith("arn:aws:s3:::b/"), want: Maybe},
		{name: "a wildcard before a literal asterisk still backtracks", element: `"Resource":"arn:aws:s3:::b/*b"`, resource: Exactly("arn:aws:s3:::b/*xb"), want: Yes},
		// A variable the request does not have is null: the pattern matches
		// nothing, unless the variable has a default value.
		{
			name: "absent variable matches nothing", element: `"Resource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly("arn:aws:s3:::b/home/Bob/x"),
			absent: []string{"aws:username"}, want: No,
		},
		{
			name: "absent variable in NotResource leaves it applying", element: `"NotResource":"arn:aws:s3:::b/home/${aws:username}/*"`, resource: Exactly("arn:aws:s3:::b/home/Bob/x"),
			absent: []string{"aws:username"}, want: Yes,
		},
		{
			name: "absent variable takes its default", element: `"Resource":"arn:aws:s3:::b/home/${aws:username, 'shared'}/*"`, resource: Exactly("arn:aws:s3:::b/home/shared/x"),
			absent: []string{"aws:username"}, want: Yes,
		},
		{
			name: "a known variable ignores its default", element: `"Resource":"arn:aws:s3:::b/home/${aws:username, 'shared'}/*"`, resource: Exactly("arn:aws:s3:::b/home/shared/x"),
			caller: &bob, context: map[string]Value{"aws:username": Exactly("Bob")}, want: No,
		},
		{
			name: "default with a doubled quote and a brace", element: `"Resource":"arn:aws:s3:::b/${aws:username, 'it''s}'}"`, resource: Exactly("arn:aws:s3:::b/it's}"),
			absent: []string{"aws:username"}, want: Yes,
		},
		{
			name: "an unknown variable with a default is still unknown", element: `"Resource":"arn:aws:s3:::b/home/${aws:username, 'shared'}/*"`, resource: Exactly("arn:aws:s3:::b/home/shared/x"),
			want: Maybe,
		},
		// A default AWS would not accept is undecided.
		{
			name: "a default without its closing quote", element: `"Resource":"arn:aws:s3:::b/${aws:username, 'x}"`, resource: Exactly("arn:aws:s3:::b/x"),
			absent: []string{"aws:username"}, want: Maybe,
		},
		{
			name: "a default without quotes", element: `"Resource":"arn:aws:s3:::b/${aws:username, x}"`, resource: Exactly("arn:aws:s3:::b/x"),
			absent: []string{"aws:username"}, want: Maybe,
		},
		{name: "an escape with a default", element: `"Resource":"arn:aws:s3:::b/${*, 'x'}"`, resource: Exactly("arn:aws:s3:::b/x"), want: Maybe},
		// Whether a * put in by a variable is a wildcard AWS does not say.
		{
			name: "a substituted asterisk is undecided", element: `"Resource":"arn:aws:s3:::b/${aws:PrincipalTag/dir}"`, resource: Exactly("arn:aws:s3:::b/x"),
			context: map[string]Value{"aws:principaltag/dir": Exactly("*")}, want: Maybe,
		},
		{
			name: "an asterisk in a default is undecided", element: `"Resource":"arn:aws:s3:::b/${aws:username, 'x*'}"`, resource: Exactly("arn:aws:s3:::b/xyz"),
			absent: []string{"aws:username"}, want: Maybe,
		},
		{
			name: "a multivalued key is no variable", element: `"Resource":"arn:aws:s3:::b/${aws:CalledVia}"`, resource: Exactly("arn:aws:s3:::b/s3.amazonaws.com"),
			context: map[string]Value{"aws:calledvia": Values("s3.amazonaws.com")}, want: Maybe,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			element := ""
			if tc.element != "" {
				element = "," + tc.element
			}
			st := mustStatement(t, `{"Effect":"Allow","Action":"s3:GetObject"`+element+`}`)
			req := request()
			req.Resource = tc.resource
			if tc.caller != nil {
				req.Principal = *tc.caller
			}
			for k, v := range tc.context {
				req.Context[k] = v
			}
			for _, k := range tc.absent {
				req.Absent[k] = true
			}
			if got := Statement(st, Identity, req); got != tc.want {
				t.Errorf("Statement(%s) for %v = %v, want %v", tc.element, tc.resource, got, tc.want)
			}
		})
	}
}

func TestStatementConditions(t *testing.T) {
	tests := []struct {
		name      string
		condition string // the Condition element's JSON
		context   map[string]Value
		want      Tri
	}{
		// String operators on a known key.
		{name: "StringEquals matches", condition: `{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}`, want: Yes},
		{name: "StringEquals other value", condition: `{"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`, want: No},
		{name: "StringEquals list with a match", condition: `{"StringEquals":{"kms:ViaService":["s3.eu-west-1.amazonaws.com","s3.us-west-2.amazonaws.com"]}}`, want: Yes},
		{name: "condition key names are case-insensitive", condition: `{"StringEquals":{"KMS:VIASERVICE":"s3.us-west-2.amazonaws.com"}}`, want: Yes},
		{name: "StringEquals values are case-sensitive", condition: `{"StringEquals":{"kms:ViaService":"S3.US-WEST-2.AMAZONAWS.COM"}}`, want: No},
		{name: "StringEquals has no wildcards", condition: `{"StringEquals":{"kms:ViaService":"s3.*"}}`, want: No},
		{name: "StringNotEquals on the value", condition: `{"StringNotEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}`, want: No},
		{name: "StringNotEquals on another value", condition: `{"StringNotEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`, want: Yes},
		{name: "StringNotEquals list including the value", condition: `{"StringNotEquals":{"kms:CallerAccount":["111122223333","444455556666"]}}`, want: No},
		{name: "StringEqualsIgnoreCase", condition: `{"StringEqualsIgnoreCase":{"kms:ViaService":"S3.US-WEST-2.AMAZONAWS.COM"}}`, want: Yes},
		{name: "StringNotEqualsIgnoreCase on the value", condition: `{"StringNotEqualsIgnoreCase":{"kms:ViaService":"S3.US-WEST-2.amazonaws.com"}}`, want: No},
		{name: "StringNotEqualsIgnoreCase on another value", condition: `{"StringNotEqualsIgnoreCase":{"kms:ViaService":"EC2.US-WEST-2.amazonaws.com"}}`, want: Yes},
		{name: "StringLike star", condition: `{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}`, want: Yes},
		{name: "StringLike question mark", condition: `{"StringLike":{"kms:ViaService":"s3.us-west-?.amazonaws.com"}}`, want: Yes},
		{name: "StringLike no match", condition: `{"StringLike":{"kms:ViaService":"s3.eu-*"}}`, want: No},
		{name: "StringLike is case-sensitive", condition: `{"StringLike":{"kms:ViaService":"S3.*"}}`, want: No},
		{name: "StringNotLike matching", condition: `{"StringNotLike":{"kms:ViaService":"s3.*"}}`, want: No},
		{name: "StringNotLike not matching", condition: `{"StringNotLike":{"kms:ViaService":"ec2.*"}}`, want: Yes},

		// A key the request carries as false or not at all, such as
		// aws:ViaAWSService on a direct call: decided only where both
		// agree.
		{name: "BoolIfExists false, false or absent", condition: `{"BoolIfExists":{"aws:ViaAWSService":"false"}}`, context: map[string]Value{"aws:viaawsservice": {S: "false", OrAbsent: true}}, want: Yes},
		{name: "Bool false, false or absent", condition: `{"Bool":{"aws:ViaAWSService":"false"}}`, context: map[string]Value{"aws:viaawsservice": {S: "false", OrAbsent: true}}, want: Maybe},
		{name: "Bool true, false or absent", condition: `{"Bool":{"aws:ViaAWSService":"true"}}`, context: map[string]Value{"aws:viaawsservice": {S: "false", OrAbsent: true}}, want: No},
		{name: "BoolIfExists true, false or absent", condition: `{"BoolIfExists":{"aws:ViaAWSService":"true"}}`, context: map[string]Value{"aws:viaawsservice": {S: "false", OrAbsent: true}}, want: Maybe},
		{name: "Null true, false or absent", condition: `{"Null":{"aws:ViaAWSService":"true"}}`, context: map[string]Value{"aws:viaawsservice": {S: "false", OrAbsent: true}}, want: Maybe},
		{name: "StringNotEquals true, false or absent", condition: `{"StringNotEquals":{"aws:ViaAWSService":"true"}}`, context: map[string]Value{"aws:viaawsservice": {S: "false", OrAbsent: true}}, want: Yes},

		// A key whose value is a set (every object ARN under a prefix).
		{name: "StringEquals one object of the set", condition: `{"StringEquals":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/reports/x.csv"}}`, want: Maybe},
		{name: "StringEquals value outside the set", condition: `{"StringEquals":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b"}}`, want: No},
		{name: "StringNotEquals one object of the set", condition: `{"StringNotEquals":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/reports/x.csv"}}`, want: Maybe},
		{name: "StringLike covering the set", condition: `{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/*"}}`, want: Yes},
		{name: "StringLike covering part of the set", condition: `{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/reports/a*"}}`, want: Maybe},
		{name: "StringLike bucket and objects, as kmsgrant writes it", condition: `{"StringLike":{"kms:EncryptionContext:aws:s3:arn":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}}`, want: Yes},
		{name: "StringLike outside the set", condition: `{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::c/*"}}`, want: No},
		{name: "StringNotLike covering the set", condition: `{"StringNotLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/*"}}`, want: No},

		// ARN operators.
		{name: "ArnLike role wildcard in the account", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/*"}}`, want: Yes},
		{name: "ArnLike other account", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}`, want: No},
		{name: "ArnEquals exact", condition: `{"ArnEquals":{"aws:PrincipalArn":"` + readerARN + `"}}`, want: Yes},
		{name: "ArnNotLike the caller", condition: `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/*"}}`, want: No},
		{name: "ArnNotEquals another role", condition: `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/Admin"}}`, want: Yes},

		// Bool.
		{name: "Bool SecureTransport string false", condition: `{"Bool":{"aws:SecureTransport":"false"}}`, want: No},
		{name: "Bool SecureTransport JSON false", condition: `{"Bool":{"aws:SecureTransport":false}}`, want: No},
		{name: "Bool SecureTransport string true", condition: `{"Bool":{"aws:SecureTransport":"true"}}`, want: Yes},
		{name: "Bool SecureTransport JSON true", condition: `{"Bool":{"aws:SecureTransport":true}}`, want: Yes},
		{name: "Bool on an absent key", condition: `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, want: No},
		{name: "BoolIfExists on an absent key", condition: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, want: Yes},

		// Unknown keys.
		{name: "StringEquals on an unknown key", condition: `{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}`, want: Maybe},
		{name: "StringNotEquals on an unknown key", condition: `{"StringNotEquals":{"aws:PrincipalOrgID":"o-123"}}`, want: Maybe},
		{name: "IfExists on an unknown key", condition: `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-123"}}`, want: Maybe},

		// IfExists and absent keys.
		{name: "IfExists on an absent key", condition: `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, want: Yes},
		{name: "IfExists on a present key that matches", condition: `{"StringEqualsIfExists":{"kms:ViaService":"s3.us-west-2.amazonaws.com"}}`, want: Yes},
		{name: "IfExists on a present key that does not match", condition: `{"StringEqualsIfExists":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`, want: No},
		{name: "ArnLikeIfExists on an absent key", condition: `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::b"}}`, want: Yes},
		{name: "StringEquals on an absent key", condition: `{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, want: No},
		{name: "StringLike on an absent key", condition: `{"StringLike":{"aws:SourceVpce":"*"}}`, want: No},
		{name: "IpAddress on an absent key", condition: `{"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}`, want: No},
		{name: "StringNotEquals on an absent key is true", condition: `{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, want: Yes},
		{name: "StringNotLike on an absent key is true", condition: `{"StringNotLike":{"aws:SourceVpce":"vpce-*"}}`, want: Yes},
		{name: "StringNotEqualsIgnoreCase on an absent key is true", condition: `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"data"}}`, want: Yes},
		{name: "ArnNotLike on an absent key is true", condition: `{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b"}}`, want: Yes},

		// Null.
		{name: "Null true on an absent key", condition: `{"Null":{"aws:SourceVpce":"true"}}`, want: Yes},
		{name: "Null JSON true on an absent key", condition: `{"Null":{"aws:SourceVpce":true}}`, want: Yes},
		{name: "Null false on an absent key", condition: `{"Null":{"aws:SourceVpce":"false"}}`, want: No},
		{name: "Null false on a present key", condition: `{"Null":{"aws:SecureTransport":"false"}}`, want: Yes},
		{name: "Null true on a present key", condition: `{"Null":{"aws:SecureTransport":"true"}}`, want: No},
		{name: "Null JSON false on a present key", condition: `{"Null":{"aws:SecureTransport":false}}`, want: Yes},
		{name: "Null on an unknown key", condition: `{"Null":{"aws:PrincipalOrgID":"true"}}`, want: Maybe},
		{name: "Null on a set-valued key", condition: `{"Null":{"kms:EncryptionContext:aws:s3:arn":"false"}}`, want: Yes},

		// Set operators on single-valued keys.
		{name: "ForAnyValue:StringEquals matching", condition: `{"ForAnyValue:StringEquals":{"kms:ViaService":["s3.us-west-2.amazonaws.com"]}}`, want: Yes},
		{name: "ForAnyValue:StringEquals not matching", condition: `{"ForAnyValue:StringEquals":{"kms:ViaService":["ec2.us-west-2.amazonaws.com"]}}`, want: No},
		{name: "ForAllValues:StringEquals matching", condition: `{"ForAllValues:StringEquals":{"kms:ViaService":["s3.us-west-2.amazonaws.com","ec2.us-west-2.amazonaws.com"]}}`, want: Yes},
		{name: "ForAllValues:StringEquals not matching", condition: `{"ForAllValues:StringEquals":{"kms:ViaService":["ec2.us-west-2.amazonaws.com"]}}`, want: No},
		{name: "ForAnyValue on an absent key is false", condition: `{"ForAnyValue:StringEquals":{"aws:CalledVia":["athena.amazonaws.com"]}}`, want: No},
		{name: "ForAllValues on an absent key is true", condition: `{"ForAllValues:StringEquals":{"aws:CalledVia":["athena.amazonaws.com"]}}`, want: Yes},
		{name: "ForAnyValue:StringLike on an unknown key", condition: `{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-1/*"]}}`, want: Maybe},
		{name: "ForAllValues:StringLikeIfExists on an absent key", condition: `{"ForAllValues:StringLikeIfExists":{"aws:RequestTag/project":["a*"]}}`, want: Yes},

		// Numeric, date, address and binary operators on known keys; on
		// unknown keys they answer Maybe.
		{name: "NumericLessThan on a known key", condition: `{"NumericLessThan":{"s3:max-keys":100}}`, want: Yes},
		{name: "NumericLessThan on an unknown key", condition: `{"NumericLessThan":{"s3:TlsVersion":1.2}}`, want: Maybe},
		{name: "IpAddress on a known key", condition: `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, want: Yes},
		{name: "NotIpAddress on a known key", condition: `{"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}}`, want: Yes},
		{name: "DateGreaterThan on an unknown key", condition: `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, want: Maybe},
		{name: "BinaryEquals on a known key", condition: `{"BinaryEquals":{"kms:ViaService":"QmluYXJ5"}}`, want: No},

		// Policy variables in condition values.
		{name: "variable with a known value", condition: `{"StringEquals":{"kms:CallerAccount":"${aws:PrincipalAccount}"}}`, want: Yes},
		{name: "variable inside a StringLike pattern", condition: `{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`, want: Yes},
		{name: "variable with a known value that differs", condition: `{"StringEquals":{"kms:ViaService":"${aws:PrincipalAccount}"}}`, want: No},
		{name: "variable with an unknown value", condition: `{"StringEquals":{"kms:CallerAccount":"${aws:PrincipalOrgID}"}}`, want: Maybe},
		{name: "${*} in StringLike is a literal asterisk", condition: `{"StringLike":{"kms:ViaService":"s3.${*}"}}`, want: No},
		{name: "${*} in StringEquals is an asterisk", condition: `{"StringEquals":{"aws:PrincipalTag/dir":"${*}"}}`, context: map[string]Value{"aws:principaltag/dir": Exactly("*")}, want: Yes},
		{name: "absent variable: StringEquals fails", condition: `{"StringEquals":{"kms:CallerAccount":"${aws:PrincipalTag/team}"}}`, want: No},
		{name: "absent variable: StringNotEquals holds", condition: `{"StringNotEquals":{"kms:CallerAccount":"${aws:PrincipalTag/team}"}}`, want: Yes},
		{name: "absent variable with a default", condition: `{"StringEquals":{"kms:CallerAccount":"${aws:PrincipalTag/team, '444455556666'}"}}`, want: Yes},

		// Arn operators match each of the six parts on its own.
		{name: "ArnLike by parts", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`, want: Yes},
		{name: "ArnLike: a wildcard does not cross a colon", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:Reader"}}`, want: No},
		{name: "ArnNotLike: a wildcard does not cross a colon", condition: `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:Reader"}}`, want: Yes},
		{name: "ArnLike: an empty Region part matches *", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:*:iam:*:444455556666:role/Reader"}}`, want: Yes},
		{name: "ArnLike: a pattern of five parts is undecided", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:*:role/Reader"}}`, want: Maybe},
		{name: "ArnLike on a prefix set", condition: `{"ArnLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/*"}}`, want: Yes},
		{name: "ArnLike on a prefix set, narrower pattern", condition: `{"ArnLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/reports/2026/*"}}`, want: Maybe},
		{name: "ArnLike on a prefix set that ends before the sixth part", condition: `{"ArnLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b/*"}}`,
			context: map[string]Value{"kms:encryptioncontext:aws:s3:arn": StartingWith("arn:aws")}, want: Maybe},
		{name: "ArnLike on a value that is no ARN", condition: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`,
			context: map[string]Value{"aws:principalarn": Exactly("reader")}, want: No},
		{name: "ArnEquals is ArnLike", condition: `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/*"}}`, want: Yes},

		// Numbers are plain decimals; anything else is undecided.
		{name: "NaN is no number", condition: `{"NumericEquals":{"s3:max-keys":"NaN"}}`, want: Maybe},
		{name: "hexadecimal is no number", condition: `{"NumericEquals":{"s3:max-keys":"0xA"}}`, want: Maybe},
		{name: "a decimal with an exponent", condition: `{"NumericEquals":{"s3:max-keys":"1e1"}}`, want: Yes},

		// Null tests presence.
		{name: "Null on an empty set is undecided", condition: `{"Null":{"aws:CalledVia":"true"}}`, context: calledVia(), want: Maybe},
		{name: "Null true on an absent key", condition: `{"Null":{"aws:SourceVpce":"true"}}`, want: Yes},
		{name: "Null false on an absent key", condition: `{"Null":{"aws:SourceVpce":"false"}}`, want: No},
		{name: "Null false on a present key", condition: `{"Null":{"aws:SecureTransport":"false"}}`, want: Yes},
		{name: "Null true on a present key", condition: `{"Null":{"aws:SecureTransport":"true"}}`, want: No},
		{name: "Null on an unknown key", condition: `{"Null":{"aws:PrincipalOrgID":"true"}}`, want: Maybe},

		// IfExists.
		{name: "IfExists on an absent key holds", condition: `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, want: Yes},
		{name: "IfExists on a present key compares", condition: `{"StringEqualsIfExists":{"kms:CallerAccount":"111122223333"}}`, want: No},

		// Set operators on multivalued keys (aws:CalledVia here).
		{name: "ForAnyValue, one value matches", condition: `{"ForAnyValue:StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, context: calledVia("athena.amazonaws.com", "s3.amazonaws.com"), want: Yes},
		{name: "ForAnyValue, none matches", condition: `{"ForAnyValue:StringEquals":{"aws:CalledVia":"glue.amazonaws.com"}}`, context: calledVia("athena.amazonaws.com", "s3.amazonaws.com"), want: No},
		{name: "ForAnyValue on an empty set", condition: `{"ForAnyValue:StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, context: calledVia(), want: No},
		{name: "ForAnyValue on an absent key fails", condition: `{"ForAnyValue:StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, want: No},
		{name: "ForAnyValue negated on an absent key fails too", condition: `{"ForAnyValue:StringNotEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, want: No},
		{name: "ForAnyValue IfExists on an absent key fails too", condition: `{"ForAnyValue:StringEqualsIfExists":{"aws:CalledVia":"s3.amazonaws.com"}}`, want: No},
		{name: "ForAllValues, every value matches one", condition: `{"ForAllValues:StringLike":{"aws:CalledVia":["s3.*","athena.*"]}}`, context: calledVia("athena.amazonaws.com", "s3.amazonaws.com"), want: Yes},
		{name: "ForAllValues, one value matches none", condition: `{"ForAllValues:StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, context: calledVia("athena.amazonaws.com", "s3.amazonaws.com"), want: No},
		{name: "ForAllValues on an empty set", condition: `{"ForAllValues:StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, context: calledVia(), want: Yes},
		{name: "ForAllValues on an absent key holds", condition: `{"ForAllValues:StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, want: Yes},
		{name: "ForAllValues negated", condition: `{"ForAllValues:StringNotEquals":{"aws:CalledVia":"glue.amazonaws.com"}}`, context: calledVia("athena.amazonaws.com", "s3.amazonaws.com"), want: Yes},
		{name: "ForAnyValue on a single-valued key", condition: `{"ForAnyValue:StringEquals":{"kms:CallerAccount":"444455556666"}}`, want: Yes},
		{name: "a plain operator on a multivalued key is undecided", condition: `{"StringEquals":{"aws:CalledVia":"s3.amazonaws.com"}}`, context: calledVia("s3.amazonaws.com"), want: Maybe},

		// Several conditions are ANDed.
		{name: "two matching operators", condition: `{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com"},"Bool":{"aws:SecureTransport":"true"}}`, want: Yes},
		{name: "matching and unknown", condition: `{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com","aws:PrincipalOrgID":"o-1"}}`, want: Maybe},
		{name: "unknown and failing", condition: `{"StringEquals":{"aws:PrincipalOrgID":"o-1"},"Bool":{"aws:SecureTransport":"false"}}`, want: No},
		{name: "two keys under one operator, one failing", condition: `{"StringEquals":{"kms:ViaService":"s3.us-west-2.amazonaws.com","kms:CallerAccount":"111122223333"}}`, want: No},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStatement(t, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":`+tc.condition+`}`)
			req := request()
			for k, v := range tc.context {
				req.Context[k] = v
				delete(req.Absent, k)
			}
			if got := Statement(st, Identity, req); got != tc.want {
				t.Errorf("Statement(Condition %s) = %v, want %v", tc.condition, got, tc.want)
			}
		})
	}
}

// Policy variables exist only from policy language 2012-10-17 on; in older
// documents (and documents without Version) ${aws:username} is literal text.
func TestEvaluatePolicyVariablesDependOnVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string // the Version member, or "" for none
		want    Tri
	}{
		{name: "2012-10-17 substitutes", version: `"Version":"2012-10-17",`, want: Yes},
		{name: "2008-10-17 does not substitute", version: `"Version":"2008-10-17",`, want: No},
		{name: "no Version does not substitute", version: ``, want: No},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustDoc(t, `{`+tc.version+`"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/home/${aws:username}/*"}]}`)
			req := request()
			req.Principal = bob
			req.Context["aws:username"] = Exactly("Bob")
			req.Resource = Exactly("arn:aws:s3:::b/home/Bob/x")
			got := Evaluate([]Policy{{Name: "identity", Kind: Identity, Doc: doc}}, req)
			if got.Allowed != tc.want {
				t.Errorf("Allowed = %v, want %v", got.Allowed, tc.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	const (
		allowReader   = `{"Sid":"AllowReader","Effect":"Allow","Principal":{"AWS":"` + readerARN + `"},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}`
		denyInsecure  = `{"Sid":"DenyInsecure","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}`
		denyOutsider  = `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-123"}}}`
		denyAccount   = `{"Sid":"DenyB","Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"s3:Get*","Resource":"*"}`
		denyOthers    = `{"Sid":"DenyOthers","Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}`
		identityAllow = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/reports/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`
		identityOther = `{"Sid":"Other","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}`
		identityAll   = `{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"}`
	)
	doc := func(stmts ...string) string {
		s := `{"Version":"2012-10-17","Statement":[`
		for i, st := range stmts {
			if i > 0 {
				s += ","
			}
			s += st
		}
		return s + "]}"
	}
	tests := []struct {
		name     string
		policies func(t *testing.T) []Policy
		req      func() Request
		want     Decision
	}{
		{
			name:     "no policies",
			policies: func(t *testing.T) []Policy { return nil },
			req:      request,
			want:     Decision{},
		},
		{
			name: "a policy without a document is skipped",
			policies: func(t *testing.T) []Policy {
				return []Policy{{Name: "key policy", Kind: Resource}}
			},
			req:  request,
			want: Decision{},
		},
		{
			name: "sure allow, possible allow and possible deny across policies",
			policies: func(t *testing.T) []Policy {
				return []Policy{
					{Name: "bucket policy", Kind: Resource, Doc: mustDoc(t, doc(allowReader, denyInsecure, denyOutsider))},
					{Name: "key policy", Kind: Resource},
					{Name: "role Reader", Kind: Identity, Doc: mustDoc(t, doc(identityOther, identityAllow))},
				}
			},
			req: func() Request {
				r := request()
				r.Resource = StartingWith("arn:aws:s3:::b/reports/")
				return r
			},
			want: Decision{
				Allowed: Yes,
				AllowedBy: []Ref{
					{Policy: "bucket policy", Index: 0, Label: `statement "AllowReader"`, Statement: allowReader, Match: Yes},
					{Policy: "role Reader", Index: 1, Label: "statement #2", Statement: identityAllow, Match: Maybe},
				},
				Denied: Maybe,
				DeniedBy: []Ref{
					{Policy: "bucket policy", Index: 2, Label: "statement #3", Statement: denyOutsider, Match: Maybe},
				},
			},
		},
		{
			name: "only a possible allow",
			policies: func(t *testing.T) []Policy {
				return []Policy{{Name: "role Reader", Kind: Identity, Doc: mustDoc(t, doc(identityAllow))}}
			},
			req: request,
			want: Decision{
				Allowed:   Maybe,
				AllowedBy: []Ref{{Policy: "role Reader", Index: 0, Label: "statement #1", Statement: identityAllow, Match: Maybe}},
			},
		},
		{
			name: "sure deny beats nothing and is reported with its Sid",
			policies: func(t *testing.T) []Policy {
				return []Policy{
					{Name: "bucket policy", Kind: Resource, Doc: mustDoc(t, doc(allowReader, denyAccount, denyOthers))},
					{Name: "role Reader", Kind: Identity, Doc: mustDoc(t, doc(identityAll))},
				}
			},
			req: request,
			want: Decision{
				Allowed: Yes,
				AllowedBy: []Ref{
					{Policy: "bucket policy", Index: 0, Label: `statement "AllowReader"`, Statement: allowReader, Match: Yes},
					{Policy: "role Reader", Index: 0, Label: `statement "All"`, Statement: identityAll, Match: Yes},
				},
				Denied: Yes,
				DeniedBy: []Ref{
					{Policy: "bucket policy", Index: 1, Label: `statement "DenyB"`, Statement: denyAccount, Match: Yes},
					{Policy: "bucket policy", Index: 2, Label: `statement "DenyOthers"`, Statement: denyOthers, Match: Yes},
				},
			},
		},
		{
			name: "a single-object Statement is evaluated too",
			policies: func(t *testing.T) []Policy {
				return []Policy{{Name: "bucket policy", Kind: Resource, Doc: mustDoc(t, `{"Version":"2012-10-17","Statement":`+allowReader+`}`)}}
			},
			req: request,
			want: Decision{
				Allowed:   Yes,
				AllowedBy: []Ref{{Policy: "bucket policy", Index: 0, Label: `statement "AllowReader"`, Statement: allowReader, Match: Yes}},
			},
		},
		{
			name: "statements that do not apply are not reported",
			policies: func(t *testing.T) []Policy {
				return []Policy{
					{Name: "bucket policy", Kind: Resource, Doc: mustDoc(t, doc(denyInsecure))},
					{Name: "role Reader", Kind: Identity, Doc: mustDoc(t, doc(identityOther))},
				}
			},
			req:  request,
			want: Decision{},
		},
		{
			name: "resource policy statement for another principal is not reported",
			policies: func(t *testing.T) []Policy {
				return []Policy{{Name: "bucket policy", Kind: Resource, Doc: mustDoc(t, doc(allowReader))}}
			},
			req: func() Request {
				r := request()
				r.Principal = bob
				return r
			},
			want: Decision{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.policies(t), tc.req())
			// How the principal reaches the caller is TestPrincipalReach's.
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Ref{}, "Direct", "Everyone", "ViaAccount")); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTriString(t *testing.T) {
	for tri, want := range map[Tri]string{No: "no", Maybe: "maybe", Yes: "yes"} {
		if diff := cmp.Diff(want, tri.String()); diff != "" {
			t.Errorf("Tri(%d).String() mismatch (-want +got):\n%s", int(tri), diff)
		}
	}
}

func TestTriLogic(t *testing.T) {
	all := []Tri{No, Maybe, Yes}
	for _, a := range all {
		if got := not(not(a)); got != a {
			t.Errorf("not(not(%v)) = %v", a, got)
		}
		for _, b := range all {
			// De Morgan holds in this three-valued logic.
			if got, want := not(and(a, b)), or(not(a), not(b)); got != want {
				t.Errorf("not(and(%v, %v)) = %v, want %v", a, b, got, want)
			}
		}
	}
	if not(Maybe) != Maybe || not(Yes) != No || not(No) != Yes {
		t.Errorf("not is wrong: not(no)=%v not(maybe)=%v not(yes)=%v", not(No), not(Maybe), not(Yes))
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		name       string
		v          Value
		want       Value
		wantString string
	}{
		{name: "exactly", v: Exactly("arn:aws:s3:::b/x"), want: Value{S: "arn:aws:s3:::b/x"}, wantString: "arn:aws:s3:::b/x"},
		{name: "starting with", v: StartingWith("arn:aws:s3:::b/"), want: Value{S: "arn:aws:s3:::b/", Prefix: true}, wantString: "arn:aws:s3:::b/*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.v); diff != "" {
				t.Errorf("Value mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantString, tc.v.String()); diff != "" {
				t.Errorf("String() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// "The NotPrincipal element with a Deny effect will always deny any IAM
// principal that has a permissions boundary policy attached, regardless of
// the values specified in the NotPrincipal element" (IAM JSON policy
// reference, NotPrincipal).
func TestNotPrincipalDenyAlwaysAppliesWithBoundary(t *testing.T) {
	st := mustStatement(t, `{"Effect":"Deny","NotPrincipal":{"AWS":["`+readerARN+`","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":"*"}`)
	req := request()
	if got := Statement(st, Resource, req); got != Maybe {
		t.Errorf("without a boundary: %v, want maybe", got)
	}
	req.PrincipalHasBoundary = true
	if got := Statement(st, Resource, req); got != Yes {
		t.Errorf("with a boundary: %v, want yes", got)
	}
}

// NotPrincipal is supported with Deny only; an Allow with it grants nothing.
func TestNotPrincipalAllowGrantsNothing(t *testing.T) {
	st := mustStatement(t, `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}`)
	if got := Statement(st, Resource, request()); got != No {
		t.Errorf("Allow with NotPrincipal = %v, want no", got)
	}
}

// Numeric, date, IP address and binary operators, on known values.
func TestOrderedAndAddressOperators(t *testing.T) {
	for _, tc := range []struct {
		name, op, key, value string
		values               []string
		want                 Tri
	}{
		{"numeric less than", "NumericLessThan", "s3:max-keys", "10", []string{"100"}, Yes},
		{"numeric less than, equal", "NumericLessThan", "s3:max-keys", "100", []string{"100"}, No},
		{"numeric less than equals", "NumericLessThanEquals", "s3:max-keys", "100", []string{"100"}, Yes},
		{"numeric greater than any", "NumericGreaterThan", "s3:max-keys", "50", []string{"100", "10"}, Yes},
		{"numeric not equals all", "NumericNotEquals", "s3:max-keys", "5", []string{"5", "6"}, No},
		{"numeric not equals none", "NumericNotEquals", "s3:max-keys", "7", []string{"5", "6"}, Yes},
		{"numeric unparsable", "NumericEquals", "s3:max-keys", "x", []string{"1"}, Maybe},
		{"date before", "DateLessThan", "aws:CurrentTime", "2026-11-27T12:00:00Z", []string{"2027-01-01T00:00:00Z"}, Yes},
		{"date after", "DateGreaterThan", "aws:CurrentTime", "2026-11-27T12:00:00Z", []string{"2027-01-01"}, No},
		{"date epoch", "DateLessThanEquals", "aws:EpochTime", "1700000000", []string{"1800000000"}, Yes},
		{"ip in block", "IpAddress", "aws:SourceIp", "203.0.113.9", []string{"203.0.113.0/24"}, Yes},
		{"ip outside", "IpAddress", "aws:SourceIp", "198.51.100.1", []string{"203.0.113.0/24"}, No},
		{"not ip outside", "NotIpAddress", "aws:SourceIp", "198.51.100.1", []string{"203.0.113.0/24"}, Yes},
		{"ipv6", "IpAddress", "aws:SourceIp", "2001:db8::1", []string{"2001:db8::/32"}, Yes},
		{"bare address", "IpAddress", "aws:SourceIp", "203.0.113.9", []string{"203.0.113.9"}, Yes},
		{"binary equals", "BinaryEquals", "aws:Key", "QmluYXJ5", []string{"QmluYXJ5"}, Yes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request()
			req.Context = map[string]Value{strings.ToLower(tc.key): Exactly(tc.value)}
			c := policy.Condition{Operator: tc.op, Key: tc.key, Values: policy.Values{List: tc.values}}
			if got := condition(c, req); got != tc.want {
				t.Errorf("%s %s %v on %s = %v, want %v", tc.op, tc.key, tc.values, tc.value, got, tc.want)
			}
		})
	}
}

// A resource policy statement reaches the caller through its ARN, everyone
// or its account; AWS weighs them differently within one account.
func TestPrincipalReach(t *testing.T) {
	for _, tc := range []struct {
		name, principal              string
		caller                       arns.Principal
		direct, everyone, viaAccount Tri
	}{
		{"role ARN", `{"AWS":"` + readerARN + `"}`, reader, Yes, No, No},
		{"everyone", `"*"`, reader, Yes, Yes, No},
		{"everyone in a list", `{"AWS":["*"]}`, reader, Yes, Yes, No},
		{"account root", `{"AWS":"arn:aws:iam::444455556666:root"}`, reader, No, No, Yes},
		{"account ID", `{"AWS":"444455556666"}`, bob, No, No, Yes},
		{"ARN and account", `{"AWS":["444455556666","` + readerARN + `"]}`, reader, Yes, No, Yes},
		{"other account", `{"AWS":"arn:aws:iam::777788889999:root"}`, reader, No, No, No},
		{"service principal", `{"Service":"s3.amazonaws.com"}`, reader, No, No, No},
		{"a session of the caller's role", `{"AWS":"arn:aws:sts::444455556666:assumed-role/Reader/alice"}`, reader, Maybe, No, No},
		{"a session of another role", `{"AWS":"arn:aws:sts::444455556666:assumed-role/Writer/alice"}`, reader, No, No, No},
		{"a session, for a whole-account caller", `{"AWS":"arn:aws:sts::444455556666:assumed-role/Writer/alice"}`, accountB, Maybe, No, No},
		{"a role, for a whole-account caller", `{"AWS":"` + readerARN + `"}`, accountB, Maybe, No, No},
		{"the account, for a whole-account caller", `{"AWS":"444455556666"}`, accountB, No, No, Yes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustDoc(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":`+tc.principal+`,"Action":"s3:GetObject","Resource":"*"}]}`)
			req := request()
			req.Principal = tc.caller
			d := Evaluate([]Policy{{Name: "bucket policy", Kind: Resource, Doc: doc}}, req)
			var got Ref
			if len(d.AllowedBy) == 1 {
				got = d.AllowedBy[0]
			}
			if got.Direct != tc.direct || got.Everyone != tc.everyone || got.ViaAccount != tc.viaAccount {
				t.Errorf("direct, everyone, via account = %v, %v, %v; want %v, %v, %v", got.Direct, got.Everyone, got.ViaAccount, tc.direct, tc.everyone, tc.viaAccount)
			}
		})
	}
}
