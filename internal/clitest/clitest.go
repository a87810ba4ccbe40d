// Package clitest runs the command-line promises of the llmtap tools,
// written as testscript files, one .txtar per behaviour, under each
// command's testdata/script/. The test binary doubles as the tool: a
// script's `exec llmmd` runs the real main in a process of its own, so the
// exit status, stdout and stderr are what a user gets.
//
// Besides testscript's own commands, scripts have:
//
//	exits N PROG [ARGS...]       run PROG as exec does, and check that it exits with status N
//	brokenpipe N PROG [ARGS...]  run PROG with a stdout whose reader has already gone
//	                             (PROG | head), and check that it exits with status N;
//	                             its stderr is then what `stderr` checks
//	waitfor FILE                 wait until FILE exists: a point to synchronise with a
//	                             command started with &, never a measure of time
//	signal SIG                   send SIGHUP, SIGINT or SIGTERM (HUP, INT, TERM) to the
//	                             commands started with &
package clitest

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/llmtap/llmtap/internal/testbin"
)

// Main is a command package's TestMain: it makes the test binary act as
// the tool named name, running main, when a script runs name. It does not
// return. m may wrap a *testing.M to set up and clean up around its Run.
// The binaries the tests built with testbin are removed after the run.
func Main(m testscript.TestingM, name string, main func()) {
	testscript.Main(cleanup{m}, map[string]func(){name: main})
}

// cleanup removes the binaries testbin built once the tests have run.
type cleanup struct{ m testscript.TestingM }

func (c cleanup) Run() int {
	defer testbin.Cleanup()
	return c.m.Run()
}

// Run runs every testdata/script/*.txtar of the calling package, each as
// a parallel subtest.
func Run(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":      exits,
			"brokenpipe": brokenPipe,
			"waitfor":    waitFor,
			"signal":     sendSignal,
		},
	})
}

// exits runs a program and checks its exact exit status: `! exec` only
// tells zero from non-zero, and the tools promise 1 and 2 for different
// things.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	want, prog := statusArgs(ts, neg, "exits", args)
	got, err := testbin.ExitStatus(ts.Exec(prog, args[2:]...))
	ts.Check(err)
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", prog, got, want)
	}
}

// brokenPipe runs a program whose stdout is a pipe with no reader left.
func brokenPipe(ts *testscript.TestScript, neg bool, args []string) {
	want, prog := statusArgs(ts, neg, "brokenpipe", args)
	path, err := exec.LookPath(prog)
	ts.Check(err)
	r, w, err := os.Pipe()
	ts.Check(err)
	ts.Check(r.Close()) // the reader goes away before the first write
	defer w.Close()
	var stderr strings.Builder
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = []string{"PATH=" + ts.Getenv("PATH"), "HOME=" + ts.Getenv("HOME"), "TMPDIR=" + ts.Getenv("TMPDIR")}
	cmd.Stdout, cmd.Stderr = w, &stderr
	got, err := testbin.ExitStatus(cmd.Run())
	ts.Check(err)
	_, _ = ts.Stderr().Write([]byte(stderr.String()))
	if got != want {
		ts.Fatalf("%s with a broken stdout pipe exited with status %d (-1: killed by a signal), want %d", prog, got, want)
	}
}

// statusArgs parses "N PROG ...".
func statusArgs(ts *testscript.TestScript, neg bool, name string, args []string) (int, string) {
	if neg {
		ts.Fatalf("%s states the exit status: no ! before it", name)
	}
	if len(args) < 2 {
		ts.Fatalf("usage: %s STATUS PROG [ARGS...]", name)
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("%s: status %q is not a number", name, args[0])
	}
	return want, args[1]
}

// waitForLimit only keeps a broken script from hanging until the test
// binary's own timeout; a script that passes never comes near it.
const waitForLimit = time.Minute

// waitFor waits until a file exists.
func waitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(waitForLimit)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within %v", args[0], waitForLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendSignal signals every command started with &.
func sendSignal(ts *testscript.TestScript, neg bool, args []string) {
	sig, ok := map[string]os.Signal{"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM}[strings.Join(args, " ")]
	if neg || !ok {
		ts.Fatalf("usage: signal HUP|INT|TERM")
	}
	cmds := ts.BackgroundCmds()
	if len(cmds) == 0 {
		ts.Fatalf("signal: no command started with &")
	}
	for _, cmd := range cmds {
		ts.Check(cmd.Process.Signal(sig))
	}
}
