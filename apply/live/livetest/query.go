package livetest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/kmsgrant/kmsgrant/generate"
	"github.com/kmsgrant/kmsgrant/generate/arns"
	"github.com/kmsgrant/kmsgrant/generate/policy"
)

// The Query API versions the server answers.
const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
)

var queryNS = map[string]string{
	svcIAM: "https://iam.amazonaws.com/doc/2010-05-08/",
	svcSTS: "https://sts.amazonaws.com/doc/2011-06-15/",
}

// iamOps are the IAM operations the server answers, by Action.
var iamOps = map[string]func(*Server, *request) *apiError{
	"GetRole":                   (*Server).getRole,
	"GetUser":                   (*Server).getUser,
	"ListRolePolicies":          (*Server).listRolePolicies,
	"GetRolePolicy":             (*Server).getRolePolicy,
	"ListAttachedRolePolicies":  (*Server).listAttachedRolePolicies,
	"ListUserPolicies":          (*Server).listUserPolicies,
	"GetUserPolicy":             (*Server).getUserPolicy,
	"ListAttachedUserPolicies":  (*Server).listAttachedUserPolicies,
	"ListGroupsForUser":         (*Server).listGroupsForUser,
	"ListGroupPolicies":         (*Server).listGroupPolicies,
	"GetGroupPolicy":            (*Server).getGroupPolicy,
	"ListAttachedGroupPolicies": (*Server).listAttachedGroupPolicies,
	"GetPolicy":                 (*Server).getPolicy,
	"GetPolicyVersion":          (*Server).getPolicyVersion,
	"PutRolePolicy":             (*Server).putRolePolicy,
	"PutUserPolicy":             (*Server).putUserPolicy,
	"DeleteRolePolicy":          (*Server).deleteRolePolicy,
	"DeleteUserPolicy":          (*Server).deleteUserPolicy,
	"ListRoles":                 (*Server).listRoles,
	"ListUsers":                 (*Server).listUsers,
}

// stsOps are the STS operations the server answers, by Action.
var stsOps = map[string]func(*Server, *request) *apiError{
	"GetCallerIdentity": (*Server).getCallerIdentity,
}

func (s *Server) getCallerIdentity(req *request) *apiError {
	a := req.caller.account
	writeQuery(req, svcSTS, struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	}{CallerARN(a), uniqueID("AIDA", "user test "+a), a})
	return nil
}

// IAM shapes, as the Query protocol writes them.
type (
	iamBoundary struct {
		PermissionsBoundaryType string
		PermissionsBoundaryArn  string
	}
	iamRole struct {
		Path                     string
		RoleName                 string
		RoleID                   string `xml:"RoleId"`
		Arn                      string
		CreateDate               string
		AssumeRolePolicyDocument string
		MaxSessionDuration       int
		PermissionsBoundary      *iamBoundary
	}
	iamUser struct {
		Path                string
		UserName            string
		UserID              string `xml:"UserId"`
		Arn                 string
		CreateDate          string
		PermissionsBoundary *iamBoundary
	}
	iamGroup struct {
		Path       string
		GroupName  string
		GroupID    string `xml:"GroupId"`
		Arn        string
		CreateDate string
	}
	iamAttached struct {
		PolicyName string
		PolicyArn  string
	}
	// Lists are wrapped: <PolicyNames><member>…</member></PolicyNames>.
	nameList struct {
		Member []string `xml:"member"`
	}
	attachedList struct {
		Member []iamAttached `xml:"member"`
	}
	groupList struct {
		Member []iamGroup `xml:"member"`
	}
	roleList struct {
		Member []iamRole `xml:"member"`
	}
	userList struct {
		Member []iamUser `xml:"member"`
	}
	iamPolicy struct {
		PolicyName                    string
		PolicyID                      string `xml:"PolicyId"`
		Arn                           string
		Path                          string
		DefaultVersionID              string `xml:"DefaultVersionId"`
		AttachmentCount               int
		PermissionsBoundaryUsageCount int
		IsAttachable                  bool
		CreateDate                    string
		UpdateDate                    string
	}
)

func iamDate() string { return created.Format("2006-01-02T15:04:05Z") }

