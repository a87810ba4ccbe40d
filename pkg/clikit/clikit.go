// Package clikit holds the command-line pieces the llmtap tools share: the
// version flag, exit codes, the kong options that keep usage errors at exit
// status 2 with usage on stderr, and value types for sizes and timeouts. It
// is the only package under pkg/ that imports kong, and it knows no tool's
// flags.
package clikit

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// Exit codes shared by the tools (grep's convention for 0, 1 and 2).
const (
	ExitOK      = 0
	ExitFailure = 1 // something went wrong, or (llmgrep) nothing matched
	ExitUsage   = 2 // bad flags or arguments
)

// kongUsageError is the status kong exits with on a usage error.
const kongUsageError = 80

// CheckInputs checks, before any is read, that every input file given is
// there and not a directory (- is stdin), so a tool fails with a usage error
// (status 2) rather than half-way through. Kong's type:"existingfile" would
// make each path absolute, and warnings should name a file as the user
// gave it.
func CheckInputs(files []string) error {
	for _, f := range files {
		if f == "-" {
			continue
		}
		if info, err := os.Stat(f); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // "stat" is no news to the user
			}
			return fmt.Errorf("%s: %w", f, err)
		} else if info.IsDir() {
			return fmt.Errorf("%s: is a directory", f)
		}
	}
	return nil
}

// Common is embedded in every tool's flags.
type Common struct {
	Version kong.VersionFlag `help:"Print the version and exit."`
}

// Options returns the kong options every tool uses: its name, description
// and version, usage errors mapped to exit status 2, and help on stdout only
// when asked for with --help (never on an error, where it would feed the
// next command in a pipe).
func Options(name, description, version string, stdout, stderr io.Writer, exit func(int)) []kong.Option {
	return []kong.Option{
		kong.Name(name),
		kong.Description(description),
		kong.Vars{"version": name + " " + version},
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) {
			if code == kongUsageError {
				code = ExitUsage
			}
			exit(code)
		}),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	}
}

// Parse parses os.Args into cli with Options, exiting on --help, --version
// or a usage error.
func Parse(cli any, name, description, version string) {
	if status, stop := ParseArgs(cli, name, description, version, os.Args[1:], os.Stdout, os.Stderr, nil); stop {
		os.Exit(status)
	}
}

// exitCode carries an exit status out of kong (--help, --version, a usage
// error) to ParseArgs.
type exitCode int

// ParseArgs parses args into cli with Options, writing help and errors to
// stdout and stderr. stop is true when the tool must end with status
// without running: after --help or --version (0), or on any parse error,
// including a bad value in an environment variable (ExitUsage, with
// "NAME: error: …" on stderr). reorder, if set, may rearrange args with the
// parsed flag model first (llmgrep takes flags after files, as grep does).
func ParseArgs(cli any, name, description, version string, args []string, stdout, stderr io.Writer,
	reorder func(*kong.Kong, []string) []string) (status int, stop bool) {
	defer func() {
		switch e := recover().(type) {
		case nil:
		case exitCode:
			status, stop = int(e), true
		default:
			panic(e)
		}
	}()
	parser, err := kong.New(cli, Options(name, description, version, stdout, stderr, func(code int) { panic(exitCode(code)) })...)
	if err != nil {
		panic(err) // a mistake in the flag struct itself, not in the user's input
	}
	if reorder != nil {
		args = reorder(parser, args)
	}
	if _, err := parser.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
		return ExitUsage, true
	}
	return ExitOK, false
}

// Bytes is a size flag: a plain number of bytes or a number with a unit
// (KB, MB, GB for powers of ten; KiB, MiB, GiB, and K, M, G for powers of two).
type Bytes int64

// UnmarshalText parses a size such as 64MiB.
func (b *Bytes) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := map[string]int64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1000,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1000 * 1000,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1000 * 1000 * 1000,
	}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("invalid size %q: want a number of bytes, or one with a unit such as 512KiB, 64MiB or 1GB", s)
	}
	*b = Bytes(n * mult)
	return nil
}

// Seconds is a duration flag that also takes a bare number of seconds, as the
// original script's --upstream-timeout did: 300, 2.5, 300s and 5m are valid.
type Seconds time.Duration

// UnmarshalText parses a duration, or a number of seconds.
func (s *Seconds) UnmarshalText(text []byte) error {
	str := strings.TrimSpace(string(text))
	if f, err := strconv.ParseFloat(str, 64); err == nil {
		if f < 0 {
			return fmt.Errorf("invalid duration %q: must not be negative", str)
		}
		// NaN, Inf and huge numbers would convert to a meaningless (even
		// negative) Duration; time.ParseDuration rejects its overflows too.
		d := f * float64(time.Second)
		if !(d < math.MaxInt64) {
			return fmt.Errorf("invalid duration %q: want seconds (300) or a duration (300s, 5m, 1h30m)", str)
		}
		*s = Seconds(d)
		return nil
	}
	d, err := time.ParseDuration(str)
	if err != nil || d < 0 {
		return fmt.Errorf("invalid duration %q: want seconds (300) or a duration (300s, 5m, 1h30m)", str)
	}
	*s = Seconds(d)
	return nil
}

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }
