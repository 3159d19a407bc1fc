// Package livetest is a fake AWS for testing the live backend through the
// real SDK: one httptest server that answers S3 (REST-XML, path-style), KMS
// (JSON 1.1), IAM and STS (Query) from an account-state file, and IAM Access
// Analyzer's policy checks (REST-JSON), in the wire formats AWS uses.
//
// The caller's account is read from the access key ID of the request's
// SigV4 Authorization header (see Credentials) and the caller's Region from
// its credential scope. Signatures are not checked.
//
// Reads come from the state file; writes (PutBucketPolicy,
// PutBucketEncryption, PutKeyPolicy, PutRolePolicy, PutUserPolicy) go through
// statefile.File.Write, so the state stays valid, and State returns the
// result.
package livetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/kmsgrant/kmsgrant/apply/statefile"
)

// stateName is the name the state is parsed under, for error messages.
const stateName = "state.json"

// Server is an httptest.Server that answers S3 (REST-XML, path-style), KMS
// (JSON 1.1, X-Amz-Target TrentService.*), IAM (Query, Version 2010-05-08),
// STS (Query, 2011-06-15) and IAM Access Analyzer (REST-JSON, signed for
// access-analyzer) on one URL, backed by an account-state file.
type Server struct {
	// URL is the base endpoint of every service, http://127.0.0.1:PORT.
	URL string

	t   testing.TB
	srv *httptest.Server

	mu    sync.Mutex
	file  *statefile.File
	st    *stateModel
	calls []string
	// retries holds, for each served request in calls, whether it was
	// the SDK's retry of an earlier attempt (amz-sdk-request attempt > 1).
	retries []bool
	// timed holds, for each served request in calls, when it arrived and
	// when it was answered.
	timed []interval
	delay time.Duration
	// jitter, when set, holds every request a random time before and
	// after it is served (see SetJitter).
	jitter time.Duration
	rand   *rand.Rand
	fails  map[string][]*failure
	reqID  int
	// grantSeq numbers the grants CreateGrant makes.
	grantSeq int
	// analyzer is what the fake IAM Access Analyzer reports.
	analyzer analyzerState
}

type failure struct {
	times   int
	status  int
	code    string
	message string
}

// New starts a server backed by state, which must parse with
// statefile.Parse. The server is closed when the test ends.
func New(t testing.TB, state []byte) *Server {
	t.Helper()
	f, err := statefile.Parse(stateName, state)
	if err != nil {
		t.Fatalf("livetest: %v", err)
	}
	st, err := parseModel(f.Bytes())
	if err != nil {
		t.Fatalf("livetest: %v", err)
	}
	s := &Server{t: t, file: f, st: st, fails: map[string][]*failure{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Close shuts the server down; New already arranges for it at the end of
// the test.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the server, for aws.Config.HTTPClient.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// State returns the current state file bytes, with every write so far.
func (s *Server) State() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.file.Bytes()...)
}

// Calls returns the operations served so far, in order, as
// "service:Operation" ("s3:GetBucketPolicy", "kms:DescribeKey",
// "iam:GetRole", "sts:GetCallerIdentity"). Requests answered with an injected
// failure count; a request the server does not recognize is recorded as
// "SERVICE:Unknown(...)".
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// CallCount is how many times operation op ("s3:PutBucketPolicy") was
// served, injected failures included.
func (s *Server) CallCount(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == op {
			n++
		}
	}
	return n
}

// RequestCount is how many requests for operation op the caller made:
// CallCount without the SDK's own retries. Those happen with AWS too, and
// here when a loaded machine loses an answer on the way (the SDK retries a
// response body it could not read), so a test that counts what kmsgrant
// asked for counts requests, and a test of the retrying counts calls.
func (s *Server) RequestCount(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i, c := range s.calls {
		if c == op && !s.retries[i] {
			n++
		}
	}
	return n
}

// isSDKRetry tells whether r is the SDK's retry of an earlier attempt:
// its amz-sdk-request header ("attempt=2; max=3") counts attempts.
func isSDKRetry(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Amz-Sdk-Request"), ";") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			return n != "1"
		}
	}
	return false
}

// SetDelay makes the server sleep d before answering every request (or until
// the request is canceled).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetJitter makes the server hold every request a random time of up to d
// before serving it and again before answering it, drawn from seed, as a
// network does: concurrent callers' reads and writes of one document then
// interleave, and a caller's read can be answered after another caller's
// write landed. d = 0 turns it off.
func (s *Server) SetJitter(d time.Duration, seed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jitter = d
	s.rand = rand.New(rand.NewPCG(seed, seed))
}

// Fail makes the next times calls of op ("kms:DescribeKey") answer an AWS
// error with this HTTP status, code and message, in the service's error
// format. Failures queued for one op are used in the order queued.
func (s *Server) Fail(op string, times int, status int, code, message string) {
	s.t.Helper()
	if !knownOps[op] {
		s.t.Errorf("livetest: Fail(%q): the server does not answer that operation", op)
		return
	}
	if times <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[op] = append(s.fails[op], &failure{times: times, status: status, code: code, message: message})
}