var (
	iamNameRE       = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamPolicyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// iamEntity is a role, user or group found by name.
type iamEntity struct {
	kind string // "role", "user", "group"
	name string // as the state spells it
	path string
	id   *identityModel
	grp  *groupModel
}

func (e *iamEntity) arn(account string) string {
	return fmt.Sprintf("arn:aws:iam::%s:%s%s%s", account, e.kind, e.path, e.name)
}

func (e *iamEntity) inline() map[string]json.RawMessage {
	if e.grp != nil {
		return e.grp.InlinePolicies
	}
	return e.id.InlinePolicies
}

func (e *iamEntity) attached() []string {
	if e.grp != nil {
		return e.grp.AttachedPolicies
	}
	return e.id.AttachedPolicies
}

// findEntity finds a role, user or group of the caller's account by the
// request parameter param. IAM names are unique without regard to case, and
// found that way.
func (s *Server) findEntity(req *request, kind, param string) (*iamEntity, *apiError) {
	name := req.r.PostForm.Get(param)
	if name == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(param))
	}
	acct := s.st.account(req.caller.account)
	var e *iamEntity
	switch kind {
	case "role", "user":
		m := acct.IAMRoles
		if kind == "user" {
			m = acct.IAMUsers
		}
		for _, n := range sortedKeys(m) {
			if strings.EqualFold(n, name) && m[n] != nil {
				e = &iamEntity{kind: kind, name: n, path: orRoot(m[n].Path), id: m[n]}
				break
			}
		}
	case "group":
		for _, n := range sortedKeys(acct.IAMGroups) {
			if strings.EqualFold(n, name) && acct.IAMGroups[n] != nil {
				e = &iamEntity{kind: kind, name: n, path: "/", grp: acct.IAMGroups[n]}
				break
			}
		}
	}
	if e == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchEntity", "The %s with name %s cannot be found.", kind, name)
	}
	return e, nil
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func boundary(id *identityModel) *iamBoundary {
	if id.PermissionsBoundary == "" {
		return nil
	}
	return &iamBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: id.PermissionsBoundary}
}

func (s *Server) getRole(req *request) *apiError {
	e, ae := s.findEntity(req, "role", "RoleName")
	if ae != nil {
		return ae
	}
	a := req.caller.account
	// The state file has no trust policies: every role trusts its account.
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, a)
	writeQuery(req, svcIAM, struct{ Role iamRole }{iamRole{
		Path: e.path, RoleName: e.name, RoleID: uniqueID("AROA", e.arn(a)), Arn: e.arn(a), CreateDate: iamDate(),
		AssumeRolePolicyDocument: rfc3986Escape(trust), MaxSessionDuration: 3600, PermissionsBoundary: boundary(e.id),
	}})
	return nil
}

func (s *Server) getUser(req *request) *apiError {
	a := req.caller.account
	var e *iamEntity
	if req.r.PostForm.Get("UserName") == "" {
		// No name: the caller, the user "test", whether or not the state
		// lists it.
		e = &iamEntity{kind: "user", name: "test", path: "/", id: &identityModel{}}
		if u := s.st.account(a).IAMUsers["test"]; u != nil {
			e.path, e.id = orRoot(u.Path), u
		}
	} else {
		var ae *apiError
		if e, ae = s.findEntity(req, "user", "UserName"); ae != nil {
			return ae
		}
	}
	writeQuery(req, svcIAM, struct{ User iamUser }{iamUser{
		Path: e.path, UserName: e.name, UserID: uniqueID("AIDA", e.arn(a)), Arn: e.arn(a), CreateDate: iamDate(),
		PermissionsBoundary: boundary(e.id),
	}})
	return nil
}

// pageParams reads Marker and MaxItems.
func pageParams(req *request) (marker string, size int, ae *apiError) {
	marker = req.r.PostForm.Get("Marker")
	if v := req.r.PostForm.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return "", 0, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		size = n
	}
	return marker, size, nil
}

