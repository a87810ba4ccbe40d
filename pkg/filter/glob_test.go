package filter

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"gpt-4o", "gpt-4o", true},
		{"gpt-4o", "gpt-4o-mini", false},
		{"gpt-4o*", "gpt-4o-mini", true},
		{"gpt-4o*", "gpt-4o", true},
		{"*", "", true},
		{"*", "meta-llama/Llama-3-70b", true},
		{"*llama*", "meta-llama/Llama-3-70b", true},
		{"*/Llama-?-70b", "meta-llama/Llama-3-70b", true},
		{"?", "é", true},
		{"??", "é", false},
		{"h?llo", "héllo", true},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[é]", "é", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{`a\?`, "a?", true},
		{`a\`, `a\`, true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"claude-*", "claude-sonnet-4-5", true},
		{"*-000012", "20260101T001100.000000Z-5eed01-000012", true},
	}
	for _, tc := range tests {
		g, err := compileGlob(tc.pat)
		if err != nil {
			t.Fatalf("%q: %v", tc.pat, err)
		}
		if got := g.match(tc.s); got != tc.want {
			t.Errorf("%q matches %q: %v, want %v", tc.pat, tc.s, got, tc.want)
		}
		if got := g.matchBytes([]byte(tc.s)); got != tc.want {
			t.Errorf("%q matchBytes %q: %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestGlobErrors(t *testing.T) {
	for _, p := range []string{"[", "a[b", "[!", "[]", `[\]`} {
		if _, err := compileGlob(p); err == nil {
			t.Errorf("%q: no error", p)
		}
	}
}

func TestGlobRequired(t *testing.T) {
	tests := []struct{ pat, want string }{
		{"get_weather", "get_weather"},
		{`get\_weather`, "get_weather"},
		{"get_*", "get_"},
		{"*-000012", "-000012"},
		{"a*bcd?e", "bcd"},
		{"*", ""},
		{"[ab]", ""},
		{`\*x`, "*x"},
	}
	for _, tc := range tests {
		g, err := compileGlob(tc.pat)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.required(); got != tc.want {
			t.Errorf("%q: required %q, want %q", tc.pat, got, tc.want)
		}
	}
}
