package cputime

import (
	"os"
	"runtime"
	"testing"
)

// TestSelfGrows checks that work shows as CPU time where it is measured.
func TestSelfGrows(t *testing.T) {
	if !measured {
		t.Skip("CPU time is not measured here")
	}
	start := Self()
	x := 0
	for i := 0; Self() == start; i++ {
		x += i // spins until the clock ticks; getrusage has a fine grain
	}
	_ = x
}

// TestThreadSystem: a thread's system time grows with the system calls it
// makes, as the bench's machine line assumes.
func TestThreadSystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ThreadSystem is Linux's")
	}
	f, err := os.Create(t.TempDir() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := ThreadSystem()
	buf := make([]byte, 1<<20)
	for range 100000 {
		if ThreadSystem() != start {
			return
		}
		if _, err := f.WriteAt(buf, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("100,000 writes of 1 MiB and the thread's system time did not move")
}
