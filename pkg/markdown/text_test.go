package markdown

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/llmtap/llmtap/pkg/provider"
)

func TestFence(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty", "", "```"},
		{"no backticks", "plain text", "```"},
		{"inline code", "use `x` here", "```"},
		{"double", "a `` b", "```"},
		{"triple", "```go\nx\n```", "````"},
		{"four", "````\n```\n````", "`````"},
		{"run at the end", "text ``````", "```````"},
		{"tildes do not count", "~~~~~~", "```"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fence(tc.content); got != tc.want {
				t.Errorf("Fence(%q) = %q, want %q", tc.content, got, tc.want)
			}
		})
	}
}

func TestAppendCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"get_weather", "`get_weather`"},
		{"a`b", "``a`b``"},
		{"`x`", "`` `x` ``"},
		{"two\nlines", "`two lines`"},
		{"", "` `"},
	} {
		if got := string(appendCode(nil, tc.in)); got != tc.want {
			t.Errorf("appendCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendInline(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"gpt-4o-mini", "gpt-4o-mini"},
		{"rate_limit_exceeded", "rate_limit_exceeded"},
		{"_private_", `\_private\_`},
		{"*bold* <b> & #1", `\*bold\* \<b\> \& \#1`},
		{"[x](http://e)", `\[x\](http://e)`},
		{"a [1] b", "a [1] b"},
		{"line\nbreak", "line break"},
	} {
		if got := string(appendInline(nil, tc.in)); got != tc.want {
			t.Errorf("appendInline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		maxChars int
		want     string
	}{
		{"markdown as is", "Some *text*.\n\n- a\n- b", 0, "Some *text*.\n\n- a\n- b\n\n"},
		{"trailing space trimmed", "\n\ntext  \n\n", 0, "text\n\n"},
		{"balanced fences kept", "x\n```go\nf()\n```\ny", 0, "x\n```go\nf()\n```\ny\n\n"},
		{"open fence closed", "x\n```go\nf()", 0, "x\n```go\nf()\n```\n\n"},
		{"open fence in a list item closed at its indent", "1. Run:\n   ````sh\n   ls", 0, "1. Run:\n   ````sh\n   ls\n   ````\n\n"},
		{"tilde fence closed", "~~~\ncode", 0, "~~~\ncode\n~~~\n\n"},
		{"json pretty", `{"a":1,"b":[true,null]}`, 0, "```json\n{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}\n```\n\n"},
		{"json keeps escapes", `{"s":"\u00e9\n"}`, 0, "```json\n{\n  \"s\": \"\\u00e9\\n\"\n}\n```\n\n"},
		{"not json", `{"a":`, 0, "{\"a\":\n\n"},
		{"html fenced", "<!-- open comment\nmore", 0, "```text\n<!-- open comment\nmore\n```\n\n"},
		{"html with backticks", "<details>\n```\n", 0, "````text\n<details>\n```\n````\n\n"},
		{"html in code span is fine", "Use `<div>` here.", 0, "Use `<div>` here.\n\n"},
		{"html in a fence is fine", "```html\n<div>\n```", 0, "```html\n<div>\n```\n\n"},
		{"autolink is fine", "See <https://example.com/a>.", 0, "See <https://example.com/a>.\n\n"},
		{"less than is fine", "a < b and 2<3", 0, "a < b and 2<3\n\n"},
		{"escaped tag is fine", `a \<b> c`, 0, "a \\<b> c\n\n"},
		{"clipped", "abcdefghij", 4, "abcd\n\n*[… 6 more characters clipped]*\n\n"},
		{"clipped inside a fence", "```\n0123456789", 8, "```\n0123\n```\n\n*[… 6 more characters clipped]*\n\n"},
		{"clipped json", `{"a":"bcdefgh"}`, 6, "```json\n{\n  \"a\n```\n\n*[… 14 more characters clipped]*\n\n"},
		{"one character clipped", "abc", 2, "ab\n\n*[… 1 more character clipped]*\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendText(nil, tc.in, tc.maxChars)); got != tc.want {
				t.Errorf("appendText(%q, %d)\n got %q\nwant %q", tc.in, tc.maxChars, got, tc.want)
			}
		})
	}
}

func TestPlaceholder(t *testing.T) {
	for _, tc := range []struct {
		p    provider.Part
		want string
	}{
		{provider.Part{Kind: provider.PartImage, MediaType: "image/png", Bytes: 12300}, "[image: image/png, 12.3 KB]"},
		{provider.Part{Kind: provider.PartImage, URL: "https://example.com/cat.jpg"}, "[image: https://example.com/cat.jpg]"},
		{provider.Part{Kind: provider.PartImage, URL: "data:image/png;base64,iVBORw0KGgo=", MediaType: "image/png", Bytes: 8}, "[image: image/png, 8 B]"},
		{provider.Part{Kind: provider.PartAudio, MediaType: "audio/wav", Bytes: 2_500_000}, "[audio: audio/wav, 2.5 MB]"},
		{provider.Part{Kind: provider.PartFile, Name: "report.pdf", MediaType: "application/pdf", Bytes: 48}, "[file: report.pdf, application/pdf, 48 B]"},
		{provider.Part{Kind: provider.PartFile, URL: "file-abc123"}, "[file: file-abc123]"},
		{provider.Part{Kind: provider.PartImage}, "[image]"},
	} {
		if got := string(appendPlaceholder(nil, &tc.p)); got != tc.want {
			t.Errorf("placeholder %+v = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\ttext\n", "plain\ttext\n"},
		{"crlf\r\nline", "crlf\nline"},
		{"bell\a esc\x1b[31m nul\x00 del\x7f cr\r", "bell␇ esc␛[31m nul␀ del␡ cr␍"},
		{"bad \xff\xfe utf8 \xe2\x82", "bad \uFFFD\uFFFD utf8 \uFFFD\uFFFD"},
		{"line\u2028sep\u0085nel", "line\u2028sep\u0085nel"}, // content, kept
	} {
		got := string(sanitize([]byte(tc.in)))
		if got != tc.want {
			t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("sanitize(%q) is not valid UTF-8", tc.in)
		}
	}
}

func TestMarkdownSafe(t *testing.T) {
	for _, tc := range []struct {
		in     string
		closer string
		ok     bool
	}{
		{"text", "", true},
		{"```\ncode", "```", true},
		{"````\n```\n", "````", true}, // the inner fence does not close the outer
		{"```\n````\nmore", "", true}, // a longer fence closes
		{"```go\n```js\n", "```", true},
		{"~~~\n```\n~~~", "", true},
		{"<div>", "", false},
		{"</div>", "", false},
		{"<!-- x -->", "", false},
		{"<?php", "", false},
		{"```\n<div>\n```", "", true},
		{strings.Repeat("`", 2) + "<b>" + strings.Repeat("`", 2), "", true},
		{"`unclosed <b>", "", false},
	} {
		closer, ok := markdownSafe(tc.in)
		if closer != tc.closer || ok != tc.ok {
			t.Errorf("markdownSafe(%q) = %q, %v; want %q, %v", tc.in, closer, ok, tc.closer, tc.ok)
		}
	}
}

func TestAppendMillis(t *testing.T) {
	for _, tc := range []struct {
		ms   float64
		want string
	}{
		{0.42, "0.42 ms"}, {87.1, "87 ms"}, {1234.5, "1.23 s"}, {125000, "2m05s"},
	} {
		if got := string(appendMillis(nil, tc.ms)); got != tc.want {
			t.Errorf("appendMillis(%v) = %q, want %q", tc.ms, got, tc.want)
		}
	}
}

func TestAppendUsage(t *testing.T) {
	for _, tc := range []struct {
		u    provider.Usage
		want string
	}{
		{provider.Usage{Input: 18, Output: 10}, "18 in / 10 out tokens"},
		{provider.Usage{Input: 1200, Output: 30, CachedInput: 1000, Reasoning: 16}, "1,200 in (1,000 cached) / 30 out (16 reasoning) tokens"},
		{provider.Usage{Input: 3, Output: 17, CachedInput: 1204, CacheWrite: 50}, "3 in (1,204 cached, 50 cache write) / 17 out tokens"},
		{provider.Usage{Input: 9}, "9 in tokens"},
	} {
		if got := string(appendUsage(nil, &tc.u)); got != tc.want {
			t.Errorf("appendUsage(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}