// Config returns an aws.Config for calling the server as account in region:
// the server's URL as BaseEndpoint, Credentials(account), and a standard
// retryer that backs off for at most a millisecond. S3 clients still need
// UsePathStyle = true.
func (s *Server) Config(account, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  Credentials(account),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   s.Client(),
		Retryer:      func() aws.Retryer { return FastRetryer() },
	}
}

// FastRetryer is the SDK's standard retryer (three attempts, the same
// retryable and throttling errors) with a backoff of at most a millisecond.
func FastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxBackoff = time.Millisecond
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

// accessKeyPrefix starts every access key ID Credentials makes; the account
// ID follows.
const accessKeyPrefix = "AKIAFAKE"

var accessKeyRE = regexp.MustCompile(`^` + accessKeyPrefix + `([0-9]{12})$`)

// Credentials returns static credentials whose access key ID encodes the
// account, AKIAFAKE<account>. The server tells the caller's account from the
// Credential= of the request's Authorization header.
func Credentials(account string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{
			AccessKeyID:     accessKeyPrefix + account,
			SecretAccessKey: "livetest-secret-" + account,
			Source:          "livetest",
		}, nil
	})
}

// CallerARN is the identity a caller of account has: the IAM user "test".
func CallerARN(account string) string {
	return "arn:aws:iam::" + account + ":user/test"
}

// caller is who sent a request, from its SigV4 credential scope.
type caller struct {
	// accessKey is the access key ID; "" when the request is not signed.
	accessKey string
	// account is "" when the access key is not one Credentials makes.
	account string
	region  string
	// service is the signing name of the credential scope ("s3",
	// "access-analyzer").
	service string
}

// parseCaller reads the Credential of a SigV4 Authorization header (or of a
// presigned URL): AKID/DATE/REGION/SERVICE/aws4_request.
func parseCaller(r *http.Request) caller {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		_, rest, _ := strings.Cut(h, " ")
		for _, part := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				cred = v
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	if cred == "" {
		return caller{}
	}
	parts := strings.Split(cred, "/")
	c := caller{accessKey: parts[0], region: "us-east-1"}
	if len(parts) >= 3 && parts[2] != "" {
		c.region = parts[2]
	}
	if len(parts) >= 4 {
		c.service = parts[3]
	}
	if m := accessKeyRE.FindStringSubmatch(parts[0]); m != nil {
		c.account = m[1]
	}
	return c
}

// request is one request being answered.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	caller caller
	id     string
	// op is the operation name without the service ("GetBucketPolicy").
	op string
	// body is the request body, read once.
	body []byte
}

// The services the server answers, as they appear in Calls.
const (
	svcS3  = "s3"
	svcKMS = "kms"
	svcIAM = "iam"
	svcSTS = "sts"
	// svcAnalyzer is IAM Access Analyzer, by its signing name.
	svcAnalyzer = "access-analyzer"
)

// knownOps lists every operation the server answers, for Fail.
var knownOps = map[string]bool{}

