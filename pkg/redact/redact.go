// Package redact decides which header values and query parameters hold
// secrets and hides them, so that no API key reaches a record, stderr or a
// client.
//
// Everything here is a pure function over names and values: the package knows
// neither HTTP handlers nor records, so every caller shares one set of rules.
package redact

import (
	"strings"
	"unicode/utf8"
)

// Marker is the text that stands in for a hidden secret.
const Marker = "[REDACTED]"

// Masks keep the last tailLen characters of secrets at least minTailed
// characters long, so a user can tell two keys apart in a log while at least
// twelve characters stay hidden.
const (
	tailLen   = 4
	minTailed = 16
)

// maxSchemeLen bounds what Mask accepts as an auth scheme word. Real schemes
// are short ("Bearer", "AWS4-HMAC-SHA256"); a long first word is more likely
// part of the secret itself, which must not be printed.
const maxSchemeLen = 24

// builtinHeaders are the header names (lower-case) that always hold
// secrets: the credentials of the APIs llmtap fronts, of a proxy in between,
// and of a browser-style session.
var builtinHeaders = map[string]bool{
	"authorization":       true,
	"proxy-authorization": true,
	"x-api-key":           true,
	"api-key":             true,
	"x-goog-api-key":      true,
	"cookie":              true,
	"set-cookie":          true,
}

// Redactor decides which header names and query keys are secret.
// The zero value (and a nil *Redactor) redacts the built-in headers only.
// A Redactor is never modified after New, so it is safe for concurrent use.
type Redactor struct {
	extra map[string]bool // lower-case names added with --redact-header
}

// New returns a Redactor for the built-in secret headers plus extra
// (case-insensitive names from --redact-header). Empty names are ignored.
func New(extraHeaders []string) *Redactor {
	r := &Redactor{extra: make(map[string]bool, len(extraHeaders))}
	for _, h := range extraHeaders {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			r.extra[h] = true
		}
	}
	return r
}

// IsSecretHeader reports whether the header name (any case) holds a secret.
func (r *Redactor) IsSecretHeader(name string) bool {
	name = strings.ToLower(name) // no allocation when already lower-case, as record headers are
	if builtinHeaders[name] {
		return true
	}
	return r != nil && r.extra[name]
}

// HeaderValue returns value unchanged when name is not secret, else
// Mask(value). Cookie and Set-Cookie values become Marker alone: their first
// word is a cookie name, not an auth scheme, and a session cookie is a
// credential whose last characters would tell nothing a user needs, while
// telling an attacker part of it (many cookies end with their session id).
// An empty value stays empty: it hides nothing, and "the header was sent
// empty" is exactly what a user debugging a 401 needs to see.
func (r *Redactor) HeaderValue(name, value string) string {
	if value == "" || !r.IsSecretHeader(name) {
		return value
	}
	switch strings.ToLower(name) {
	case "cookie", "set-cookie":
		return Marker
	}
	return Mask(value)
}

// Mask hides a secret: it keeps a leading auth scheme word ("Bearer ",
// "Basic ", "Token " … any single word followed by a space, when more
// follows) and, when the secret part is at least 16 characters long, its last
// 4 characters:
//
//	"Bearer sk-proj-abcdefghijklmnop" -> "Bearer [REDACTED]…mnop"
//	"Bearer abc"                      -> "Bearer [REDACTED]"
//	"sk-abc"                          -> "[REDACTED]"
//
// A scheme word is an RFC 9110 token of at most 24 bytes; anything else is
// treated as part of the secret. Mask("") is "".
func Mask(secret string) string {
	if i := schemeEnd(secret); i > 0 {
		return secret[:i] + maskWhole(secret[i:])
	}
	return maskWhole(secret)
}

// schemeEnd returns the length of a leading "scheme " prefix (the word and
// the spaces after it), or 0 when secret does not start with one.
func schemeEnd(secret string) int {
	sp := strings.IndexByte(secret, ' ')
	if sp <= 0 || sp > maxSchemeLen {
		return 0
	}
	for i := 0; i < sp; i++ {
		if !isTokenChar(secret[i]) {
			return 0
		}
	}
	end := sp
	for end < len(secret) && secret[end] == ' ' {
		end++
	}
	if end == len(secret) { // "Bearer " with nothing after: all of it is the secret
		return 0
	}
	return end
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// maskWhole masks s with no scheme word, keeping its tail only when s is long
// enough. The tail is cut on rune boundaries so the result stays valid UTF-8.
func maskWhole(s string) string {
	if s == "" {
		return ""
	}
	tail, ok := lastRunes(s)
	if !ok {
		return Marker
	}
	return Marker + "…" + tail
}

// lastRunes returns the last tailLen runes of s and true, or false when s is
// shorter than minTailed runes. Invalid bytes count as one rune each, as in
// utf8.RuneCountInString.
func lastRunes(s string) (string, bool) {
	if utf8.RuneCountInString(s) < minTailed {
		return "", false
	}
	i := len(s)
	for n := 0; n < tailLen; n++ {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:], true
}