// listPage is the part of every IAM list answer after its items.
type listPage struct {
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func pageOf[T any](req *request, items []T) ([]T, listPage, *apiError) {
	marker, size, ae := pageParams(req)
	if ae != nil {
		return nil, listPage{}, ae
	}
	got, next, err := page(items, marker, size, 100, 1000)
	if err != nil {
		return nil, listPage{}, errorf(http.StatusBadRequest, "InvalidInput", "Invalid Marker.")
	}
	return got, listPage{IsTruncated: next != "", Marker: next}, nil
}

func (s *Server) listInline(req *request, kind, param string) *apiError {
	e, ae := s.findEntity(req, kind, param)
	if ae != nil {
		return ae
	}
	names, p, ae := pageOf(req, sortedKeys(e.inline()))
	if ae != nil {
		return ae
	}
	writeQuery(req, svcIAM, struct {
		PolicyNames nameList
		listPage
	}{nameList{names}, p})
	return nil
}

func (s *Server) getInline(req *request, kind, param string) *apiError {
	e, ae := s.findEntity(req, kind, param)
	if ae != nil {
		return ae
	}
	name := req.r.PostForm.Get("PolicyName")
	doc, ok := e.inline()[name]
	if !ok || !hasDoc(doc) {
		return errorf(http.StatusNotFound, "NoSuchEntity", "The %s policy with name %s cannot be found.", kind, name)
	}
	type result struct {
		RoleName       string `xml:",omitempty"`
		UserName       string `xml:",omitempty"`
		GroupName      string `xml:",omitempty"`
		PolicyName     string
		PolicyDocument string
	}
	out := result{PolicyName: name, PolicyDocument: rfc3986Escape(docText(doc))}
	switch kind {
	case "role":
		out.RoleName = e.name
	case "user":
		out.UserName = e.name
	default:
		out.GroupName = e.name
	}
	writeQuery(req, svcIAM, out)
	return nil
}

func (s *Server) listAttached(req *request, kind, param string) *apiError {
	e, ae := s.findEntity(req, kind, param)
	if ae != nil {
		return ae
	}
	prefix := req.r.PostForm.Get("PathPrefix")
	var list []iamAttached
	for _, a := range e.attached() {
		path, name := policyPathName(a)
		if prefix != "" && !strings.HasPrefix(path, prefix) {
			continue
		}
		list = append(list, iamAttached{PolicyName: name, PolicyArn: a})
	}
	items, p, ae := pageOf(req, list)
	if ae != nil {
		return ae
	}
	writeQuery(req, svcIAM, struct {
		AttachedPolicies attachedList
		listPage
	}{attachedList{items}, p})
	return nil
}

// policyPathName splits a managed policy ARN's resource, policy/PATH/NAME.
func policyPathName(policyARN string) (path, name string) {
	res := policyARN
	if a, err := arn.Parse(policyARN); err == nil {
		res = a.Resource
	}
	res = strings.TrimPrefix(res, "policy")
	i := strings.LastIndex(res, "/")
	return res[:i+1], res[i+1:]
}

func (s *Server) listRolePolicies(req *request) *apiError {
	return s.listInline(req, "role", "RoleName")
}
func (s *Server) listUserPolicies(req *request) *apiError {
	return s.listInline(req, "user", "UserName")
}
func (s *Server) listGroupPolicies(req *request) *apiError {
	return s.listInline(req, "group", "GroupName")
}
func (s *Server) getRolePolicy(req *request) *apiError { return s.getInline(req, "role", "RoleName") }
func (s *Server) getUserPolicy(req *request) *apiError { return s.getInline(req, "user", "UserName") }
func (s *Server) getGroupPolicy(req *request) *apiError {
	return s.getInline(req, "group", "GroupName")
}
func (s *Server) listAttachedRolePolicies(req *request) *apiError {
	return s.listAttached(req, "role", "RoleName")
}
func (s *Server) listAttachedUserPolicies(req *request) *apiError {
	return s.listAttached(req, "user", "UserName")
}
func (s *Server) listAttachedGroupPolicies(req *request) *apiError {
	return s.listAttached(req, "group", "GroupName")
}

func (s *Server) listGroupsForUser(req *request) *apiError {
	e, ae := s.findEntity(req, "user", "UserName")
	if ae != nil {
		return ae
	}
	a := req.caller.account
	var list []iamGroup
	for _, g := range e.id.Groups {
		ge := &iamEntity{kind: "group", name: g, path: "/"}
		list = append(list, iamGroup{Path: "/", GroupName: g, GroupID: uniqueID("AGPA", ge.arn(a)), Arn: ge.arn(a), CreateDate: iamDate()})
	}
	items, p, ae := pageOf(req, list)
	if ae != nil {
		return ae
	}
	writeQuery(req, svcIAM, struct {
		Groups groupList
		listPage
	}{groupList{items}, p})
	return nil
}

// findPolicy finds a managed policy by the PolicyArn parameter: AWS managed
// policies for everyone, customer managed ones for their own account.
func (s *Server) findPolicy(req *request) (string, json.RawMessage, *apiError) {
	p := req.r.PostForm.Get("PolicyArn")
	a, err := arn.Parse(p)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
		return "", nil, errorf(http.StatusBadRequest, "InvalidInput", "ARN %s is not valid.", p)
	}
	if a.AccountID != "aws" && a.AccountID != req.caller.account {
		return "", nil, errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: iam:%s on resource: policy %s because no identity-based policy allows the iam:%s action",
			CallerARN(req.caller.account), req.op, p, req.op)
	}
	doc, ok := s.st.ManagedPolicies[p]
	if !ok || !hasDoc(doc) {
		return "", nil, errorf(http.StatusNotFound, "NoSuchEntity", "Policy %s does not exist or is not attachable.", p)
	}
	return p, doc, nil
}

