package provider

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// str returns the string at keys, copied (fastjson's bytes die with the
// parser); "" when absent or not a string.
func str(v *fastjson.Value, keys ...string) string {
	return string(strBytes(v, keys...))
}

// strBytes returns the string at keys without a copy, for a comparison or
// an append that keeps nothing: per-event code uses it so that an event
// costs no allocation. nil when absent or not a string.
func strBytes(v *fastjson.Value, keys ...string) []byte {
	if v == nil {
		return nil
	}
	x := v.Get(keys...)
	if x == nil || x.Type() != fastjson.TypeString {
		return nil
	}
	return x.GetStringBytes()
}

// keepStr sets *dst to the string at keys when there is one and it differs
// from *dst: per-event code calls it for fields that many chunks repeat
// (role, finish reason), which are then copied once, not per chunk.
func keepStr(dst *string, v *fastjson.Value, keys ...string) {
	if s := strBytes(v, keys...); len(s) > 0 && string(s) != *dst {
		*dst = string(s)
	}
}

// num returns the integer at keys, 0 when absent or not a number.
func num(v *fastjson.Value, keys ...string) int64 {
	if v == nil {
		return 0
	}
	return v.GetInt64(keys...)
}

// arr returns the array at keys, nil when absent or not an array.
func arr(v *fastjson.Value, keys ...string) []*fastjson.Value {
	if v == nil {
		return nil
	}
	x := v.Get(keys...)
	if x == nil || x.Type() != fastjson.TypeArray {
		return nil
	}
	a, _ := x.Array()
	return a
}

// has reports whether keys lead to a value that is not null.
func has(v *fastjson.Value, keys ...string) bool {
	if v == nil {
		return false
	}
	x := v.Get(keys...)
	return x != nil && x.Type() != fastjson.TypeNull
}

// jsonText returns v as compact JSON text. It never uses fastjson's
// MarshalTo, which re-quotes strings with Go escapes and can emit invalid
// JSON; strings are written the way encoding/json writes them.
func jsonText(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	return string(appendJSON(nil, v))
}

// appendJSON appends v as compact JSON text.
func appendJSON(dst []byte, v *fastjson.Value) []byte { return appendValue(dst, v, nil, -1) }

// appendValue appends v as compact JSON text, each string passed through
// edit when edit is set. It stops, leaving the JSON unfinished, once dst is
// longer than end bytes; end < 0 means no limit.
func appendValue(dst []byte, v *fastjson.Value, edit func(string) string, end int) []byte {
	full := func() bool { return end >= 0 && len(dst) > end }
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		first := true
		o.Visit(func(k []byte, x *fastjson.Value) {
			if full() {
				return
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendQuoted(dst, string(k))
			dst = append(dst, ':')
			dst = appendValue(dst, x, edit, end)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, x := range a {
			if full() {
				break
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, x, edit, end)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		t := string(v.GetStringBytes())
		if edit != nil {
			t = edit(t)
		}
		if end >= 0 && len(t) > end {
			t = strings.ToValidUTF8(t[:end], "") // past the clip anyway
		}
		return appendQuoted(dst, t)
	default:
		// Numbers, true, false and null: fastjson keeps their original text.
		return append(dst, v.String()...)
	}
}

func appendQuoted(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // never fails for a string
	// encoding/json escapes <, > and & for HTML; keep them readable.
	if strings.ContainsAny(s, "<>&") {
		r := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
		return append(dst, r.Replace(string(b))...)
	}
	return append(dst, b...)
}

// textOf returns a string value as is, and any other JSON value as compact
// JSON text; used where a field may be either (tool results, arguments).
func textOf(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	if v.Type() == fastjson.TypeString {
		return string(v.GetStringBytes())
	}
	return jsonText(v)
}

// base64Size returns the decoded size of base64 data without decoding it.
func base64Size(data string) int64 {
	data = strings.TrimRight(data, "=")
	return int64(base64.RawStdEncoding.DecodedLen(len(data)))
}

// dataURL splits a data: URL into its media type and decoded size; ok is
// false when s is not a data URL.
func dataURL(s string) (mediaType string, size int64, ok bool) {
	rest, found := strings.CutPrefix(s, "data:")
	if !found {
		return "", 0, false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", 0, false
	}
	mediaType, _, _ = strings.Cut(meta, ";")
	if strings.HasSuffix(meta, ";base64") {
		return mediaType, base64Size(data), true
	}
	return mediaType, int64(len(data)), true
}

// itoa is strconv.FormatInt for summaries.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
