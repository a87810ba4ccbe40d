package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// pathRules is the path table of docs/llmtap.md: the upstream base, what the client
// asked for, and the URL the upstream sees. Keep the two in step.
var pathRules = []struct {
	upstream, request, want string
}{
	// An OpenAI-style base: /v1 from the client is optional.
	{"https://h/v1", "/v1/chat/completions", "https://h/v1/chat/completions"},
	{"https://h/v1", "/chat/completions", "https://h/v1/chat/completions"},
	{"https://h/v1/", "/models", "https://h/v1/models"},
	{"https://h/v1", "/v1/models?limit=2&after=a&after=b", "https://h/v1/models?limit=2&after=a&after=b"},
	// A bare host: OpenAI resources go under /v1; native paths stay as they are.
	{"https://h", "/v1/chat/completions", "https://h/v1/chat/completions"},
	{"https://h", "/chat/completions", "https://h/v1/chat/completions"},
	{"https://h", "/v1/messages", "https://h/v1/messages"},
	{"https://h", "/v1beta/models/m:streamGenerateContent?alt=sse", "https://h/v1beta/models/m:streamGenerateContent?alt=sse"},
	{"https://h", "/api/chat", "https://h/api/chat"},
	// A base with a longer path: the client's /v1 is replaced by it, never doubled.
	{"https://h/api/v1", "/v1/models", "https://h/api/v1/models"},
	{"https://h/api/v1", "/models", "https://h/api/v1/models"},
	{"https://h/api/v1", "/api/v1/models", "https://h/api/v1/models"},
	{"https://h/v1beta/openai", "/v1/chat/completions", "https://h/v1beta/openai/chat/completions"},
	{"https://h/v1beta/openai", "/chat/completions", "https://h/v1beta/openai/chat/completions"},
	{"https://h/v1beta/openai/", "/v1beta/openai/models", "https://h/v1beta/openai/models"},
	// The base's own query (Azure api-version) is kept, ahead of the client's.
	{"https://h/openai/deployments/gpt4o?api-version=2024-10-21", "/chat/completions", "https://h/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"},
	{"https://h/openai/deployments/gpt4o?api-version=2024-10-21", "/v1/chat/completions?x=1", "https://h/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21&x=1"},
	// Any other path goes under the base as it is.
	{"https://h/v1", "/foo/bar", "https://h/v1/foo/bar"},
	{"https://h/v1", "/", "https://h/v1"},
	{"https://h", "/", "https://h/v1"},
	// Bytes are kept: percent-encoding, empty segments, query encoding.
	{"https://h/v1", "/v1/models/meta-llama%2FLlama-3-8B%3Fx", "https://h/v1/models/meta-llama%2FLlama-3-8B%3Fx"},
	{"https://h/v1", "/v1/files/a%20b", "https://h/v1/files/a%20b"},
	{"https://h/v1", "/v1/models?q=a+b&r=%2f%zz&&s", "https://h/v1/models?q=a+b&r=%2f%zz&&s"},
}

func TestPathRules(t *testing.T) {
	for _, tt := range pathRules {
		t.Run(tt.upstream+" "+tt.request, func(t *testing.T) {
			got := forwardedURL(t, tt.upstream, tt.request)
			if got != tt.want {
				t.Errorf("upstream got %s, want %s", got, tt.want)
			}
		})
	}
}

// forwardedURL runs one request through a Tap whose transport only notes the
// URL it was asked for.
func forwardedURL(t *testing.T, upstream, target string) string {
	t.Helper()
	var got string
	tap, err := New(Config{
		Upstream: upstream,
		Sink:     &collect{},
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = r.URL.String()
			return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "http://tap"+target, nil)
	tap.ServeHTTP(httptest.NewRecorder(), req)
	return got
}

// TestCommonBasesKept: /v1 is not appended to every base, the base's query
// is kept, and a prefix the client repeats is not doubled, for the bases of
// the common providers.
func TestCommonBasesKept(t *testing.T) {
	for _, tt := range []struct{ upstream, request, want string }{
		{"https://h/v1beta/openai", "/chat/completions", "https://h/v1beta/openai/chat/completions"},
		{"https://h/openai/deployments/gpt4o?api-version=2024-10-21", "/chat/completions", "https://h/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"},
		{"https://h/api/v1", "/api/v1/models", "https://h/api/v1/models"},
	} {
		if got := forwardedURL(t, tt.upstream, tt.request); got != tt.want {
			t.Errorf("%s + %s: upstream got %s, want %s", tt.upstream, tt.request, got, tt.want)
		}
	}
}

func TestParseUpstream(t *testing.T) {
	for _, bad := range []string{"", "h/v1", "ftp://h/v1", "https://", "https://h/v1#frag", "://x"} {
		if _, err := ParseUpstream(bad); err == nil {
			t.Errorf("ParseUpstream(%q) accepted", bad)
		}
	}
}