func init() {
	for _, op := range s3Ops {
		knownOps[svcS3+":"+op] = true
	}
	for op := range kmsOps {
		knownOps[svcKMS+":"+op] = true
	}
	for op := range iamOps {
		knownOps[svcIAM+":"+op] = true
	}
	for op := range stsOps {
		knownOps[svcSTS+":"+op] = true
	}
	for op := range analyzerOps {
		knownOps[svcAnalyzer+":"+op] = true
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	req := &request{w: w, r: r, caller: parseCaller(r)}
	body, err := readBody(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.body = body

	svc, op := classify(r, body)
	req.op = op

	s.mu.Lock()
	s.reqID++
	req.id = fmt.Sprintf("LIVETEST%08X", s.reqID)
	s.calls = append(s.calls, svc+":"+op)
	s.retries = append(s.retries, isSDKRetry(r))
	at := len(s.timed)
	s.timed = append(s.timed, interval{start: arrived})
	defer func() {
		s.mu.Lock()
		s.timed[at].end = time.Now()
		s.mu.Unlock()
	}()
	delay := s.delay
	var before, after time.Duration
	if s.jitter > 0 {
		before, after = time.Duration(s.rand.Int64N(int64(s.jitter))), time.Duration(s.rand.Int64N(int64(s.jitter)))
	}
	var fail *failure
	if q := s.fails[svc+":"+op]; len(q) > 0 {
		f := *q[0]
		fail = &f
		if q[0].times--; q[0].times == 0 {
			s.fails[svc+":"+op] = q[1:]
		}
	}
	s.mu.Unlock()

	if !wait(r, delay+before) {
		return
	}
	if fail != nil {
		writeError(svc, req, &apiError{status: fail.status, code: fail.code, message: fail.message})
		return
	}
	// The answer is written to a buffer, so that it can be held after
	// the state was read or written without holding up other requests.
	rec := httptest.NewRecorder()
	req.w = rec
	s.serve(svc, req)
	if !wait(r, after) {
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// serve reads or writes the state for one request, one request at a time.
func (s *Server) serve(svc string, req *request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.authenticate(svc, req)
	if e == nil {
		e = s.dispatch(svc, req)
	}
	if e != nil {
		writeError(svc, req, e)
	}
}

// wait sleeps d, or until the request is canceled; false means canceled.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// apiError is an AWS error answer.
type apiError struct {
	status  int
	code    string
	message string
	// extra are more elements of an S3 error (BucketName, Key).
	extra [][2]string
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func writeError(svc string, req *request, e *apiError) {
	switch svc {
	case svcS3:
		writeS3Error(req, e)
	case svcKMS:
		writeKMSError(req, e)
	case svcAnalyzer:
		writeAnalyzerError(req, e)
	default:
		writeQueryError(svc, req, e)
	}
}

// authenticate refuses requests that are not signed with credentials from
// Credentials, as each service does.
func (s *Server) authenticate(svc string, req *request) *apiError {
	c := req.caller
	switch {
	case c.accessKey == "" && svc == svcS3:
		return errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	case c.accessKey == "" && svc == svcKMS:
		return errorf(http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case c.accessKey == "" && svc == svcAnalyzer:
		return errorf(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case c.accessKey == "":
		return errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case c.account == "" && svc == svcS3:
		return errorf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	case c.account == "" && svc == svcKMS:
		return errorf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case c.account == "" && svc == svcAnalyzer:
		return errorf(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case c.account == "":
		return errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	return nil
}

func (s *Server) dispatch(svc string, req *request) *apiError {
	switch svc {
	case svcS3:
		return s.serveS3(req)
	case svcKMS:
		h, ok := kmsOps[req.op]
		if !ok {
			return errorf(http.StatusBadRequest, "UnknownOperationException", "")
		}
		return h(s, req)
	case svcIAM:
		h, ok := iamOps[req.op]
		if !ok {
			return errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", req.r.PostForm.Get("Action"), req.r.PostForm.Get("Version"))
		}
		return h(s, req)
	case svcAnalyzer:
		h, ok := analyzerOps[req.op]
		if !ok {
			return errorf(http.StatusNotFound, "UnknownOperationException", "")
		}
		return h(s, req)
	default:
		h, ok := stsOps[req.op]
		if !ok {
			return errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", req.r.PostForm.Get("Action"), req.r.PostForm.Get("Version"))
		}
		return h(s, req)
	}
}

// classify tells the service and operation of a request by its shape: a
// request signed for access-analyzer is IAM Access Analyzer (its REST-JSON
// paths could be S3 bucket names), a TrentService target is KMS, a form POST
// is IAM or STS by its Version, anything else is S3.
func classify(r *http.Request, body []byte) (svc, op string) {
	if parseCaller(r).service == svcAnalyzer {
		return svcAnalyzer, analyzerOp(r)
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if op, ok := strings.CutPrefix(target, "TrentService."); ok {
			return svcKMS, op
		}
		return svcKMS, "Unknown(" + target + ")"
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := parseForm(body)
		if err == nil {
			r.PostForm = form
			action, version := form.Get("Action"), form.Get("Version")
			svc := svcIAM
			if version == stsVersion {
				svc = svcSTS
			}
			if version != stsVersion && version != iamVersion {
				return svc, "Unknown(" + action + " " + version + ")"
			}
			return svc, action
		}
	}
	return svcS3, s3Op(r)
}

// interval is when a request arrived and when it was answered.
type interval struct{ start, end time.Time }

// RoundTrips is the longest chain of requests each of which arrived after
// the one before it was answered: the round trips a client waited one
// after another, whether it needed the answer before it could ask again
// or a bound on its requests at once held the next back. Requests not
// answered yet do not count.
func (s *Server) RoundTrips() int {
	s.mu.Lock()
	timed := slices.Clone(s.timed)
	s.mu.Unlock()
	timed = slices.DeleteFunc(timed, func(i interval) bool { return i.end.IsZero() })
	byStart := slices.Clone(timed)
	slices.SortFunc(byStart, func(a, b interval) int { return a.start.Compare(b.start) })
	byEnd := make([]int, len(byStart))
	for i := range byEnd {
		byEnd[i] = i
	}
	slices.SortFunc(byEnd, func(a, b int) int { return byStart[a].end.Compare(byStart[b].end) })
	depth := make([]int, len(byStart))
	longest, before, next := 0, 0, 0
	for i, r := range byStart {
		// Every request answered before r arrived also arrived
		// before it, so its depth is known.
		for next < len(byEnd) && !byStart[byEnd[next]].end.After(r.start) {
			before = max(before, depth[byEnd[next]])
			next++
		}
		depth[i] = before + 1
		longest = max(longest, depth[i])
	}
	return longest
}
