package redact

import "strings"

// IsSecretQueryKey reports whether a query parameter name holds an API key
// (key, api_key, api-key). rawKey is compared after percent-decoding and
// case-folding, so "KEY", "Api_Key" and "api%5Fkey" are all secret: a server
// decodes the name before it looks it up, and so must we.
func IsSecretQueryKey(rawKey string) bool {
	switch strings.ToLower(unescape(rawKey)) {
	case "key", "api_key", "api-key":
		return true
	}
	return false
}

// Query masks the values of secret query keys (key, api_key, api-key; key
// compared after percent-decoding, case-insensitive) in a raw query string,
// leaving every other byte exactly as it was (order, repeats, encoding, a
// trailing '&', keys without '=').
//
// Pairs are separated by '&' and also by ';', which Go no longer splits on
// (Go 1.17, golang/go#25192) but some servers still do: a key hidden behind a ';'
// must not slip through. A masked value is "[REDACTED]", or "[REDACTED]…"
// followed by the percent-encoded last 4 characters of the decoded value when
// it is at least 16 characters long; the tail is encoded so that it can never
// add a '&', '=' or '#' to the query. Empty values stay empty.
//
// The secret keys are fixed today; Query is a method so that user-added keys
// can join later without changing callers.
func (r *Redactor) Query(rawQuery string) string {
	var b strings.Builder
	changed := false
	last := 0 // rawQuery[:last] is already in b
	for start := 0; start <= len(rawQuery); {
		end := strings.IndexAny(rawQuery[start:], "&;")
		if end < 0 {
			end = len(rawQuery)
		} else {
			end += start
		}
		pair := rawQuery[start:end]
		if eq := strings.IndexByte(pair, '='); eq >= 0 && eq < len(pair)-1 && IsSecretQueryKey(pair[:eq]) {
			valStart := start + eq + 1
			if !changed {
				changed = true
				b.Grow(len(rawQuery) + 32)
			}
			b.WriteString(rawQuery[last:valStart])
			b.WriteString(maskEncoded(rawQuery[valStart:end]))
			last = end
		}
		start = end + 1
	}
	if !changed { // the common case: no copy, no allocation
		return rawQuery
	}
	b.WriteString(rawQuery[last:])
	return b.String()
}

// maskEncoded masks a percent-encoded secret value. The tail is taken from
// the decoded value (the characters a user knows their key by) and
// re-encoded, so it can never add a '&', '=', '#' or '@' to the URL.
// Empty values stay empty.
func maskEncoded(raw string) string {
	if raw == "" {
		return ""
	}
	tail, ok := lastRunes(unescape(raw))
	if !ok {
		return Marker
	}
	return Marker + "…" + escape(tail)
}

// unescape decodes %XX escapes and '+' (as a space, as in HTML forms) the
// way a lenient server does: a malformed escape is kept as it is rather than
// failing, because a redactor that gives up on bad input would leak it.
func unescape(s string) string { return unescapeMode(s, true) }

// unescapePath is unescape for userinfo, where '+' is just a '+'.
func unescapePath(s string) string { return unescapeMode(s, false) }

func unescapeMode(s string, plusIsSpace bool) string {
	if strings.IndexByte(s, '%') < 0 && (!plusIsSpace || strings.IndexByte(s, '+') < 0) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+' && plusIsSpace:
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// escape percent-encodes every byte of s except RFC 3986 unreserved ones.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)*3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// URL redacts the query of a URL string (as Query) and the password in its
// userinfo, byte-for-byte otherwise. It does not parse and re-encode through
// url.URL.String, which would change escapes and so make the recorded URL
// differ from the one sent.
//
// A userinfo without a ':' is masked whole: "https://TOKEN@host" is how
// several services take a bare token. The fragment is left alone, since it is
// never sent to a server.
func (r *Redactor) URL(rawURL string) string {
	rest := rawURL // what follows the userinfo, if any
	prefix := ""   // rawURL up to the end of the userinfo, masked
	authStart := -1
	if strings.HasPrefix(rawURL, "//") {
		authStart = 2
	} else if i := schemeLen(rawURL); i > 0 && strings.HasPrefix(rawURL[i:], "://") {
		authStart = i + 3
	}
	if authStart >= 0 {
		authEnd := len(rawURL)
		if i := strings.IndexAny(rawURL[authStart:], "/?#"); i >= 0 {
			authEnd = authStart + i
		}
		if at := strings.LastIndexByte(rawURL[authStart:authEnd], '@'); at >= 0 {
			userinfo := rawURL[authStart : authStart+at]
			if colon := strings.IndexByte(userinfo, ':'); colon >= 0 {
				userinfo = userinfo[:colon+1] + escapeMask(userinfo[colon+1:])
			} else {
				userinfo = escapeMask(userinfo)
			}
			prefix = rawURL[:authStart] + userinfo
			rest = rawURL[authStart+at:]
		}
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 || strings.IndexByte(rest[:q], '#') >= 0 {
		return prefix + rest // no allocation when prefix is empty
	}
	end := len(rest)
	if h := strings.IndexByte(rest[q+1:], '#'); h >= 0 {
		end = q + 1 + h
	}
	return prefix + rest[:q+1] + r.Query(rest[q+1:end]) + rest[end:]
}

// escapeMask is maskEncoded for userinfo, where url.Parse rejects '[' and
// non-ASCII bytes: the whole mask is percent-encoded, so the URL still parses
// and its decoded password reads "[REDACTED]…".
func escapeMask(raw string) string {
	if raw == "" {
		return ""
	}
	return escape(maskWhole(unescapePath(raw)))
}

// schemeLen returns the length of a leading RFC 3986 scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or 0.
func schemeLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return i
		}
	}
	return len(s)
}
