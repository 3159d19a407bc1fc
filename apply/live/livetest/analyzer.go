package livetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// The fake IAM Access Analyzer answers ValidatePolicy and CheckNoPublicAccess
// in REST-JSON, as the SDK sends them (POST /policy/validation and POST
// /policy/check-no-public-access, JSON bodies, errors named by the
// X-Amzn-Errortype header). It refuses what AWS refuses (a missing
// document, an unknown policyType or resource type, a
// validatePolicyResourceType with another policyType than RESOURCE_POLICY).
// It reports the findings tests add with AddFinding, a few per page so that
// callers must follow nextToken, and judges public access roughly: an
// Allow to Principal "*" (or AWS "*") with no Condition is public, as is
// what SetPublic names. AccessDenied and other errors are injected with
// Fail("access-analyzer:ValidatePolicy", ...).

// analyzerOps are the Access Analyzer operations the server answers.
var analyzerOps = map[string]func(*Server, *request) *apiError{
	"ValidatePolicy":      (*Server).validatePolicy,
	"CheckNoPublicAccess": (*Server).checkNoPublicAccess,
}

// analyzerPageSize is how many findings one ValidatePolicy page holds.
const analyzerPageSize = 2

// analyzerOp tells the operation of a request to Access Analyzer by its
// method and path.
func analyzerOp(r *http.Request) string {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/policy/validation":
		return "ValidatePolicy"
	case r.Method == http.MethodPost && r.URL.Path == "/policy/check-no-public-access":
		return "CheckNoPublicAccess"
	}
	return "Unknown(" + r.Method + " " + r.URL.Path + ")"
}

// PolicyFinding is a finding the fake ValidatePolicy reports (AddFinding).
type PolicyFinding struct {
	// PolicyType reports it only for documents sent as this policyType
	// (IDENTITY_POLICY, RESOURCE_POLICY); "" for any.
	PolicyType string
	// SidPrefix reports it only for documents with a statement whose Sid
	// starts with it, located in the first such statement; "" reports it
	// for every document, on the document as a whole.
	SidPrefix string
	// FindingType is ERROR, SECURITY_WARNING, WARNING or SUGGESTION.
	FindingType string
	IssueCode   string
	Details     string
}

// PublicResult makes the fake CheckNoPublicAccess fail (SetPublic).
type PublicResult struct {
	// ResourceType is the resourceType it fails for (AWS::S3::Bucket,
	// AWS::KMS::Key).
	ResourceType string
	// SidPrefix fails documents with a statement whose Sid starts with
	// it, naming that statement.
	SidPrefix string
}

// AnalyzerCall is one policy check the fake Access Analyzer answered.
type AnalyzerCall struct {
	// Account and Region are the caller's, from its signature.
	Account, Region string
	// Op is ValidatePolicy or CheckNoPublicAccess.
	Op string
	// PolicyType and ValidatePolicyResourceType (ValidatePolicy), or
	// ResourceType (CheckNoPublicAccess), as sent.
	PolicyType, ResourceType string
	Document                 string
}

type analyzerState struct {
	findings []PolicyFinding
	public   []PublicResult
	calls    []AnalyzerCall
}

// AddFinding makes ValidatePolicy report f, for every document it matches,
// from now on.
func (s *Server) AddFinding(f PolicyFinding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analyzer.findings = append(s.analyzer.findings, f)
}

// SetPublic makes CheckNoPublicAccess answer FAIL, from now on, for the
// documents p matches.
func (s *Server) SetPublic(p PublicResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analyzer.public = append(s.analyzer.public, p)
}

// AnalyzerCalls returns the policy checks answered so far, in order
// (injected failures not included).
func (s *Server) AnalyzerCalls() []AnalyzerCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AnalyzerCall(nil), s.analyzer.calls...)
}

var (
	policyTypes = []string{"IDENTITY_POLICY", "RESOURCE_POLICY", "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"}
	// validateResourceTypes are ValidatePolicy's validatePolicyResourceType
	// values: there is none for KMS keys.
	validateResourceTypes = []string{"AWS::S3::Bucket", "AWS::S3::AccessPoint", "AWS::S3::MultiRegionAccessPoint",
		"AWS::S3ObjectLambda::AccessPoint", "AWS::IAM::AssumeRolePolicyDocument", "AWS::DynamoDB::Table"}
	// publicResourceTypes are some of CheckNoPublicAccess's resourceType
	// values.
	publicResourceTypes = []string{"AWS::DynamoDB::Table", "AWS::DynamoDB::Stream", "AWS::EFS::FileSystem",
		"AWS::OpenSearchService::Domain", "AWS::Kinesis::Stream", "AWS::Kinesis::StreamConsumer", "AWS::KMS::Key",
		"AWS::Lambda::Function", "AWS::S3::Bucket", "AWS::S3::AccessPoint", "AWS::S3Express::DirectoryBucket",
		"AWS::S3::Glacier", "AWS::S3Outposts::Bucket", "AWS::S3Outposts::AccessPoint", "AWS::SecretsManager::Secret",
		"AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::IAM::AssumeRolePolicyDocument"}
)

