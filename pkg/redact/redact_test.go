package redact

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bearer long keeps scheme and tail", "Bearer sk-proj-abcdefghijklmnop", "Bearer [REDACTED]…mnop"},
		{"bearer short keeps scheme only", "Bearer abc", "Bearer [REDACTED]"},
		{"basic", "Basic dXNlcjpwYXNzd29yZA==", "Basic [REDACTED]…ZA=="},
		{"token scheme", "Token abcdefghijklmnopqrstuvwxyz", "Token [REDACTED]…wxyz"},
		{"aws scheme with digits and dashes", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", "AWS4-HMAC-SHA256 [REDACTED]…b5d7"},
		{"bare short key", "sk-abc", "[REDACTED]"},
		{"bare key of 15 runes", "abcdefghijklmno", "[REDACTED]"},
		{"bare key of 16 runes", "abcdefghijklmnop", "[REDACTED]…mnop"},
		{"empty stays empty", "", ""},
		{"scheme word alone is the secret", "Bearer", "[REDACTED]"},
		{"scheme word and space with nothing after", "Bearer ", "[REDACTED]"},
		{"spaces after the scheme are kept", "Bearer   abcdefghijklmnopq", "Bearer   [REDACTED]…nopq"},
		{"leading space is no scheme", " abcdefghijklmnopq", "[REDACTED]…nopq"},
		{"first word too long to be a scheme", "sk-proj-abcdefghijklmnopqrstuvwxyz tail", "[REDACTED]…tail"},
		{"first word not a token", "a/b abcdefghijklmnop", "[REDACTED]…mnop"},
		{"tail cut on rune boundaries", "ключключключключ", "[REDACTED]…ключ"},
		{"invalid utf-8 counts per byte", strings.Repeat("\xff", 16), "[REDACTED]…\xff\xff\xff\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsSecretHeader(t *testing.T) {
	r := New([]string{"X-Custom-Token", "  x-other  ", ""})
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"authorization", "authorization", true},
		{"authorization canonical case", "Authorization", true},
		{"proxy-authorization", "Proxy-Authorization", true},
		{"x-api-key", "X-Api-Key", true},
		{"api-key", "api-key", true},
		{"x-goog-api-key", "x-goog-api-key", true},
		{"cookie", "Cookie", true},
		{"set-cookie", "SET-COOKIE", true},
		{"extra header any case", "x-custom-token", true},
		{"extra header trimmed", "X-Other", true},
		{"empty extra name adds nothing", "", false},
		{"content-type", "Content-Type", false},
		{"prefix of a secret name", "x-api", false},
		{"secret name as prefix", "authorization-hint", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.IsSecretHeader(tt.in); got != tt.want {
				t.Errorf("IsSecretHeader(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	t.Run("zero and nil Redactor know the built-ins", func(t *testing.T) {
		var nilR *Redactor
		for _, r := range []*Redactor{nilR, {}, New(nil)} {
			if !r.IsSecretHeader("Authorization") || r.IsSecretHeader("x-custom-token") {
				t.Errorf("%#v: wrong built-in set", r)
			}
		}
	})
}

func TestHeaderValue(t *testing.T) {
	r := New([]string{"X-Custom-Token"})
	tests := []struct {
		name, header, value, want string
	}{
		{"not secret is unchanged", "content-type", "application/json", "application/json"},
		{"authorization keeps scheme", "authorization", "Bearer sk-proj-abcdefghijklmnop", "Bearer [REDACTED]…mnop"},
		{"x-api-key bare", "x-api-key", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "[REDACTED]…wxyz"},
		{"extra header", "X-Custom-Token", "tok", "[REDACTED]"},
		{"cookie keeps no tail", "cookie", "a b=1; session=abcdefghijklmnopqrstuvwxyz", "[REDACTED]"},
		{"short cookie", "Cookie", "sid=1 2", "[REDACTED]"},
		{"set-cookie keeps no tail", "set-cookie", "sid=abcdefghijklmnop; Path=/; HttpOnly", "[REDACTED]"},
		{"empty cookie stays empty", "cookie", "", ""},
		{"empty secret value stays empty", "authorization", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.HeaderValue(tt.header, tt.value); got != tt.want {
				t.Errorf("HeaderValue(%q, %q) = %q, want %q", tt.header, tt.value, got, tt.want)
			}
		})
	}
}

