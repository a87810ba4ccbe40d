package clikit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    Bytes
		wantErr bool
	}{
		{in: "1000", want: 1000},
		{in: "0", want: 0},
		{in: "64MiB", want: 64 << 20},
		{in: "64mib", want: 64 << 20},
		{in: "64M", want: 64 << 20},
		{in: "64MB", want: 64_000_000},
		{in: "1GB", want: 1_000_000_000},
		{in: "1GiB", want: 1 << 30},
		{in: "1G", want: 1 << 30},
		{in: "512k", want: 512 << 10},
		{in: "512KiB", want: 512 << 10},
		{in: "512kb", want: 512_000},
		{in: "100B", want: 100},
		{in: " 2 MiB ", want: 2 << 20},
		{in: "", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "-1MiB", wantErr: true},
		{in: "1.5MB", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "10XB", wantErr: true},
		{in: "64 MiB extra", wantErr: true},
		{in: "99999999999GB", wantErr: true},       // overflows int64
		{in: "9223372036854775807", wantErr: true}, // above the 1<<62 cap
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b := Bytes(-7)
			err := b.UnmarshalText([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("UnmarshalText(%q) = %d, want an error", tt.in, b)
				}
				if !strings.Contains(err.Error(), "invalid size") {
					t.Errorf("error %q does not say what is wrong", err)
				}
				if b != -7 {
					t.Errorf("a failed parse changed the value to %d", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.in, err)
			}
			if b != tt.want {
				t.Errorf("UnmarshalText(%q) = %d, want %d", tt.in, b, tt.want)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "300", want: 300 * time.Second},
		{in: "2.5", want: 2500 * time.Millisecond},
		{in: "0", want: 0},
		{in: "300s", want: 300 * time.Second},
		{in: "5m", want: 5 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "200ms", want: 200 * time.Millisecond},
		{in: " 10 ", want: 10 * time.Second},
		{in: "-1", wantErr: true},
		{in: "-5s", wantErr: true},
		{in: "junk", wantErr: true},
		{in: "", wantErr: true},
		{in: "5 minutes", wantErr: true},
		// Numbers that a float parses but no Duration can hold.
		{in: "NaN", wantErr: true},
		{in: "inf", wantErr: true},
		{in: "1e300", wantErr: true},
		{in: "9999999999999", wantErr: true}, // about 317,000 years
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s := Seconds(-7)
			err := s.UnmarshalText([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("UnmarshalText(%q) = %v, want an error", tt.in, s.Duration())
				}
				if !strings.Contains(err.Error(), "invalid duration") {
					t.Errorf("error %q does not say what is wrong", err)
				}
				if s != -7 {
					t.Errorf("a failed parse changed the value to %v", s.Duration())
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalText(%q): %v", tt.in, err)
			}
			if s.Duration() != tt.want {
				t.Errorf("UnmarshalText(%q) = %v, want %v", tt.in, s.Duration(), tt.want)
			}
		})
	}
}

// exited is what the test exit function panics with.
type exited struct{ code int }

// TestOptions checks the kong options every tool shares: usage errors exit 2
// with the message on stderr and nothing on stdout, --help and --version go
// to stdout with exit 0, and Bytes and Seconds work as flag types with
// defaults.
func TestOptions(t *testing.T) {
	type flags struct {
		Common
		Size    Bytes   `default:"64MiB" help:"A size."`
		Timeout Seconds `default:"300" help:"A timeout."`
		Name    string  `required:"" help:"A name."`
	}
	parse := func(t *testing.T, args ...string) (f flags, stdout, stderr string, code int) {
		t.Helper()
		var out, errb bytes.Buffer
		code = -1
		parser, err := kong.New(&f, Options("tool", "A tool.", "1.2.3", &out, &errb, func(c int) { panic(exited{c}) })...)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					e, ok := r.(exited)
					if !ok {
						panic(r)
					}
					code = e.code
				}
			}()
			_, err := parser.Parse(args)
			parser.FatalIfErrorf(err)
		}()
		return f, out.String(), errb.String(), code
	}

	t.Run("defaults", func(t *testing.T) {
		f, out, errs, code := parse(t, "--name", "x")
		if code != -1 || out != "" || errs != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
		if f.Size != 64<<20 || f.Timeout.Duration() != 300*time.Second {
			t.Errorf("defaults: size %d, timeout %v", f.Size, f.Timeout.Duration())
		}
	})
	t.Run("values", func(t *testing.T) {
		f, _, _, code := parse(t, "--name", "x", "--size", "1GB", "--timeout", "2.5")
		if code != -1 || f.Size != 1_000_000_000 || f.Timeout.Duration() != 2500*time.Millisecond {
			t.Errorf("exit %d, size %d, timeout %v", code, f.Size, f.Timeout.Duration())
		}
	})
	for _, args := range [][]string{
		{},                                  // missing required flag
		{"--name", "x", "--bogus"},          // unknown flag
		{"--name", "x", "--size", "lots"},   // bad Bytes
		{"--name", "x", "--timeout", "-1"},  // bad Seconds
		{"--name", "x", "extra-positional"}, // unexpected argument
	} {
		t.Run("usage error "+strings.Join(args, " "), func(t *testing.T) {
			_, out, errs, code := parse(t, args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if out != "" {
				t.Errorf("stdout should be empty, got %q", out)
			}
			if !strings.HasPrefix(errs, "tool: error: ") {
				t.Errorf("stderr %q, want a one-line error", errs)
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		_, out, errs, code := parse(t, "--help")
		if code != ExitOK || errs != "" {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
		for _, want := range []string{"Usage: tool", "A tool.", "--size", "--timeout", "--name", "--version"} {
			if !strings.Contains(out, want) {
				t.Errorf("help does not mention %q:\n%s", want, out)
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		_, out, errs, code := parse(t, "--version")
		if code != ExitOK || errs != "" || out != "tool 1.2.3\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
}

func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "r.jsonl")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		files   []string
		wantErr string // "" for none
	}{
		{name: "none", files: nil},
		{name: "stdin", files: []string{"-"}},
		{name: "file and stdin", files: []string{file, "-"}},
		{name: "missing", files: []string{file, filepath.Join(dir, "gone.jsonl")}, wantErr: "gone.jsonl"},
		{name: "directory", files: []string{dir}, wantErr: dir + ": is a directory"},
		{name: "first bad named", files: []string{dir, filepath.Join(dir, "gone.jsonl")}, wantErr: "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckInputs(tt.files)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}
