package proxy

import (
	"net/url"
	"strings"
)

// openAIResources are the first path segments of OpenAI-style API resources
// (plus Anthropic's /v1/messages): a client whose base URL is the tap's root
// or the tap's /v1 sends these, and they belong under the upstream's API base.
var openAIResources = map[string]bool{
	"chat": true, "completions": true, "embeddings": true, "models": true,
	"responses": true, "audio": true, "images": true, "files": true,
	"uploads": true, "batches": true, "fine_tuning": true, "fine-tunes": true,
	"moderations": true, "assistants": true, "threads": true,
	"vector_stores": true, "realtime": true, "conversations": true,
	"evals": true, "containers": true, "messages": true, "complete": true,
	"rerank": true, "score": true, "tokenize": true, "detokenize": true,
}

// upstreamPath maps the client's escaped request path onto the upstream's
// escaped base path (no trailing slash). Percent-encoding is kept byte for
// byte: the path is never decoded and re-split, so %2F stays one segment.
//
// The rules, in order (the README has them as a table, tested in paths_test.go):
//  1. A path that already starts with the base path is sent as it is, so a
//     client configured with the full upstream path is not doubled.
//  2. An OpenAI-style resource path, with or without a leading /v1, goes
//     under the base, or under /v1 when the base has no path: /models and
//     /v1/models both become <base>/models.
//  3. Any other path (a provider's native API: Gemini /v1beta/models/…,
//     Ollama /api/chat) goes under the base path as it is.
func upstreamPath(base, path string) string {
	if path == "" {
		path = "/"
	}
	if base != "" && (path == base || strings.HasPrefix(path, base+"/")) {
		return path
	}
	rest := path
	if rest == "/v1" || strings.HasPrefix(rest, "/v1/") {
		rest = rest[len("/v1"):]
	}
	if isResourcePath(rest) {
		if base == "" {
			base = "/v1"
		}
		if rest == "/" {
			rest = ""
		}
		return base + rest
	}
	if base == "" {
		return path
	}
	return base + path
}

// isResourcePath reports whether p is empty, "/" or starts with an
// OpenAI-style resource segment.
func isResourcePath(p string) bool {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return true
	}
	seg, _, _ := strings.Cut(p, "/")
	return openAIResources[seg]
}

// joinQuery keeps the base URL's own query (Azure's api-version) ahead of the
// client's, both byte for byte.
func joinQuery(base, client string) string {
	switch {
	case base == "":
		return client
	case client == "":
		return base
	default:
		return base + "&" + client
	}
}

// UpstreamURL is the URL a request for the escaped path and raw query is
// forwarded to, by the rules of upstreamPath, with secrets masked (for
// display, such as a replay's dry run).
func (t *Tap) UpstreamURL(path, rawQuery string) string {
	u := *t.base
	u.User = nil
	u.RawPath = upstreamPath(t.basePath, path)
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = joinQuery(t.base.RawQuery, rawQuery)
	return t.redactor.URL(u.String())
}
