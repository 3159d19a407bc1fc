package arns

import (
	"fmt"
	"regexp"
	"strings"
)

// PrincipalError is a grantee that cannot be read, with what exactly is
// wrong with it and, where only one value can have been meant, that value:
// the slips people make when they copy an ARN or an account ID by hand.
type PrincipalError struct {
	// Input is the grantee as given.
	Input string
	// Problem says what is wrong, following the quoted input.
	Problem string
	// Suggestion is the grantee that was meant, "" where more than one
	// value could have been.
	Suggestion string
}

func (e *PrincipalError) Error() string { return fmt.Sprintf("%q %s", e.Input, e.Problem) }

var (
	digitsRE       = regexp.MustCompile(`^[0-9]+$`)
	groupedIDRE    = regexp.MustCompile(`^[0-9]{4}[- ][0-9]{4}[- ][0-9]{4}$`)
	accountishRE   = regexp.MustCompile(`^[0-9][0-9 -]*[0-9]$`)
	principalKinds = map[string]bool{"role": true, "user": true, "root": true, "assumed-role": true}
)

// diagnose explains why s, which does not parse as a grantee, does not,
// when it is one of the known slips; nil otherwise. Slips are fixed one at
// a time, so a value with two of them (a missing colon and an account ID
// in groups) is diagnosed as a whole, and its fix is offered only when the
// fixed value parses.
func diagnose(s string) *PrincipalError {
	var problems []string
	var suggestion string
	fixed := s
	for range 4 {
		problem, next := slip(fixed)
		if problem == "" {
			break
		}
		problems = append(problems, problem)
		if next == "" {
			fixed = ""
			break
		}
		fixed = next
		if _, err := parsePrincipal(fixed, ""); err == nil {
			suggestion = fixed
			break
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &PrincipalError{Input: s, Problem: strings.Join(problems, "; and it "), Suggestion: suggestion}
}

// slip finds one slip in s: what is wrong, following the quoted value, and
// the value with it fixed ("" when the fix is not certain).
func slip(s string) (problem, fixed string) {
	if t := strings.TrimSpace(s); t != s {
		return "has spaces around it", t
	}
	if p, fixed := accountSlip(s); p != "" {
		return p, fixed
	}
	if !strings.HasPrefix(s, "arn:") {
		return "", ""
	}
	parts := strings.Split(s, ":")
	service := ""
	if len(parts) > 2 {
		service = parts[2]
	}
	if service != "iam" && service != "sts" {
		return "", ""
	}
	switch {
	case len(parts) == 5 && accountishRE.MatchString(parts[3]):
		// arn:aws:iam:ACCOUNT:role/NAME: the empty Region field lost
		// its colon.
		return fmt.Sprintf("lacks a colon: %s ARNs have an empty Region field, arn:%s:%s::ACCOUNT:…", strings.ToUpper(service), parts[1], service),
			strings.Join(append(parts[:3:3], append([]string{""}, parts[3:]...)...), ":")
	case len(parts) == 6 && parts[3] != "" && accountishRE.MatchString(parts[4]):
		return fmt.Sprintf("names Region %q, and %s ARNs have none: arn:%s:%s::ACCOUNT:…", parts[3], strings.ToUpper(service), parts[1], service),
			strings.Join(append(parts[:3:3], append([]string{""}, parts[4:]...)...), ":")
	case len(parts) == 6 && parts[4] != "" && !IsAccountID(parts[4]):
		p, digits := accountSlip(parts[4])
		if p == "" {
			return "", ""
		}
		if digits == "" {
			return "names account " + parts[4] + ", which " + p, ""
		}
		return "names account " + parts[4] + ", which " + p, strings.Join(append(parts[:4:4], append([]string{digits}, parts[5:]...)...), ":")
	case len(parts) == 6:
		kind, rest, _ := strings.Cut(parts[5], "/")
		if lower := strings.ToLower(kind); lower != kind && principalKinds[lower] {
			return fmt.Sprintf("spells %q with capitals; ARNs write it %q", kind, lower), strings.Join(parts[:5], ":") + ":" + strings.TrimSuffix(lower+"/"+rest, "/")
		}
	}
	return "", ""
}

// accountSlip finds a slip in an account ID: digits in groups, as the
// console shows it (its fix), or the wrong number of digits (no fix: a
// digit may be missing anywhere).
func accountSlip(s string) (problem, fixed string) {
	switch {
	case groupedIDRE.MatchString(s):
		return "is written in groups, as the AWS console shows account IDs; give the 12 digits alone",
			strings.NewReplacer("-", "", " ", "").Replace(s)
	case digitsRE.MatchString(s) && len(s) != 12:
		p := fmt.Sprintf("has %d digits, and an AWS account ID has 12", len(s))
		if len(s) == 11 {
			// Spreadsheets and JSON numbers drop a leading zero.
			p += fmt.Sprintf(" (if a spreadsheet or a number type dropped a leading zero, it is 0%s)", s)
		}
		return p, ""
	}
	return "", ""
}
