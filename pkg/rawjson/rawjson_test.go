package rawjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGet(t *testing.T) {
	doc := `{"v":1,"request":{"headers":{"a":"b"},"body":{"model":"m","x":[1,{"y":"}"}]},"body_encoding":"json"},"s":"a\"b","n":-1.5e3}`
	for _, tt := range []struct {
		keys []string
		want string
	}{
		{[]string{"request", "body"}, `{"model":"m","x":[1,{"y":"}"}]}`},
		{[]string{"request", "body", "model"}, `"m"`},
		{[]string{"s"}, `"a\"b"`},
		{[]string{"n"}, `-1.5e3`},
		{[]string{"v"}, `1`},
		{[]string{"missing"}, ``},
		{[]string{"v", "x"}, ``}, // not an object
		{nil, doc},
	} {
		t.Run(strings.Join(tt.keys, "."), func(t *testing.T) {
			if got := string(Get([]byte(doc), tt.keys...)); got != tt.want {
				t.Errorf("Get = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGetEscapedKeyAndLastWins(t *testing.T) {
	doc := []byte(`{ "mo\u0064el" : "a" , "model":"b"}`)
	if got := string(Get(doc, "model")); got != `"b"` {
		t.Errorf("got %s", got)
	}
	doc = []byte(`{"mo\u0064el":"a"}`)
	if got := string(Get(doc, "model")); got != `"a"` {
		t.Errorf("escaped key: got %s", got)
	}
}

func TestSet(t *testing.T) {
	for _, tt := range []struct {
		name, doc, path, value, want string
		err                          error
	}{
		{"replace", `{"model":"a","messages":[]}`, "model", `"b"`, `{"model":"b","messages":[]}`, nil},
		{"replace keeps bytes around", `{ "x" : "\u00e9" , "model" : 1 }`, "model", `2`, `{ "x" : "\u00e9" , "model" : 2 }`, nil},
		{"add", `{"a":1}`, "max_tokens", `64`, `{"a":1,"max_tokens":64}`, nil},
		{"add to empty", `{}`, "a", `true`, `{"a":true}`, nil},
		{"add to empty with space", `{ }`, "a", `true`, `{ "a":true}`, nil},
		{"nested existing", `{"o":{"a":1}}`, "o.b", `2`, `{"o":{"a":1,"b":2}}`, nil},
		{"nested replace", `{"o":{"a":1}}`, "o.a", `"x"`, `{"o":{"a":"x"}}`, nil},
		{"nested create", `{"a":1}`, "stream_options.include_usage", `true`, `{"a":1,"stream_options":{"include_usage":true}}`, nil},
		{"deep create", `{}`, "a.b.c", `null`, `{"a":{"b":{"c":null}}}`, nil},
		{"through a non-object", `{"a":1}`, "a.b", `1`, ``, ErrNotObject},
		{"not an object", `[1]`, "a", `1`, ``, ErrNotObject},
		{"key needs escaping", `{}`, `a"b`, `1`, `{"a\"b":1}`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Set([]byte(tt.doc), strings.Split(tt.path, "."), []byte(tt.value))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Set = %s, want %s", got, tt.want)
			}
		})
	}
}

func FuzzSet(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":{"b":[1,"}"]},"c":"\""}`, `{"a" : { } }`, `[]`, `{"a":`, `"x"`} {
		f.Add(s, "a.b", `1`)
	}
	f.Fuzz(func(t *testing.T, doc, path, value string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil || json.Unmarshal([]byte(value), new(any)) != nil {
			// Not JSON: Set and Get may fail, but must not panic.
			_, _ = Set([]byte(doc), strings.Split(path, "."), []byte(value))
			_ = Get([]byte(doc), strings.Split(path, ".")...)
			return
		}
		if !utf8.ValidString(path) {
			return // a flag's path is text; a Go string key marshals lossily
		}
		keys := strings.Split(path, ".")
		if got := Get([]byte(doc), keys...); got != nil && !json.Valid(got) {
			t.Fatalf("Get(%q, %q) = %q: not JSON", doc, path, got)
		}
		out, err := Set([]byte(doc), keys, []byte(value))
		if err != nil {
			return
		}
		var after map[string]any
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("Set(%q, %q, %q) = %q: %v", doc, path, value, out, err)
		}
		var want, got any
		_ = json.Unmarshal([]byte(value), &want)
		got = any(after)
		for _, k := range keys {
			m, ok := got.(map[string]any)
			if !ok {
				t.Fatalf("Set(%q, %q): %q has no object at %q", doc, path, out, k)
			}
			got = m[k]
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Set(%q, %q, %q) = %q: value %v, want %v", doc, path, value, out, got, want)
		}
	})
}
