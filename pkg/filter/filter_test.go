package filter_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/filter"
)

// testNow is the "now" of relative times in these tests: half an hour
// after the first generated record.
var testNow = time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)

// readRecords returns the lines of testdata/records.jsonl, one per
// scenario.
func readRecords(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != len(scenarios) {
		t.Fatalf("testdata/records.jsonl has %d lines for %d scenarios: regenerate it with -gen", len(lines), len(scenarios))
	}
	return lines
}

// names lists scenario names; all but lists every scenario except those.
func names(s ...string) []string { return s }

func allBut(except ...string) []string {
	var out []string
	for _, sc := range scenarios {
		if !slices.Contains(except, sc.name) {
			out = append(out, sc.name)
		}
	}
	return out
}

var (
	streamedNames = names("chat_stream", "chat_tools_stream", "chat_slow_stream", "chat_gzip_stream",
		"responses_stream", "responses_tools_stream", "anthropic_tools_stream",
		"aborted_stream", "cancelled_stream", "upstream_timeout")
	chatPathNames = names("chat", "chat_stream", "chat_tools", "chat_tools_stream", "chat_tool_result",
		"chat_escaped_tool", "chat_slow_stream", "chat_late_headers", "chat_gzip_stream",
		"rate_limited", "aborted_stream", "cancelled_stream", "upstream_timeout", "unreachable")
	gpt4oNames = names("chat_stream", "chat_tools", "chat_tool_result", "chat_slow_stream",
		"rate_limited", "not_found", "aborted_stream", "upstream_timeout", "unreachable")
	gpt4oMiniNames = names("chat", "chat_tools_stream", "chat_late_headers", "chat_gzip_stream", "cancelled_stream")
	claudeNames    = names("anthropic", "anthropic_tools_stream", "anthropic_tool_result", "server_error")
	errorNames     = names("aborted_stream", "cancelled_stream", "upstream_timeout", "unreachable")
	weatherCalls   = names("chat_tools", "chat_tools_stream", "responses_tools_stream", "anthropic_tools_stream")
	slowNames      = names("chat_slow_stream", "chat_late_headers", "cancelled_stream", "upstream_timeout")
)

