package main

import (
	"os"
	"runtime"
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

// TestThreadSystemTime checks that a thread's system time grows with the
// system calls it makes, as the machine line assumes.
func TestThreadSystemTime(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadSystemTime()
	buf := make([]byte, 1<<20)
	for range 100000 {
		if threadSystemTime() != start {
			return
		}
		if _, err := f.WriteAt(buf, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("100,000 writes of 1 MiB and the thread's system time did not move")
}
