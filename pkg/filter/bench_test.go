package filter_test

import (
	"bytes"
	"testing"

	"github.com/llmtap/llmtap/pkg/filter"
)

// benchLines returns the records of testdata/records.jsonl and their size
// with newlines, for b.SetBytes.
func benchLines(b *testing.B) ([][]byte, int64) {
	lines := readRecords(b)
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	return lines, n
}

func benchSpecs(b *testing.B, specs []struct {
	name string
	spec filter.Spec
}) {
	lines, n := benchLines(b)
	for _, bc := range specs {
		b.Run(bc.name, func(b *testing.B) {
			m, err := filter.Compile(bc.spec)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				for _, l := range lines {
					if _, err := m.Match(l); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkFieldFilters measures the filters that read record fields only
// (one fastjson parse per line, no conversation). Target: 100 MB/s on one
// core.
func BenchmarkFieldFilters(b *testing.B) {
	benchSpecs(b, []struct {
		name string
		spec filter.Spec
	}{
		{"none", filter.Spec{}},
		{"status", filter.Spec{Status: []string{">=400"}}},
		{"model", filter.Spec{Models: []string{"gpt-4o*"}}},
		{"error", filter.Spec{Errors: []string{""}}},
		{"stream", filter.Spec{Stream: ptr(true)}},
		{"since", filter.Spec{Since: []string{"2026-01-01T00:10:00Z"}}},
		{"slower", filter.Spec{Slower: []string{"100ms"}}},
		{"where", filter.Spec{Where: []string{"request.body.temperature>0.5"}}},
		{"where-wildcard", filter.Spec{Where: []string{"request.body.messages.*.role=tool"}}},
		{"id-precheck", filter.Spec{IDs: []string{"20260101T001200.000000Z-5eed01-000013"}}},
		{"id-invert", filter.Spec{IDs: []string{"20260101T001200.000000Z-5eed01-000013"}, Invert: true}},
		{"several", filter.Spec{Status: []string{"200"}, Models: []string{"gpt-*"}, Stream: ptr(true), Where: []string{"request.body.stream=true"}}},
	})
}

// BenchmarkTextSearch measures the filters that read the conversation
// (provider.Parse on each line that gets that far).
func BenchmarkTextSearch(b *testing.B) {
	benchSpecs(b, []struct {
		name string
		spec filter.Spec
	}{
		{"pattern", filter.Spec{Patterns: []string{"Paris"}}},
		{"pattern-i", filter.Spec{Patterns: []string{"paris|haiku"}, IgnoreCase: true}},
		{"pattern-F", filter.Spec{Patterns: []string{"sunny, 21"}, Fixed: true}},
		{"pattern-after-status", filter.Spec{Patterns: []string{"Paris"}, Status: []string{">=400"}}},
		{"tool", filter.Spec{Tools: []string{"get_weather"}}},
		{"tool-precheck-miss", filter.Spec{Tools: []string{"send_email"}}},
		{"tool-in-request", filter.Spec{Tools: []string{"get_weather"}, InRequest: true}},
	})
}

// BenchmarkBigStream measures a pattern search over one large streamed
// record, the worst case for reassembly.
func BenchmarkBigStream(b *testing.B) {
	lines := readRecords(b)
	var line []byte
	for i, sc := range scenarios {
		if sc.name == "chat_slow_stream" {
			line = lines[i]
		}
	}
	// Repeat the stream's events to make a ~1 MB body: the record stays a
	// valid record with a longer event stream.
	start := bytes.Index(line, []byte(`"body":"data: `)) + len(`"body":"`)
	end := bytes.Index(line[start:], []byte(`data: [DONE]`)) + start
	events := line[start:end]
	var big []byte
	big = append(big, line[:start]...)
	for len(big) < 1<<20 {
		big = append(big, events...)
	}
	big = append(big, line[end:]...)
	m, err := filter.Compile(filter.Spec{Patterns: []string{"no such text"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Match(big); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(big)))
	for b.Loop() {
		_, _ = m.Match(big)
	}
}
