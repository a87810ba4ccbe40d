package main

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// TestStatFields reads this process's own /proc entry: its process group
// is the third field after "pid (comm)".
func TestStatFields(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	f := statFields(strconv.Itoa(os.Getpid()))
	if len(f) < 15 {
		t.Fatalf("%d fields, want at least 15: %q", len(f), f)
	}
	if want := strconv.Itoa(syscall.Getpgrp()); f[2] != want {
		t.Errorf("process group field %q, want %s", f[2], want)
	}
	if f := statFields("0"); f != nil {
		t.Errorf("fields of pid 0, which has no /proc entry: %q, want none", f)
	}
}

// TestRecordsOnStdout runs a child whose stdout is a lineCounter: the
// bench counts a target's records from the pipe as they come, across
// writes that split lines anywhere.
func TestRecordsOnStdout(t *testing.T) {
	c := &lineCounter{}
	p, _, err := startProcOut("printf", []string{"/bin/sh", "-c", `printf '{"a":1}\n{"b"'; printf ':2}\n'`},
		t.TempDir(), t.TempDir()+"/log", "", false, c)
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	tg := &target{records: c}
	size, lines, ok := tg.recordStats()
	if !ok || size != 16 || lines != 2 {
		t.Errorf("recordStats = %d bytes, %d lines, %v; want 16, 2, true", size, lines, ok)
	}
}
