// Package rawjson finds and replaces values inside JSON text without
// re-encoding it: every byte outside an edit stays as it was (key order,
// escapes, number spelling, whitespace). A parser that decodes and
// re-marshals a document cannot promise that, and a replay must send the
// bytes the record holds.
//
// It reads only as much of the document as a lookup needs and checks the
// syntax of what it skips loosely (balanced brackets, terminated strings):
// it is for documents already known to be JSON, such as a record's embedded
// body.
package rawjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNotObject is returned when a value on a path is not a JSON object.
var ErrNotObject = errors.New("not a JSON object")

// errSyntax is returned for text that is not JSON where a value was expected.
var errSyntax = errors.New("malformed JSON")

// Get returns the raw text of the value found by following keys through
// nested objects, or nil when a key is missing or a value on the way is not
// an object. With several members of the same name the last one counts, as
// in most decoders. The result aliases doc.
func Get(doc []byte, keys ...string) []byte {
	start, end := skipWS(doc, 0), len(doc)
	for _, k := range keys {
		m, ok, err := member(doc, start, k)
		if err != nil || !ok {
			return nil
		}
		start, end = m.valStart, m.valEnd
	}
	if start >= len(doc) {
		return nil
	}
	if len(keys) == 0 {
		e, err := skipValue(doc, start)
		if err != nil {
			return nil
		}
		end = e
	}
	return doc[start:end]
}

// Set returns a new document: doc with the value at path replaced by value
// (raw JSON text, used as it is), or added at the end of the innermost
// object that exists, inside new objects for the rest of the path. doc
// must hold a JSON object; so must every value on the way.
func Set(doc []byte, path []string, value []byte) ([]byte, error) {
	if len(path) == 0 {
		return nil, errors.New("empty path")
	}
	start := skipWS(doc, 0)
	for i, k := range path {
		if start >= len(doc) || doc[start] != '{' {
			return nil, fmt.Errorf("%s: %w", describe(path[:i]), ErrNotObject)
		}
		m, ok, err := member(doc, start, k)
		if err != nil {
			return nil, err
		}
		if !ok {
			return insert(doc, start, path[i:], value)
		}
		if i == len(path)-1 {
			out := make([]byte, 0, len(doc)-(m.valEnd-m.valStart)+len(value))
			out = append(out, doc[:m.valStart]...)
			out = append(out, value...)
			return append(out, doc[m.valEnd:]...), nil
		}
		start = m.valStart
	}
	panic("unreachable")
}

// describe names a path for an error message; the empty path is the
// document itself.
func describe(path []string) string {
	if len(path) == 0 {
		return "the document"
	}
	b, _ := json.Marshal(path)
	return string(b)
}

// insert adds "rest[0]":{"rest[1]":…value} as the last member of the object
// that starts at doc[obj].
func insert(doc []byte, obj int, rest []string, value []byte) ([]byte, error) {
	end, err := skipValue(doc, obj)
	if err != nil {
		return nil, err
	}
	closing := end - 1 // the object's '}'
	empty := skipWS(doc, obj+1) == closing
	out := make([]byte, 0, len(doc)+len(value)+16*len(rest))
	out = append(out, doc[:closing]...)
	if !empty {
		out = append(out, ',')
	}
	for i, k := range rest {
		key, _ := json.Marshal(k) // a Go string always marshals
		out = append(out, key...)
		out = append(out, ':')
		if i < len(rest)-1 {
			out = append(out, '{')
		}
	}
	out = append(out, value...)
	out = append(out, bytes.Repeat([]byte{'}'}, len(rest)-1)...)
	return append(out, doc[closing:]...), nil
}

// span is one member of an object: where its value starts and ends.
type span struct{ valStart, valEnd int }

// member finds the last member named key in the object at doc[obj].
func member(doc []byte, obj int, key string) (found span, ok bool, err error) {
	if obj >= len(doc) || doc[obj] != '{' {
		return span{}, false, ErrNotObject
	}
	i := skipWS(doc, obj+1)
	if i < len(doc) && doc[i] == '}' {
		return span{}, false, nil
	}
	for {
		if i >= len(doc) || doc[i] != '"' {
			return span{}, false, errSyntax
		}
		kEnd, err := skipString(doc, i)
		if err != nil {
			return span{}, false, err
		}
		name := doc[i:kEnd]
		i = skipWS(doc, kEnd)
		if i >= len(doc) || doc[i] != ':' {
			return span{}, false, errSyntax
		}
		vStart := skipWS(doc, i+1)
		vEnd, err := skipValue(doc, vStart)
		if err != nil {
			return span{}, false, err
		}
		if keyIs(name, key) {
			found, ok = span{vStart, vEnd}, true
		}
		i = skipWS(doc, vEnd)
		if i >= len(doc) {
			return span{}, false, errSyntax
		}
		switch doc[i] {
		case ',':
			i = skipWS(doc, i+1)
		case '}':
			return found, ok, nil
		default:
			return span{}, false, errSyntax
		}
	}
}

// keyIs compares a quoted key as it appears in the text with key, decoding
// escapes only when there are any.
func keyIs(quoted []byte, key string) bool {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == key
	}
	var s string
	return json.Unmarshal(quoted, &s) == nil && s == key
}

func skipWS(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string that starts at doc[i].
func skipString(doc []byte, i int) (int, error) {
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errSyntax
}

// skipValue returns the index just past the value that starts at doc[i].
func skipValue(doc []byte, i int) (int, error) {
	if i >= len(doc) {
		return 0, errSyntax
	}
	switch doc[i] {
	case '"':
		return skipString(doc, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(doc); j++ {
			switch doc[j] {
			case '"':
				e, err := skipString(doc, j)
				if err != nil {
					return 0, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		// A number, true, false or null: up to the next delimiter.
		j := i
		for j < len(doc) {
			switch doc[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return 0, errSyntax
				}
				return j, nil
			}
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}
