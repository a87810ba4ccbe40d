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
	path := v.Value().GetStringBytes("path")
	if isGeminiPath(path) {
		return geminiPathModel(path)
	}
	return v.Value().GetStringBytes("request", "body", "model")
}

// isGeminiPath reports whether path is a Gemini generateContent call, as
// Detect decides it.
func isGeminiPath(path []byte) bool {
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return containsFold(path, ":generatecontent") || containsFold(path, ":streamgeneratecontent")
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
func containsFold(s []byte, lower string) bool {
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