// filterCases are the table for TestFilters and the partition property.
var filterCases = []struct {
	name string
	spec filter.Spec
	want []string
}{
	{"no filter", filter.Spec{}, allBut()},

	{"model exact", filter.Spec{Models: names("gpt-4o")}, gpt4oNames},
	{"model glob", filter.Spec{Models: names("gpt-4o*")}, append(slices.Clone(gpt4oNames), gpt4oMiniNames...)},
	{"model glob claude", filter.Spec{Models: names("claude-*")}, claudeNames},
	{"model class", filter.Spec{Models: names("gpt-4.[0-9]")}, names("chat_escaped_tool", "responses_stream", "responses_tools_stream")},
	{"model OR", filter.Spec{Models: names("o3-mini", "text-embedding-3-small")}, names("responses", "embeddings")},
	{"model none named matches nothing", filter.Spec{Models: names("*")}, allBut("models", "binary")},
	{"model no match", filter.Spec{Models: names("gpt-5")}, nil},

	{"path exact", filter.Spec{Paths: names("/v1/messages")}, claudeNames},
	{"path glob", filter.Spec{Paths: names("*/chat/completions")}, chatPathNames},
	{"path glob across slashes", filter.Spec{Paths: names("/v1/files/*")}, names("binary")},
	{"path OR", filter.Spec{Paths: names("/v1/responses", "/v1/embeddings")}, names("responses", "responses_stream", "responses_tools_stream", "embeddings")},

	{"method", filter.Spec{Methods: names("GET")}, names("models", "binary")},
	{"method any case", filter.Spec{Methods: names("get")}, names("models", "binary")},
	{"method OR", filter.Spec{Methods: names("GET", "POST")}, allBut()},

	{"id exact", filter.Spec{IDs: names("20260101T000400.000000Z-5eed01-000005")}, names("chat_tool_result")},
	{"id glob", filter.Spec{IDs: names("*-000012")}, names("responses_stream")},
	{"id OR", filter.Spec{IDs: names("*-000001", "20260101T000100.000000Z-5eed01-000002")}, names("chat", "chat_stream")},
	{"id no match", filter.Spec{IDs: names("nope")}, nil},

	{"status exact", filter.Spec{Status: names("429")}, names("rate_limited")},
	{"status equals", filter.Spec{Status: names("=500")}, names("server_error")},
	{"status 200", filter.Spec{Status: names("200")}, allBut("rate_limited", "server_error", "not_found", "unreachable")},
	{"status class", filter.Spec{Status: names("4xx")}, names("rate_limited", "not_found")},
	{"status class upper", filter.Spec{Status: names("5XX")}, names("server_error")},
	{"status >=", filter.Spec{Status: names(">=400")}, names("rate_limited", "server_error", "not_found")},
	{"status >", filter.Spec{Status: names(">429")}, names("server_error")},
	{"status <", filter.Spec{Status: names("<300")}, allBut("rate_limited", "server_error", "not_found", "unreachable")},
	{"status <=", filter.Spec{Status: names("<=404")}, allBut("rate_limited", "server_error", "unreachable")},
	{"status != skips no response", filter.Spec{Status: names("!=200")}, names("rate_limited", "server_error", "not_found")},
	{"status != class", filter.Spec{Status: names("!=2xx")}, names("rate_limited", "server_error", "not_found")},
	{"status OR", filter.Spec{Status: names("429", "500")}, names("rate_limited", "server_error")},
	{"status spaces", filter.Spec{Status: names(" >= 500 ")}, names("server_error")},

	{"error any", filter.Spec{Errors: names("")}, errorNames},
	{"error kind", filter.Spec{Errors: names("client_cancelled")}, names("cancelled_stream")},
	{"error glob", filter.Spec{Errors: names("upstream_*")}, names("aborted_stream", "upstream_timeout", "unreachable")},
	{"error OR", filter.Spec{Errors: names("upstream_aborted", "upstream_unreachable")}, names("aborted_stream", "unreachable")},
	{"error any OR kind", filter.Spec{Errors: names("shutdown", "")}, errorNames},
	{"error kind absent", filter.Spec{Errors: names("body_truncated")}, nil},

	{"ok", filter.Spec{OK: true}, allBut("rate_limited", "server_error", "not_found", "aborted_stream", "cancelled_stream", "upstream_timeout", "unreachable")},

	{"stream", filter.Spec{Stream: ptr(true)}, streamedNames},
	{"no stream", filter.Spec{Stream: ptr(false)}, allBut(streamedNames...)},

	{"tool", filter.Spec{Tools: names("get_weather")}, weatherCalls},
	{"tool glob", filter.Spec{Tools: names("get_*")}, weatherCalls},
	{"tool in request", filter.Spec{Tools: names("get_weather"), InRequest: true}, append(slices.Clone(weatherCalls), "chat_tool_result", "anthropic_tool_result")},
	{"tool escaped in the line, response only", filter.Spec{Tools: names("lookup_db")}, nil},
	{"tool escaped in the line, in request", filter.Spec{Tools: names("lookup_db"), InRequest: true}, names("chat_escaped_tool")},
	{"tool OR", filter.Spec{Tools: names("lookup_db", "get_weather"), InRequest: true}, append(slices.Clone(weatherCalls), "chat_tool_result", "anthropic_tool_result", "chat_escaped_tool")},
	{"tool no match", filter.Spec{Tools: names("send_email"), InRequest: true}, nil},

	{"slower", filter.Spec{Slower: names("100ms")}, slowNames},
	{"slower high", filter.Spec{Slower: names("400ms")}, names("chat_slow_stream")},
	{"slower OR", filter.Spec{Slower: names("400ms", "250ms")}, names("chat_slow_stream", "chat_late_headers")},
	{"faster", filter.Spec{Faster: names("50ms")}, allBut(slowNames...)},
	{"slower and faster", filter.Spec{Slower: names("250ms"), Faster: names("500ms")}, names("chat_late_headers")},
	{"ttfb over", filter.Spec{TTFBOver: names("100ms")}, names("chat_late_headers")},
	{"ttfb over zero skips records without", filter.Spec{TTFBOver: names("0s")}, allBut("unreachable")},

	{"since RFC 3339", filter.Spec{Since: names("2026-01-01T00:20:00Z")}, names("cancelled_stream", "upstream_timeout", "unreachable", "models", "embeddings", "binary")},
	{"since with offset", filter.Spec{Since: names("2026-01-01T01:20:00+01:00")}, names("cancelled_stream", "upstream_timeout", "unreachable", "models", "embeddings", "binary")},
	{"since no zone is UTC", filter.Spec{Since: names("2026-01-01T00:24")}, names("embeddings", "binary")},
	{"until", filter.Spec{Until: names("2026-01-01T00:02:00Z")}, names("chat", "chat_stream")},
	{"since date", filter.Spec{Since: names("2026-01-01")}, allBut()},
	{"since next day", filter.Spec{Since: names("2026-01-02")}, nil},
	{"until date", filter.Spec{Until: names("2026-01-01")}, nil},
	{"since relative", filter.Spec{Since: names("10m")}, names("cancelled_stream", "upstream_timeout", "unreachable", "models", "embeddings", "binary")},
	{"since relative days", filter.Spec{Since: names("1d")}, allBut()},
	{"since and until", filter.Spec{Since: names("2026-01-01T00:05:00Z"), Until: names("2026-01-01T00:07:00Z")}, names("chat_escaped_tool", "chat_slow_stream")},
	{"until relative", filter.Spec{Until: names("1h30m")}, nil},

	{"where number >", filter.Spec{Where: names("request.body.temperature>0.5")}, names("chat_stream")},
	{"where number <", filter.Spec{Where: names("request.body.temperature < 0.5")}, names("chat")},
	{"where bool", filter.Spec{Where: names("request.body.stream=true")}, slices.DeleteFunc(slices.Clone(streamedNames), func(s string) bool { return false })},
	{"where != bool counts missing", filter.Spec{Where: names("request.body.stream!=true")}, allBut(streamedNames...)},
	{"where header string", filter.Spec{Where: names("response.headers.x-request-id=req_fake_1")}, allBut("unreachable")},
	{"where quoted string", filter.Spec{Where: names(`request.body.model="gpt-4.1"`)}, names("chat_escaped_tool", "responses_stream", "responses_tools_stream")},
	{"where index", filter.Spec{Where: names("request.body.messages[0].role=system")}, names("chat")},
	{"where negative index", filter.Spec{Where: names("request.body.messages[-1].role=tool")}, names("chat_tool_result", "chat_escaped_tool")},
	{"where wildcard", filter.Spec{Where: names("request.body.messages.*.role=tool")}, names("chat_tool_result", "chat_escaped_tool")},
	{"where number field", filter.Spec{Where: names("response.status>=500")}, names("server_error")},
	{"where regex", filter.Spec{Where: names("request.headers.x-fake-status~^4")}, names("rate_limited")},
	{"where not regex", filter.Spec{Where: names("path!~completions")}, names("responses", "responses_stream", "responses_tools_stream", "anthropic", "anthropic_tools_stream", "anthropic_tool_result", "server_error", "not_found", "models", "embeddings", "binary")},
	{"where <=", filter.Spec{Where: names("request.body.max_tokens<=64")}, names("completions", "server_error")},
	{"where top-level number", filter.Spec{Where: names("duration_ms>100")}, slowNames},
	{"where not null", filter.Spec{Where: names("error!=null")}, errorNames},
	{"where null is missing", filter.Spec{Where: names("request.body=null")}, names("models", "binary")},
	{"where strings order", filter.Spec{Where: names("start>=2026-01-01T00:24")}, names("embeddings", "binary")},
	// Headers are strings: "86" >= "100" as strings, not as numbers.
	{"where header as number", filter.Spec{Where: names("request.headers.content-length>=100")}, names("chat", "chat_stream", "chat_tools", "chat_tools_stream", "chat_tool_result", "chat_escaped_tool", "responses_tools_stream", "anthropic", "anthropic_tools_stream", "anthropic_tool_result", "cancelled_stream")},
	{"where regex over an object", filter.Spec{Where: names("request.body~weather")}, names("chat_tools", "chat_tools_stream", "chat_tool_result", "responses_tools_stream", "anthropic_tools_stream", "anthropic_tool_result")},
	{"where jq-style dot", filter.Spec{Where: names(".error.kind=client_cancelled")}, names("cancelled_stream")},
	{"where AND", filter.Spec{Where: names("request.body.stream=true", "response.status=200", "error=null")}, names("chat_stream", "chat_tools_stream", "chat_slow_stream", "chat_gzip_stream", "responses_stream", "responses_tools_stream", "anthropic_tools_stream")},

	{"pattern", filter.Spec{Patterns: names("Paris")}, names("chat_tools", "chat_tools_stream", "chat_tool_result", "chat_escaped_tool", "responses_tools_stream", "anthropic_tools_stream", "anthropic_tool_result")},
	{"pattern regex", filter.Spec{Patterns: names(`aurora\s+bor`)}, names("chat_stream")},
	{"pattern is case-sensitive", filter.Spec{Patterns: names("HAIKU")}, nil},
	{"pattern -i", filter.Spec{Patterns: names("HAIKU"), IgnoreCase: true}, names("responses_stream")},
	{"pattern -F", filter.Spec{Patterns: names("sunny, 21 °C"), Fixed: true}, names("chat_escaped_tool")},
	{"pattern -F is literal", filter.Spec{Patterns: names("a.c"), Fixed: true}, nil},
	{"pattern -F -i", filter.Spec{Patterns: names("DRIZZLE AND"), Fixed: true, IgnoreCase: true}, names("chat_tool_result")},
	{"pattern tool result", filter.Spec{Patterns: names("fog, 9 degrees")}, names("anthropic_tool_result")},
	{"pattern streamed text reassembled", filter.Spec{Patterns: names(`Héllo wörld ☀️! You said: "Count slowly"`), Fixed: true}, names("chat_slow_stream")},
	{"pattern gzip stream", filter.Spec{Patterns: names(`wörld ☀️! You said: "Compress`)}, names("chat_gzip_stream")},
	{"pattern tool arguments", filter.Spec{Patterns: names(`"city":"Paris"`), Fixed: true}, names("chat_tools", "chat_tools_stream", "chat_tool_result", "responses_tools_stream", "anthropic_tools_stream", "anthropic_tool_result")},
	{"pattern provider error", filter.Spec{Patterns: names("Rate limit reached")}, names("rate_limited")},
	{"pattern OR", filter.Spec{Patterns: names("haiku", "aurora")}, names("chat_stream", "responses_stream")},
	{"pattern empty matches all", filter.Spec{Patterns: names("")}, allBut()},
	{"pattern not in headers", filter.Spec{Patterns: names("req_fake_1")}, nil},

	{"AND model stream", filter.Spec{Models: names("gpt-4o"), Stream: ptr(true)}, names("chat_stream", "chat_slow_stream", "aborted_stream", "upstream_timeout")},
	{"AND status error", filter.Spec{Status: names("200"), Errors: names("")}, names("aborted_stream", "cancelled_stream", "upstream_timeout")},
	{"AND model tool", filter.Spec{Models: names("gpt-4o*"), Tools: names("get_weather")}, names("chat_tools", "chat_tools_stream")},
	{"AND pattern path", filter.Spec{Patterns: names("Paris"), Paths: names("/v1/messages")}, names("anthropic_tools_stream", "anthropic_tool_result")},
	{"AND id tool", filter.Spec{IDs: names("*-000004"), Tools: names("get_weather")}, names("chat_tools_stream")},
	{"AND nothing", filter.Spec{OK: true, Errors: names("")}, nil},
}

