package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// TestScanner: what a Scanner hands on, warns about and counts, for each
// answer of the function.
func TestScanner(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := file("a.jsonl", "a1\n\n  \nbad\na3\n")
	b := file("b.jsonl", "b1\nstop\nb3\nbad")
	missing := filepath.Join(dir, "missing.jsonl")
	errWrite := errors.New("write /dev/stdout: broken pipe")

	// fn: "bad" is skipped, "skip" leaves the input, "stop" ends the scan,
	// "fail" fails with errWrite; each other line is kept.
	fn := func(got *[]string) func(rd *Reader, line []byte) error {
		return func(rd *Reader, line []byte) error {
			switch string(line) {
			case "bad":
				return Skip(errors.New("not a record"))
			case "skip":
				return SkipInput
			case "stop":
				return Stop
			case "fail":
				return errWrite
			}
			*got = append(*got, rd.Pos()+"="+string(line))
			return nil
		}
	}
	for _, tc := range []struct {
		name      string
		names     []string
		stdin     string
		want      []string // rd.Pos()=line, then "end NAME" for each EndInput
		stderr    []string // lines, with the directory replaced by DIR
		err       error
		skipped   int
		badInputs int
	}{
		{name: "stdin by default", stdin: "x\ny", want: []string{"<stdin>:1=x", "<stdin>:2=y", "end <stdin>"}},
		{name: "files and stdin in order", names: []string{a, "-"}, stdin: "x\n",
			want:   []string{"DIR/a.jsonl:1=a1", "DIR/a.jsonl:5=a3", "end DIR/a.jsonl", "<stdin>:1=x", "end <stdin>"},
			stderr: []string{"prog: DIR/a.jsonl:4: not a record"}, skipped: 1},
		{name: "a truncated last line says so", stdin: "x\nbad",
			want:   []string{"<stdin>:1=x", "end <stdin>"},
			stderr: []string{"prog: <stdin>:2: truncated last line (no newline at the end): not a record"}, skipped: 1},
		{name: "stop ends the scan after EndInput", names: []string{b, a},
			want: []string{"DIR/b.jsonl:1=b1", "end DIR/b.jsonl"}},
		{name: "skip input goes on with the next", names: []string{"-", a}, stdin: "x\nskip\ny\n",
			want:   []string{"<stdin>:1=x", "end <stdin>", "DIR/a.jsonl:1=a1", "DIR/a.jsonl:5=a3", "end DIR/a.jsonl"},
			stderr: []string{"prog: DIR/a.jsonl:4: not a record"}, skipped: 1},
		{name: "a missing file is reported and the scan goes on", names: []string{missing, "-"}, stdin: "x\n",
			want:   []string{"<stdin>:1=x", "end <stdin>"},
			stderr: []string{"prog: open DIR/missing.jsonl: no such file or directory"}, badInputs: 1},
		{name: "another error ends the scan and is returned", stdin: "x\nfail\ny\n",
			want: []string{"<stdin>:1=x"}, err: errWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var stderr bytes.Buffer
			s := Scanner{Prog: "prog", Stdin: strings.NewReader(tc.stdin), Stderr: &stderr}
			s.EndInput = func(rd *Reader) error { got = append(got, "end "+rd.Name()); return nil }
			err := s.Scan(tc.names, fn(&got))
			if err != tc.err {
				t.Errorf("err %v, want %v", err, tc.err)
			}
			for i := range got {
				got[i] = strings.ReplaceAll(got[i], dir, "DIR")
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			var lines []string
			if stderr.Len() > 0 {
				lines = strings.Split(strings.TrimSuffix(strings.ReplaceAll(stderr.String(), dir, "DIR"), "\n"), "\n")
			}
			if fmt.Sprint(lines) != fmt.Sprint(tc.stderr) {
				t.Errorf("stderr %q\nwant   %q", lines, tc.stderr)
			}
			if s.Skipped() != tc.skipped || s.Warned() != tc.skipped || s.BadInputs() != tc.badInputs {
				t.Errorf("skipped %d, warned %d, bad inputs %d; want %d, %d, %d", s.Skipped(), s.Warned(), s.BadInputs(), tc.skipped, tc.skipped, tc.badInputs)
			}
		})
	}
}

// TestScannerReadError: an input that fails mid-way is reported with its
// position, counted, and the scan goes on with the next.
func TestScannerReadError(t *testing.T) {
	var stderr bytes.Buffer
	var got []string
	s := Scanner{Prog: "prog", Stdin: iotest.TimeoutReader(strings.NewReader("x\n")), Stderr: &stderr}
	err := s.Scan([]string{"-"}, func(rd *Reader, line []byte) error { got = append(got, string(line)); return nil })
	if err != nil || s.BadInputs() != 1 || fmt.Sprint(got) != "[x]" {
		t.Errorf("err %v, bad inputs %d, got %q", err, s.BadInputs(), got)
	}
	if want := "prog: read <stdin>:2: timeout\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// TestScannerWarn: Warn reports a line that was used in part, without
// counting it as skipped.
func TestScannerWarn(t *testing.T) {
	var stderr bytes.Buffer
	s := Scanner{Prog: "prog", Stdin: strings.NewReader("x\n"), Stderr: &stderr}
	_ = s.Scan(nil, func(rd *Reader, line []byte) error { s.Warn(rd, errors.New("body not shown")); return nil })
	if stderr.String() != "prog: <stdin>:1: body not shown\n" || s.Warned() != 1 || s.Skipped() != 0 {
		t.Errorf("stderr %q, warned %d, skipped %d", stderr.String(), s.Warned(), s.Skipped())
	}
}
