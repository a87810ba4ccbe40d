package records_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/llmtap/llmtap/pkg/records"
)

// TestScanner: each record reaches the function as a view, a line that is
// not one is skipped with one warning naming its line, and the count says
// how many were.
func TestScanner(t *testing.T) {
	in := strings.Join([]string{
		`{"v":1,"id":"a","response":{"status":200}}`,
		`not json`,
		``,
		`{"id":"no version"}`,
		`[1,2]`,
		`{"v":2,"id":"b","future":true}`,
		`{"v":1,"id":"c"`,
	}, "\n")
	var stderr bytes.Buffer
	var ids []string
	s := records.Scanner{Scanner: jsonl.Scanner{Prog: "llmstat", Stdin: strings.NewReader(in), Stderr: &stderr}}
	err := s.Scan(nil, func(rd *jsonl.Reader, v record.View) error {
		ids = append(ids, fmt.Sprintf("%s:%s", rd.Pos(), v.ID()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[<stdin>:1:a <stdin>:6:b]"; fmt.Sprint(ids) != want {
		t.Errorf("records %v, want %s", ids, want)
	}
	if s.Skipped() != 4 {
		t.Errorf("skipped %d, want 4", s.Skipped())
	}
	warnings := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	for i, prefix := range []string{
		"llmstat: <stdin>:2: not JSON: ",
		"llmstat: <stdin>:4: not a record",
		"llmstat: <stdin>:5: not a record",
		"llmstat: <stdin>:7: truncated last line (no newline at the end): not JSON: ",
	} {
		if i >= len(warnings) || !strings.HasPrefix(warnings[i], prefix) {
			t.Errorf("warning %d: want prefix %q; stderr:\n%s", i+1, prefix, stderr.String())
		}
	}
	if len(warnings) != 4 {
		t.Errorf("%d warnings, want 4", len(warnings))
	}
}
