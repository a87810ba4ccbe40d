package gctune

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// TestReleaseWhenIdle: no release at the start or while the count moves;
// one release per idle spell that follows activity.
func TestReleaseWhenIdle(t *testing.T) {
	const idle = 40 * time.Millisecond
	var count atomic.Uint64
	var releases atomic.Int32
	stop := releaseWhenIdle(idle, count.Load, func() { releases.Add(1) })
	defer stop()

	expect := func(when string, want int32) {
		t.Helper()
		if got := releases.Load(); got != want {
			t.Fatalf("%s: %d releases, want %d", when, got, want)
		}
	}
	time.Sleep(3 * idle)
	expect("idle from the start", 0)

	for range 10 { // busy for 2.5 idle spells
		count.Add(1)
		time.Sleep(idle / 4)
	}
	expect("while busy", 0)

	deadline := time.Now().Add(5 * time.Second)
	for releases.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(idle / 4)
	}
	expect("idle after a burst", 1)
	time.Sleep(3 * idle)
	expect("still idle", 1)

	count.Add(1)
	deadline = time.Now().Add(5 * time.Second)
	for releases.Load() == 1 && time.Now().Before(deadline) {
		time.Sleep(idle / 4)
	}
	expect("idle after a second burst", 2)
}

// TestReleaseWhenIdleFreesMemory: the real release hands freed heap back
// to the OS.
func TestReleaseWhenIdleFreesMemory(t *testing.T) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	released := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }

	var count atomic.Uint64
	stop := ReleaseWhenIdle(20*time.Millisecond, count.Load)
	defer stop()

	garbage := make([][]byte, 0, 64)
	for range 64 {
		garbage = append(garbage, make([]byte, 1<<20))
	}
	runtime.KeepAlive(garbage)
	garbage = nil
	runtime.GC() // the 64 MiB is free but, for now, still the process's
	before := released()
	count.Add(1)

	deadline := time.Now().Add(5 * time.Second)
	for released() < before+32<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("heap released to the OS grew by %d MiB, want at least 32", (released()-before)>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