func ptr[T any](v T) *T { return &v }

// selected runs m over lines and returns the names of the selected
// scenarios; a bad line fails the test.
func selected(t *testing.T, m *filter.Matcher, lines [][]byte) []string {
	t.Helper()
	var got []string
	for i, line := range lines {
		ok, err := m.Match(line)
		if err != nil {
			t.Fatalf("line %d (%s): %v", i+1, scenarios[i].name, err)
		}
		if ok {
			got = append(got, scenarios[i].name)
		}
	}
	return got
}

// inOrder sorts names by their scenario order.
func inOrder(ns []string) []string {
	var out []string
	for _, sc := range scenarios {
		if slices.Contains(ns, sc.name) {
			out = append(out, sc.name)
		}
	}
	return out
}

func TestFilters(t *testing.T) {
	lines := readRecords(t)
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Now = testNow
			m, err := filter.Compile(spec)
			if err != nil {
				t.Fatal(err)
			}
			got := selected(t, m, lines)
			if want := inOrder(tc.want); !slices.Equal(got, want) {
				t.Errorf("selected\n  %v\nwant\n  %v", got, want)
			}
		})
	}
}

// TestPartition checks the property: for any filter F, the lines F selects
// and the lines -v F selects split the valid lines exactly, and a bad line
// is selected by neither.
func TestPartition(t *testing.T) {
	lines := readRecords(t)
	bad := [][]byte{
		[]byte(`not json`),
		[]byte(`{"v":1,"id":"cut`),
		[]byte(`{"v":"1","id":"x"}`),
		[]byte(`[1,2]`),
		[]byte(`{"v":1, oops}`),
		[]byte(`{"id":"20260101T000400.000000Z-5eed01-000005"}`),
	}
	all := append(slices.Clone(lines), bad...)
	specs := make([]filter.Spec, 0, len(filterCases)+len(partitionExtra))
	for _, tc := range filterCases {
		specs = append(specs, tc.spec)
	}
	specs = append(specs, partitionExtra...)
	for i, spec := range specs {
		spec.Now = testNow
		m, err := filter.Compile(spec)
		if err != nil {
			t.Fatalf("spec %d: %v", i, err)
		}
		spec.Invert = true
		inv, err := filter.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		for j, line := range all {
			a, errA := m.Match(line)
			b, errB := inv.Match(line)
			valid := j < len(lines)
			switch {
			case valid && (errA != nil || errB != nil):
				t.Fatalf("spec %d, line %d: %v, %v", i, j+1, errA, errB)
			case valid && a == b:
				t.Errorf("spec %d (%+v), line %d: selected by F: %v, by -v F: %v", i, spec, j+1, a, b)
			case !valid && (a || b):
				t.Errorf("spec %d, bad line %q selected (F %v, -v F %v)", i, line, a, b)
			case !valid && errB == nil:
				t.Errorf("spec %d, bad line %q: -v F gave no error", i, line)
			}
		}
	}
}

