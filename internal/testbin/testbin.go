// Package testbin builds the module's commands for tests and scripts that
// run the real binaries, as a user would: each command once per process,
// however many tests ask for it.
package testbin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// module is the import path the commands live under, so that a build
// works from any directory inside the module.
const module = "github.com/llmtap/llmtap/cmd/"

// Build builds the commands named (each cmd/NAME of this module) into dir
// with one go command, as make build does. The go command's output is in
// the error.
func Build(dir string, names ...string) error {
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, name := range names {
		args = append(args, module+name)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %v: %v\n%s", names, err, out)
	}
	return nil
}

var (
	mu     sync.Mutex // held through a build, so tests in parallel wait for it
	dir    string     // made on first use, removed by Cleanup
	failed = map[string]error{}
	built  = map[string]bool{}
)

// Dir builds the commands named, those not built yet in this process, and
// returns the directory that holds them. It skips the test under -short
// and when there is no go command (`go test` puts its own first on PATH);
// a command that does not build fails the test: a promise that cannot be
// tested must not pass.
func Dir(t testing.TB, names ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: builds and runs the binaries")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the binaries with")
	}
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		d, err := os.MkdirTemp("", "llmtap-testbin-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	var missing []string
	for _, name := range names {
		if err := failed[name]; err != nil {
			t.Fatal(err)
		}
		if !built[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		if err := Build(dir, missing...); err != nil {
			for _, name := range missing {
				failed[name] = err
			}
			t.Fatal(err)
		}
		for _, name := range missing {
			built[name] = true
		}
	}
	return dir
}

// Path builds the command named, if not built yet, and returns its path.
func Path(t testing.TB, name string) string {
	t.Helper()
	return Paths(t, name)[0]
}

// Paths builds the commands named, those not built yet, with one go
// command, and returns their paths in the same order.
func Paths(t testing.TB, names ...string) []string {
	t.Helper()
	dir := Dir(t, names...)
	paths := make([]string, len(names))
	for i, name := range names {
		paths[i] = filepath.Join(dir, name)
	}
	return paths
}

// Cleanup removes what Dir built. A TestMain calls it after the tests
// have run; clitest.Main does.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	dir = ""
	clear(built)
	clear(failed)
}

// ListenURL reads the first line llmtap writes on stderr, "llmtap:
// listening on URL", and returns the URL. The rest of stderr is copied to
// rest in the background (io.Discard drops it), so llmtap never blocks on a
// full pipe.
func ListenURL(stderr io.Reader, rest io.Writer) (string, error) {
	br := bufio.NewReader(stderr)
	line, err := br.ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "llmtap: listening on ")
	if err != nil || !ok {
		return "", fmt.Errorf("llmtap's first stderr line: %q, want llmtap: listening on URL (%v)", line, err)
	}
	go func() { _, _ = io.Copy(rest, br) }()
	return url, nil
}

// ExitStatus is the exit status of a command that ran, from the error its
// Run or Wait returned (0 for none), or the error that kept it from
// running. A command killed by a signal has status -1.
func ExitStatus(err error) (int, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return 0, err
}
