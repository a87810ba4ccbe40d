package provider

import (
	"bytes"

	"github.com/llmtap/llmtap/pkg/record"
)

// RequestModel returns the model a request names, as Parse would set
// Exchange.Model from the request, without parsing the conversation: the
// body's "model", or for Gemini the model in the path. It aliases the
// parsed record (copy it to keep it) and does not allocate. nil when the
// request names none; Parse may still find one in the response.
func RequestModel(v record.View) []byte {
	path := v.PathBytes()
	if isGeminiPath(path) {
		return geminiPathModel(path)
	}
	return v.Value().GetStringBytes("request", "body", "model")
}

// geminiGenerate are the Gemini methods that generate content, lower-case:
// a path that names one is the Gemini API.
var geminiGenerate = []string{":generatecontent", ":streamgeneratecontent"}

// isGeminiPath reports whether path is a Gemini generateContent call, in
// any case and without allocating: Detect's test, also used on a parsed
// record's path bytes.
func isGeminiPath[T string | []byte](path T) bool {
	for i := 0; i < len(path); i++ {
		if path[i] == '?' {
			path = path[:i]
			break
		}
	}
	for _, m := range geminiGenerate {
		if containsFold(path, m) {
			return true
		}
	}
	return false
}

// geminiPathModel returns the model named in a request path: the last
// segment before the ":method" suffix.
func geminiPathModel(path []byte) []byte {
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	i := bytes.LastIndexByte(path, ':')
	if i < 0 {
		return nil
	}
	path = path[:i]
	return path[bytes.LastIndexByte(path, '/')+1:]
}

// containsFold reports whether s contains lower, an ASCII lower-case
// string, in any case, without allocating.
func containsFold[T string | []byte](s T, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		j := 0
		for ; j < len(lower); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}