// partitionExtra are more filters for TestPartition, beyond the table.
var partitionExtra = []filter.Spec{
	{IDs: names("20260101T000400.000000Z-5eed01-000005"), Tools: names("get_weather")},
	{Tools: names("lookup_db", "x*"), InRequest: true, Stream: ptr(false)},
	{Where: names("request.body.messages.*.content~(?i)paris", "response.body.usage.total_tokens>10")},
	{Patterns: names("[a-z]+ing"), Status: names("!=4xx"), Slower: names("1ms")},
	{Models: names("*mini*"), Since: names("15m"), Until: names("2026-01-01T00:25:00Z")},
	{Errors: names("upstream_*", "client_cancelled"), Methods: names("post")},
	{Where: names("response.headers.content-type~event-stream", "request.body.stream!=true")},
}

// TestBadLines checks that a line that is not a record is reported, and
// selected neither by a filter nor by its inverse.
func TestBadLines(t *testing.T) {
	bad := []struct {
		name, line, reason string
		// unread: a line --id and --tool may reject unread (see
		// Matcher.Match), so it is not reported without -v.
		unread bool
	}{
		{"not json", `hello`, "not JSON", false},
		{"truncated", `{"v":1,"id":"20260101T000400`, "not JSON", false},
		{"array", `[{"v":1}]`, "not a record", false},
		{"no version", `{"id":"x"}`, "not a record", false},
		{"string version", `{"v":"1"}`, "not a record", false},
		{"number", `1`, "not a record", false},
		{"two objects", `{"v":1} {"v":1}`, "not JSON", true},
		{"broken inside", `{"v":1,"id":"y",}`, "not JSON", true},
	}
	specs := []filter.Spec{{}, {Status: names("200")}, {Patterns: names("x")}, {IDs: names("x")}, {Tools: names("get_weather")}}
	for _, b := range bad {
		for _, invert := range []bool{false, true} {
			for _, spec := range specs {
				spec.Invert = invert
				m, err := filter.Compile(spec)
				if err != nil {
					t.Fatal(err)
				}
				sel, err := m.Match([]byte(b.line))
				if sel {
					t.Errorf("%s: selected with %+v", b.name, spec)
				}
				if b.unread && !invert && (spec.IDs != nil || spec.Tools != nil) {
					if err != nil {
						t.Errorf("%s with %+v: error %v, want the line skipped unread", b.name, spec, err)
					}
					continue
				}
				var bl *filter.BadLineError
				if !errors.As(err, &bl) || !strings.Contains(err.Error(), b.reason) {
					t.Errorf("%s with %+v: error %v, want %q", b.name, spec, err, b.reason)
				}
			}
		}
	}
}