// queryTests is shared by TestQuery and the FuzzQuery seeds.
var queryTests = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"no secrets", "a=1&b=2", "a=1&b=2"},
	{"key in the middle", "a=1&key=SECRET&b=2", "a=1&key=[REDACTED]&b=2"},
	{"long key keeps tail", "key=AIzaSyabcdefghijklmnopqrstuvwxyz&alt=sse", "key=[REDACTED]…wxyz&alt=sse"},
	{"upper-case key", "KEY=x", "KEY=[REDACTED]"},
	{"mixed-case api_key", "Api_Key=secretvalue", "Api_Key=[REDACTED]"},
	{"api-key", "api-key=secretvalue", "api-key=[REDACTED]"},
	{"percent-encoded key name", "api%5Fkey=x", "api%5Fkey=[REDACTED]"},
	{"lower-case escape in key name", "api%5fkey=x&k%65y=y", "api%5fkey=[REDACTED]&k%65y=[REDACTED]"},
	{"key without equals", "key", "key"},
	{"key with empty value", "key=", "key="},
	{"only separators", "&&", "&&"},
	{"trailing ampersand kept", "key=abc&", "key=[REDACTED]&"},
	{"leading ampersand kept", "&key=abc", "&key=[REDACTED]"},
	{"repeated keys all masked", "key=one&key=two&a=key", "key=[REDACTED]&key=[REDACTED]&a=key"},
	{"plus and %20 in other values untouched", "q=a+b%20c&key=x+y", "q=a+b%20c&key=[REDACTED]"},
	{"tail is decoded then re-encoded", "key=aaaaaaaaaaaaaaaa%26x%3Dy", "key=[REDACTED]…%26x%3Dy"},
	{"plus in secret tail is a space", "key=aaaaaaaaaaaaaaaaaa+b+c", "key=[REDACTED]…%20b%20c"},
	{"equals in value masked whole", "key=a=b=c", "key=[REDACTED]"},
	{"semicolon also separates", "a=1;key=SECRET", "a=1;key=[REDACTED]"},
	{"key is a value not a name", "name=key", "name=key"},
	{"similar names are not secret", "keys=1&monkey=2&key_id=3&apikey=4", "keys=1&monkey=2&key_id=3&apikey=4"},
	{"malformed escape kept", "key=%zz%4&b=%", "key=[REDACTED]&b=%"},
	{"plus in key name is a space", "api+key=x", "api+key=x"},
	{"fragment-like bytes are plain bytes here", "a=#&key=x", "a=#&key=[REDACTED]"},
}