func (s *Server) getPolicy(req *request) *apiError {
	p, _, ae := s.findPolicy(req)
	if ae != nil {
		return ae
	}
	path, name := policyPathName(p)
	// Attachments count in the caller's account, as IAM counts them.
	acct := s.st.account(req.caller.account)
	attachments, boundaries := 0, 0
	for _, m := range []map[string]*identityModel{acct.IAMRoles, acct.IAMUsers} {
		for _, id := range m {
			if id == nil {
				continue
			}
			if slices.Contains(id.AttachedPolicies, p) {
				attachments++
			}
			if id.PermissionsBoundary == p {
				boundaries++
			}
		}
	}
	for _, g := range acct.IAMGroups {
		if g != nil && slices.Contains(g.AttachedPolicies, p) {
			attachments++
		}
	}
	writeQuery(req, svcIAM, struct{ Policy iamPolicy }{iamPolicy{
		PolicyName: name, PolicyID: uniqueID("ANPA", p), Arn: p, Path: path, DefaultVersionID: "v1",
		AttachmentCount: attachments, PermissionsBoundaryUsageCount: boundaries, IsAttachable: true,
		CreateDate: iamDate(), UpdateDate: iamDate(),
	}})
	return nil
}

func (s *Server) getPolicyVersion(req *request) *apiError {
	p, doc, ae := s.findPolicy(req)
	if ae != nil {
		return ae
	}
	v := req.r.PostForm.Get("VersionId")
	if v != "v1" {
		return errorf(http.StatusNotFound, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", p, v)
	}
	type version struct {
		Document         string
		VersionID        string `xml:"VersionId"`
		IsDefaultVersion bool
		CreateDate       string
	}
	writeQuery(req, svcIAM, struct{ PolicyVersion version }{version{rfc3986Escape(docText(doc)), "v1", true, iamDate()}})
	return nil
}

func (s *Server) putRolePolicy(req *request) *apiError { return s.putInline(req, "role", "RoleName") }
func (s *Server) putUserPolicy(req *request) *apiError { return s.putInline(req, "user", "UserName") }

func (s *Server) putInline(req *request, kind, param string) *apiError {
	form := req.r.PostForm
	if n := form.Get(param); n != "" && !iamNameRE.MatchString(n) {
		return errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", n, lowerFirst(param))
	}
	name := form.Get("PolicyName")
	if !iamPolicyNameRE.MatchString(name) {
		return errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	text := form.Get("PolicyDocument")
	if text == "" {
		return errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	e, ae := s.findEntity(req, kind, param)
	if ae != nil {
		return ae
	}
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicyDocument", "Syntax errors in policy: %v", err)
	}
	a := req.caller.account
	pk := arns.Role
	if kind == "user" {
		pk = arns.User
	}
	p := arns.Principal{Kind: pk, Partition: "aws", Account: a, Path: e.path, Name: e.name}
	action := generate.Create
	if _, ok := e.inline()[name]; ok {
		action = generate.Update
	}
	c := generate.Change{Kind: generate.KindIAMPolicy, Account: a, Target: p.ARN(), PolicyName: name, Action: action, Policy: doc, Grantee: &p}
	if err := s.write(c); err != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%v", err)
	}
	writeQuery(req, svcIAM, nil)
	return nil
}

func (s *Server) deleteRolePolicy(req *request) *apiError {
	return s.deleteInline(req, "role", "RoleName")
}
func (s *Server) deleteUserPolicy(req *request) *apiError {
	return s.deleteInline(req, "user", "UserName")
}

func (s *Server) deleteInline(req *request, kind, param string) *apiError {
	e, ae := s.findEntity(req, kind, param)
	if ae != nil {
		return ae
	}
	name := req.r.PostForm.Get("PolicyName")
	if _, ok := e.inline()[name]; !ok {
		return errorf(http.StatusNotFound, "NoSuchEntity", "The %s policy with name %s cannot be found.", kind, name)
	}
	pk := arns.Role
	if kind == "user" {
		pk = arns.User
	}
	p := arns.Principal{Kind: pk, Partition: "aws", Account: req.caller.account, Path: e.path, Name: e.name}
	c := generate.Change{Kind: generate.KindIAMPolicy, Account: req.caller.account, Target: p.ARN(), PolicyName: name, Grantee: &p}
	if err := s.restore(c); err != nil {
		return errorf(http.StatusInternalServerError, "ServiceFailure", "%v", err)
	}
	writeQuery(req, svcIAM, nil)
	return nil
}

// writeQuery answers an IAM or STS action: <ActionResponse> holding
// <ActionResult> (when result is not nil) and the request ID.
func writeQuery(req *request, svc string, result any) {
	action := req.op
	req.w.Header().Set("Content-Type", "text/xml")
	req.w.Header().Set("X-Amzn-Requestid", req.id)
	req.w.WriteHeader(http.StatusOK)
	enc := xml.NewEncoder(req.w)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: queryNS[svc]}}}
	ignore(enc.EncodeToken(start))
	if result != nil {
		ignore(enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}))
	}
	ignore(enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{req.id}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}))
	ignore(enc.EncodeToken(start.End()))
	ignore(enc.Flush())
}