// TestPrecheck pins the bytes pre-check of --id and --tool: it may skip
// the parse of a line that cannot match, but never rejects a match, even
// when the line hides the literal behind a \u escape; and with -v it is
// off, so every line is checked.
func TestPrecheck(t *testing.T) {
	tests := []struct {
		name string
		spec filter.Spec
		line string
		want bool
		bad  bool // Match reports the line as bad
	}{
		{"id literal", filter.Spec{IDs: names("abc1")}, `{"v":1,"id":"abc1"}`, true, false},
		{"id escaped", filter.Spec{IDs: names("abc1")}, `{"v":1,"id":"abc\u0031"}`, true, false},
		{"id glob escaped", filter.Spec{IDs: names("a*1")}, `{"v":1,"id":"\u0061bc1"}`, true, false},
		{"id absent", filter.Spec{IDs: names("abc1")}, `{"v":1,"id":"abc2"}`, false, false},
		{"id with a slash is never prechecked", filter.Spec{IDs: names("a/b")}, `{"v":1,"id":"a\/b"}`, true, false},
		{"id with a quote", filter.Spec{IDs: names(`a"b`)}, `{"v":1,"id":"a\"b"}`, true, false},
		{"framed broken line skipped unread", filter.Spec{IDs: names("abc1")}, `{"v":1, broken}`, false, false},
		{"framed broken line read with -v", filter.Spec{IDs: names("abc1"), Invert: true}, `{"v":1, broken}`, false, true},
		{"unframed line read", filter.Spec{IDs: names("abc1")}, `{"v":1,"id":"x"`, false, true},
		{"tool escaped in a stream", filter.Spec{Tools: names("get_weather")},
			`{"v":1,"method":"POST","path":"/v1/chat/completions","request":{"headers":{},"body":{"model":"m"},"body_encoding":"json"},"response":{"status":200,"headers":{"content-type":"text/event-stream"},"body":"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"get_\\u0077eather\",\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n","body_encoding":"text"}}`,
			true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := filter.Compile(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Match([]byte(tc.line))
			if (err != nil) != tc.bad {
				t.Fatalf("error %v, want bad=%v", err, tc.bad)
			}
			if got != tc.want {
				t.Errorf("selected %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCompileErrors checks that every bad argument is an *ArgError that
// names the flag and shows the accepted forms.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		spec filter.Spec
		want string // in the message
	}{
		{"status word", filter.Spec{Status: names("ok")}, `--status "ok": want a code (200), a class (4xx)`},
		{"status two digits", filter.Spec{Status: names("20")}, `--status "20"`},
		{"status four digits", filter.Spec{Status: names("2000")}, `--status "2000"`},
		{"status class compare", filter.Spec{Status: names(">=4xx")}, `a class (4xx) takes only = or !=`},
		{"status regex", filter.Spec{Status: names("~200")}, `--status "~200"`},
		{"status empty", filter.Spec{Status: names("")}, `--status: want a code`},
		{"status 0xx", filter.Spec{Status: names("0xx")}, `--status "0xx"`},
		{"error unknown kind", filter.Spec{Errors: names("timeout")}, `--error "timeout": unknown kind: want one of upstream_unreachable`},
		{"error glob matching none", filter.Spec{Errors: names("client_*x")}, `--error "client_*x": unknown kind`},
		{"error bad glob", filter.Spec{Errors: names("[abc")}, `--error "[abc": unterminated`},
		{"model bad glob", filter.Spec{Models: names("gpt-[4")}, `--model "gpt-[4": unterminated [ ] class: want a name or a glob`},
		{"path bad glob", filter.Spec{Paths: names("/v1/[")}, `--path "/v1/["`},
		{"id bad glob", filter.Spec{IDs: names("[")}, `--id "["`},
		{"tool bad glob", filter.Spec{Tools: names("get_[")}, `--tool "get_["`},
		{"in-request alone", filter.Spec{InRequest: true}, `--in-request: goes with --tool NAME`},
		{"method", filter.Spec{Methods: names("PO ST")}, `--method "PO ST": want an HTTP method`},
		{"method empty", filter.Spec{Methods: names("")}, `--method: want an HTTP method`},
		{"slower bare number", filter.Spec{Slower: names("500")}, `--slower "500": a number needs a unit: want a duration with a unit (250ms, 2s, 1m30s)`},
		{"faster word", filter.Spec{Faster: names("fast")}, `--faster "fast": want a duration`},
		{"ttfb negative", filter.Spec{TTFBOver: names("-1s")}, `--ttfb-over "-1s": want a duration`},
		{"since word", filter.Spec{Since: names("yesterday")}, `--since "yesterday": want an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02, UTC), or a time ago (30m, 1h, 2d)`},
		{"since bad date", filter.Spec{Since: names("2026-13-01")}, `--since "2026-13-01"`},
		{"until negative", filter.Spec{Until: names("-1h")}, `--until "-1h"`},
		{"until bad days", filter.Spec{Until: names("xd")}, `--until "xd"`},
		{"where no op", filter.Spec{Where: names("request.body.model")}, `--where "request.body.model": missing operator: want PATH OP VALUE`},
		{"where no path", filter.Spec{Where: names("=1")}, `--where "=1": missing path`},
		{"where empty", filter.Spec{Where: names("")}, `--where: missing path`},
		{"where double dot", filter.Spec{Where: names("a..b=1")}, `--where "a..b=1": empty key`},
		{"where trailing dot", filter.Spec{Where: names("a.=1")}, `empty key`},
		{"where bad bracket", filter.Spec{Where: names("a[x]=1")}, `[x] in the path: want [N] or [*]`},
		{"where open bracket", filter.Spec{Where: names("a[1=1")}, `unterminated [`},
		{"where junk after path", filter.Spec{Where: names("a b=1")}, `unexpected "b=1" after the path`},
		{"where bad regex", filter.Spec{Where: names("path~(")}, `--where "path~(": bad regular expression`},
		{"where order with bool", filter.Spec{Where: names("a<true")}, `< compares numbers or strings, not true`},
		{"where order with null", filter.Spec{Where: names("a>=null")}, `>= compares numbers or strings`},
		{"where bad quote", filter.Spec{Where: names(`a="abc`)}, `a quoted value must be one JSON string`},
		{"pattern bad regex", filter.Spec{Patterns: names("(")}, `PATTERN "(": want a Go regular expression (RE2), or -F for a fixed string`},
		{"pattern -i bad regex", filter.Spec{Patterns: names("a", "[z-a]"), IgnoreCase: true}, `PATTERN "[z-a]"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filter.Compile(tc.spec)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var ae *filter.ArgError
			if !errors.As(err, &ae) {
				t.Errorf("error %T is not an *ArgError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

// TestMatcherReuse checks that a Matcher gives the same answers when lines
// come again, in another order (no state leaks from line to line).
func TestMatcherReuse(t *testing.T) {
	lines := readRecords(t)
	m, err := filter.Compile(filter.Spec{Patterns: names("Paris"), Models: names("*")})
	if err != nil {
		t.Fatal(err)
	}
	first := selected(t, m, lines)
	rev := slices.Clone(lines)
	slices.Reverse(rev)
	var again []string
	for i, line := range rev {
		if ok, _ := m.Match(line); ok {
			again = append(again, scenarios[len(lines)-1-i].name)
		}
	}
	slices.Reverse(again)
	if !slices.Equal(first, again) {
		t.Errorf("forward %v, backward %v", first, again)
	}
}

// TestID checks Matcher.ID for selected lines, read or skipped.
func TestID(t *testing.T) {
	lines := readRecords(t)
	m, err := filter.Compile(filter.Spec{IDs: names("*-000005"), Invert: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range lines[:6] {
		sel, err := m.Match(line)
		if err != nil || sel != (i != 4) {
			t.Fatalf("line %d: %v %v", i+1, sel, err)
		}
		if want := "-00000" + string(rune('1'+i)); !strings.HasSuffix(string(m.ID(line)), want) {
			t.Errorf("line %d: id %s", i+1, m.ID(line))
		}
	}
}

// TestModelFallback checks --model on records whose request names no
// model: the model then comes from the provider's reading of the path or
// the response.
func TestModelFallback(t *testing.T) {
	tests := []struct {
		name, line, glob string
		want             bool
	}{
		{"gemini path", `{"v":1,"method":"POST","path":"/v1beta/models/gemini-2.0-flash:generateContent","request":{"headers":{"content-type":"application/json"},"body":{"contents":[{"role":"user","parts":[{"text":"hi"}]}]},"body_encoding":"json"},"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"candidates":[],"modelVersion":"gemini-2.0-flash-001"},"body_encoding":"json"}}`, "gemini-2.0-*", true},
		{"response JSON", `{"v":1,"method":"POST","path":"/v1/chat/completions","request":{"headers":{},"body":{"messages":[{"role":"user","content":"hi"}]},"body_encoding":"json"},"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"object":"chat.completion","model":"served-model-7","choices":[]},"body_encoding":"json"}}`, "served-*", true},
		{"response stream", `{"v":1,"method":"POST","path":"/v1/chat/completions","request":{"headers":{},"body":{"messages":[{"role":"user","content":"hi"}],"stream":true},"body_encoding":"json"},"response":{"status":200,"headers":{"content-type":"text/event-stream"},"body":"data: {\"model\":\"streamed-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n","body_encoding":"text"}}`, "streamed-1", true},
		{"request model wins", `{"v":1,"method":"POST","path":"/v1/chat/completions","request":{"headers":{},"body":{"model":"asked","messages":[]},"body_encoding":"json"},"response":{"status":200,"headers":{"content-type":"application/json"},"body":{"model":"served"},"body_encoding":"json"}}`, "served", false},
		{"no model anywhere", `{"v":1,"method":"GET","path":"/v1/models"}`, "*", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := filter.Compile(filter.Spec{Models: names(tc.glob)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Match([]byte(tc.line))
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
