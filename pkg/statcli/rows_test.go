package statcli

import "testing"

func TestAppendCSVCell(t *testing.T) {
	for _, tt := range []struct{ json, csv string }{
		{``, ``},
		{`12.5`, `12.5`},
		{`true`, `true`},
		{`"gpt-4o"`, `gpt-4o`},
		{`"a,b"`, `"a,b"`},
		{`"say \"hi\""`, `"say ""hi"""`},
		{`"two\nlines"`, "\"two\nlines\""},
		{`"caf\u00e9"`, `café`},
	} {
		if got := string(appendCSVCell(nil, []byte(tt.json))); got != tt.csv {
			t.Errorf("%s: %q, want %q", tt.json, got, tt.csv)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\x01\n", `"\u0001\u000a"`},
		{"héllo ☀", `"héllo ☀"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
	} {
		if got := string(appendString(nil, tt.in)); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.in, got, tt.want)
		}
	}
}
