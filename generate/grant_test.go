package generate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAccess(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string // a substring of the error
	}{
		{in: "read", want: []string{"read"}},
		{in: "", want: []string{"read"}},
		{in: "   ", want: []string{"read"}},
		{in: "read,list", want: []string{"list", "read"}},
		{in: "list", want: []string{"list", "read"}},
		{in: "write", want: []string{"read", "write"}},
		{in: "list,read,write", want: []string{"list", "read", "write"}},
		{in: "write,list", want: []string{"list", "read", "write"}},
		{in: "read,read,list,list", want: []string{"list", "read"}},
		{in: " Read , LIST ", want: []string{"list", "read"}},
		{in: "WRITE", want: []string{"read", "write"}},
		{in: "\tread,\nwrite ", want: []string{"read", "write"}},
		{in: "delete", wantErr: `unknown access level "delete"`},
		{in: "read,admin", wantErr: `unknown access level "admin"`},
		{in: "read,,list", wantErr: `unknown access level ""`},
		{in: "read;list", wantErr: `unknown access level "read;list"`},
		{in: "*", wantErr: `unknown access level "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAccess(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseAccess(%q) = %v, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				}
				// The error lists the levels there are.
				for _, level := range []string{"list", "read", "write"} {
					if !strings.Contains(err.Error(), level) {
						t.Errorf("error %q does not list %q", err, level)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAccess(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAccess(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestValidatePrefix(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"", true},
		{"reports/", true},
		{"reports/2024-", true},
		{"/reports/", false},
		{"reports/*", false},
		{"rep?rts/", false},
		{"home/${aws:username}/", false},
		{strings.Repeat("a", 1024), true},
		{strings.Repeat("a", 1025), false},
	}
	for _, tt := range tests {
		err := ValidatePrefix(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePrefix(%.40q) = %v, want ok %t", tt.in, err, tt.ok)
		}
	}
}

func TestDefaultIAMPolicyName(t *testing.T) {
	if got, want := DefaultIAMPolicyName("doc-example-bucket"), "kmsgrant-doc-example-bucket"; got != want {
		t.Errorf("DefaultIAMPolicyName = %q, want %q", got, want)
	}
}