func writeQueryError(svc string, req *request, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	req.w.Header().Set("Content-Type", "text/xml")
	req.w.Header().Set("X-Amzn-Requestid", req.id)
	req.w.WriteHeader(e.status)
	type errorBody struct {
		Type    string
		Code    string
		Message string
	}
	enc := xml.NewEncoder(req.w)
	ignore(enc.EncodeElement(struct {
		Error     errorBody
		RequestID string `xml:"RequestId"`
	}{errorBody{typ, e.code, e.message}, req.id}, xml.StartElement{Name: xml.Name{Local: "ErrorResponse"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: queryNS[svc]}}}))
	ignore(enc.Flush())
}

// ignore drops an encoding error: the server's own types always encode, so
// it is a write error, and the client that went away sees nothing anyway.
func ignore(error) {}

// listRoles and listUsers list the caller account's roles and users, a page
// at a time.
func (s *Server) listRoles(req *request) *apiError {
	a := req.caller.account
	var list []iamRole
	roles := s.st.account(a).IAMRoles
	for _, name := range sortedKeys(roles) {
		e := &iamEntity{kind: "role", name: name, path: orRoot(roles[name].Path), id: roles[name]}
		list = append(list, iamRole{Path: e.path, RoleName: name, RoleID: uniqueID("AROA", e.arn(a)), Arn: e.arn(a), CreateDate: iamDate(), MaxSessionDuration: 3600})
	}
	items, p, ae := pageOf(req, list)
	if ae != nil {
		return ae
	}
	writeQuery(req, svcIAM, struct {
		Roles roleList
		listPage
	}{roleList{items}, p})
	return nil
}

func (s *Server) listUsers(req *request) *apiError {
	a := req.caller.account
	var list []iamUser
	users := s.st.account(a).IAMUsers
	for _, name := range sortedKeys(users) {
		e := &iamEntity{kind: "user", name: name, path: orRoot(users[name].Path), id: users[name]}
		list = append(list, iamUser{Path: e.path, UserName: name, UserID: uniqueID("AIDA", e.arn(a)), Arn: e.arn(a), CreateDate: iamDate()})
	}
	items, p, ae := pageOf(req, list)
	if ae != nil {
		return ae
	}
	writeQuery(req, svcIAM, struct {
		Users userList
		listPage
	}{userList{items}, p})
	return nil
}
