package gctune

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// TestIdleWatch: no release at the start or while the count moves; one
// release per idle spell that follows activity.
func TestIdleWatch(t *testing.T) {
	const idle = 40 * time.Millisecond
	t0 := time.Unix(1e9, 0)
	w := newIdleWatch(idle, 0, t0)
	for i, step := range []struct {
		what  string
		at    time.Duration // since t0
		count uint64
		want  bool
	}{
		{"idle from the start", 3 * idle, 0, false},
		{"busy", 3*idle + 1, 1, false},
		{"busy, changed within idle", 3*idle + idle/2, 2, false},
		{"busy, just short of idle", 4*idle + idle/2 - 1, 2, false},
		{"idle after a burst", 4*idle + idle/2, 2, true},
		{"still idle", 10 * idle, 2, false},
		{"a second burst", 11 * idle, 3, false},
		{"idle after a second burst", 12 * idle, 3, true},
		{"idle long after", 100 * idle, 3, false},
		{"a count that goes back counts as activity", 101 * idle, 2, false},
		{"and its idle spell releases", 102 * idle, 2, true},
	} {
		if got := w.observe(t0.Add(step.at), step.count); got != step.want {
			t.Fatalf("step %d (%s): release %v, want %v", i, step.what, got, step.want)
		}
	}
}

// TestReleaseWhenIdleStops: stop returns once the watcher goroutine has
// ended, and free is not called after it.
func TestReleaseWhenIdleStops(t *testing.T) {
	var count atomic.Uint64
	var stopped atomic.Bool
	stop := releaseWhenIdle(time.Millisecond, count.Load, func() {
		if stopped.Load() {
			t.Error("free called after stop")
		}
	})
	count.Add(1)
	stop()
	stopped.Store(true)
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