func validationError(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func decodeAnalyzer(req *request, v any) *apiError {
	if err := json.Unmarshal(req.body, v); err != nil {
		return validationError("%v", err)
	}
	return nil
}

func (s *Server) validatePolicy(req *request) *apiError {
	var in struct {
		PolicyDocument             *string `json:"policyDocument"`
		PolicyType                 string  `json:"policyType"`
		ValidatePolicyResourceType string  `json:"validatePolicyResourceType"`
		Locale                     string  `json:"locale"`
	}
	if e := decodeAnalyzer(req, &in); e != nil {
		return e
	}
	switch {
	case in.PolicyDocument == nil:
		return validationError("policyDocument must not be null")
	case !slices.Contains(policyTypes, in.PolicyType):
		return validationError("Invalid policyType: %q", in.PolicyType)
	case in.ValidatePolicyResourceType != "" && !slices.Contains(validateResourceTypes, in.ValidatePolicyResourceType):
		return validationError("Invalid validatePolicyResourceType: %q", in.ValidatePolicyResourceType)
	case in.ValidatePolicyResourceType != "" && in.PolicyType != "RESOURCE_POLICY":
		return validationError("validatePolicyResourceType is only supported for policyType RESOURCE_POLICY")
	}
	s.analyzer.calls = append(s.analyzer.calls, AnalyzerCall{Account: req.caller.account, Region: req.caller.region,
		Op: req.op, PolicyType: in.PolicyType, ResourceType: in.ValidatePolicyResourceType, Document: *in.PolicyDocument})
	doc, _ := policy.Parse([]byte(*in.PolicyDocument))
	findings := []map[string]any{}
	for _, f := range s.analyzer.findings {
		if f.PolicyType != "" && f.PolicyType != in.PolicyType {
			continue
		}
		path := []map[string]any{}
		if f.SidPrefix != "" {
			i := statementWithSid(doc, f.SidPrefix)
			if i < 0 {
				continue
			}
			path = []map[string]any{{"value": "Statement"}, {"index": i}}
		}
		findings = append(findings, map[string]any{
			"findingType": f.FindingType, "issueCode": f.IssueCode, "findingDetails": f.Details,
			"learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
			"locations":     []map[string]any{{"path": path, "span": span(*in.PolicyDocument)}},
		})
	}
	start := 0
	if token := req.r.URL.Query().Get("nextToken"); token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(findings) {
			return validationError("Invalid nextToken")
		}
		start = n
	}
	size := analyzerPageSize
	if m := req.r.URL.Query().Get("maxResults"); m != "" {
		if n, err := strconv.Atoi(m); err == nil && n > 0 {
			size = n
		}
	}
	end := min(start+size, len(findings))
	out := map[string]any{"findings": findings[start:end]}
	if end < len(findings) {
		out["nextToken"] = strconv.Itoa(end)
	}
	writeAnalyzer(req, out)
	return nil
}

func (s *Server) checkNoPublicAccess(req *request) *apiError {
	var in struct {
		PolicyDocument *string `json:"policyDocument"`
		ResourceType   string  `json:"resourceType"`
	}
	if e := decodeAnalyzer(req, &in); e != nil {
		return e
	}
	switch {
	case in.PolicyDocument == nil:
		return validationError("policyDocument must not be null")
	case !slices.Contains(publicResourceTypes, in.ResourceType):
		return validationError("Invalid resourceType: %q", in.ResourceType)
	}
	s.analyzer.calls = append(s.analyzer.calls, AnalyzerCall{Account: req.caller.account, Region: req.caller.region,
		Op: req.op, ResourceType: in.ResourceType, Document: *in.PolicyDocument})
	doc, err := policy.Parse([]byte(*in.PolicyDocument))
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidParameterException", "Invalid policy document: %v", err)
	}
	reasons := []map[string]any{}
	for i, st := range doc.Statements {
		public := st.Effect == policy.Allow && len(st.Condition) == 0 &&
			st.Principal != nil && (st.Principal.Wildcard || slices.Contains(st.Principal.AWS(), "*"))
		for _, p := range s.analyzer.public {
			if p.ResourceType == in.ResourceType && p.SidPrefix != "" && strings.HasPrefix(st.Sid, p.SidPrefix) {
				public = true
			}
		}
		if public {
			reason := map[string]any{"description": "The statement allows public access.", "statementIndex": i}
			if st.Sid != "" {
				reason["statementId"] = st.Sid
			}
			reasons = append(reasons, reason)
		}
	}
	if len(reasons) == 0 {
		writeAnalyzer(req, map[string]any{"result": "PASS", "message": "The resource policy does not grant public access for the given resource type.", "reasons": reasons})
		return nil
	}
	writeAnalyzer(req, map[string]any{"result": "FAIL", "message": "The resource policy grants public access for the given resource type.", "reasons": reasons})
	return nil
}

// statementWithSid returns the index of doc's first statement whose Sid
// starts with prefix, -1 when there is none.
func statementWithSid(doc *policy.Document, prefix string) int {
	if doc == nil {
		return -1
	}
	for i, st := range doc.Statements {
		if strings.HasPrefix(st.Sid, prefix) {
			return i
		}
	}
	return -1
}

// span covers the whole document: the fake does not locate findings
// within a statement, only the statement (by the path).
func span(doc string) map[string]any {
	lines := strings.Split(doc, "\n")
	last := lines[len(lines)-1]
	return map[string]any{
		"start": map[string]any{"line": 1, "column": 0, "offset": 0},
		"end":   map[string]any{"line": len(lines), "column": len(last), "offset": len(doc)},
	}
}

func analyzerHeaders(req *request) {
	req.w.Header().Set("Content-Type", "application/json")
	req.w.Header().Set("X-Amzn-Requestid", req.id)
}

func writeAnalyzer(req *request, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("livetest: encoding an Access Analyzer answer: %v", err))
	}
	analyzerHeaders(req)
	req.w.WriteHeader(http.StatusOK)
	req.w.Write(data)
}

func writeAnalyzerError(req *request, e *apiError) {
	data, _ := json.Marshal(map[string]string{"message": e.message})
	analyzerHeaders(req)
	req.w.Header().Set("X-Amzn-Errortype", e.code)
	req.w.WriteHeader(e.status)
	req.w.Write(data)
}