func TestQuery(t *testing.T) {
	r := New(nil)
	for _, tt := range queryTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Query(tt.in); got != tt.want {
				t.Errorf("Query(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQueryNoSecretDoesNotAllocate(t *testing.T) {
	r := New(nil)
	q := "model=gpt-4o&limit=20&after=abc"
	if n := testing.AllocsPerRun(100, func() { _ = r.Query(q) }); n != 0 {
		t.Errorf("Query allocated %v times on a query with no secret", n)
	}
}

func TestURL(t *testing.T) {
	r := New(nil)
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://api.example.com/v1/chat/completions", "https://api.example.com/v1/chat/completions"},
		{"query key", "https://generativelanguage.googleapis.com/v1beta/models/g:streamGenerateContent?alt=sse&key=AIzaSyabcdefghijklmnopqrstuvwxyz",
			"https://generativelanguage.googleapis.com/v1beta/models/g:streamGenerateContent?alt=sse&key=[REDACTED]…wxyz"},
		{"escapes kept byte for byte", "https://h/p%2Fq?a=%7e+x&key=s", "https://h/p%2Fq?a=%7e+x&key=[REDACTED]"},
		{"password", "https://user:hunter2@host:8443/p?x=1", "https://user:%5BREDACTED%5D@host:8443/p?x=1"},
		{"long password keeps encoded tail", "https://u:abcdefghijklmnop%2Bq@host", "https://u:%5BREDACTED%5D%E2%80%A6op%2Bq@host"},
		{"bare token userinfo", "https://ghp_abcdefghijklmnopqrstuvwxyz@host/", "https://%5BREDACTED%5D%E2%80%A6wxyz@host/"},
		{"empty password", "https://user:@host/", "https://user:@host/"},
		{"empty userinfo", "https://@host/", "https://@host/"},
		{"at sign in path is not userinfo", "https://host/a@b?key=k", "https://host/a@b?key=[REDACTED]"},
		{"at sign in query is not userinfo", "https://host?x=u:p@h", "https://host?x=u:p@h"},
		{"ipv6 host", "http://u:pw@[::1]:8080/v1", "http://u:%5BREDACTED%5D@[::1]:8080/v1"},
		{"scheme-relative", "//u:pw@host/?key=k", "//u:%5BREDACTED%5D@host/?key=[REDACTED]"},
		{"path only", "/v1/models?api_key=abc&limit=2", "/v1/models?api_key=[REDACTED]&limit=2"},
		{"fragment untouched", "https://h/p?key=abc#key=def", "https://h/p?key=[REDACTED]#key=def"},
		{"question mark in fragment is no query", "https://h/p#x?key=abc", "https://h/p#x?key=abc"},
		{"empty query", "https://h/p?", "https://h/p?"},
		{"second question mark is part of the query", "https://h/p?a=?&key=abc", "https://h/p?a=?&key=[REDACTED]"},
		{"no authority", "mailto:someone@example.com?key=abc", "mailto:someone@example.com?key=[REDACTED]"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.URL(tt.in); got != tt.want {
				t.Errorf("URL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("masked userinfo still parses", func(t *testing.T) {
		u, err := url.Parse(r.URL("https://user:abcdefghijklmnopqrst@host/v1"))
		if err != nil {
			t.Fatal(err)
		}
		if pw, _ := u.User.Password(); pw != "[REDACTED]…qrst" {
			t.Errorf("password = %q", pw)
		}
	})
}

// FuzzQuery checks the two promises of Query on arbitrary input: pairs that
// are not secret come out byte-identical, and the value of a secret key
// (decoded or raw, when at least 4 bytes) never appears in its output pair.
func FuzzQuery(f *testing.F) {
	for _, tt := range queryTests {
		f.Add(tt.in)
	}
	r := New(nil)
	f.Fuzz(func(t *testing.T, q string) {
		out := r.Query(q)
		in, got := splitPairs(q), splitPairs(out)
		if len(in) != len(got) {
			t.Fatalf("Query(%q) = %q: %d pairs became %d", q, out, len(in), len(got))
		}
		for i, pair := range in {
			eq := strings.IndexByte(pair, '=')
			if eq < 0 || eq == len(pair)-1 || !IsSecretQueryKey(pair[:eq]) {
				if got[i] != pair {
					t.Fatalf("Query(%q) = %q: pair %q changed to %q", q, out, pair, got[i])
				}
				continue
			}
			if !strings.HasPrefix(got[i], pair[:eq+1]+Marker) {
				t.Fatalf("Query(%q) = %q: secret pair %q became %q", q, out, pair, got[i])
			}
			val := got[i][eq+1:]
			if !utf8.ValidString(val) {
				t.Fatalf("Query(%q): masked value %q is not UTF-8", q, val)
			}
			for _, secret := range []string{pair[eq+1:], unescape(pair[eq+1:])} {
				// A secret such as "REDA" is found in the marker itself; that hides nothing.
				if len(secret) >= 4 && strings.Contains(val, secret) && !strings.Contains(Marker+"…", secret) {
					t.Fatalf("Query(%q) = %q: secret %q leaked", q, out, secret)
				}
			}
		}
	})
}

// splitPairs splits a query on '&' and ';', keeping empty pairs, as Query does.
func splitPairs(q string) []string {
	var pairs []string
	for {
		i := strings.IndexAny(q, "&;")
		if i < 0 {
			return append(pairs, q)
		}
		pairs = append(pairs, q[:i])
		q = q[i+1:]
	}
}
