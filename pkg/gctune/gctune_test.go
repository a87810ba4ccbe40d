package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 300},
		{1 * mib, 300},
		{4 * mib, 300},
		{6 * mib, 200},
		{12 * mib, 100},
		{16 * mib, 75},
		{24 * mib, 50},
		{48 * mib, 25},
		{500 * mib, 25},
	} {
		if got := Default().Percent(tc.live); got != tc.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}

// TestTunerFollowsTheHeap: with a large live heap the tuner lowers GOGC
// after a collection, and raises it again, to its maximum, once the heap is
// small.
func TestTunerFollowsTheHeap(t *testing.T) {
	unsetenv(t, "GOGC")
	tuner := Start(Config{Headroom: 4 << 20, MinPercent: 25, MaxPercent: 200})
	if tuner == nil {
		t.Fatal("Start returned nil with GOGC unset")
	}
	defer tuner.Stop()

	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20)) // 64 MiB live
	}
	waitPercent(t, tuner, 25)
	runtime.KeepAlive(live)
	live = nil
	waitPercent(t, tuner, 200)
}

func waitPercent(t *testing.T, tuner *Tuner, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for tuner.Percent() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d, want %d", tuner.Percent(), want)
		}
		runtime.GC()
		time.Sleep(time.Millisecond) // cleanups run on their own goroutine
	}
	if got := debug.SetGCPercent(want); got != want {
		t.Errorf("the runtime's GOGC is %d, the tuner says %d", got, want)
	}
}

func TestUserGOGCStands(t *testing.T) {
	t.Setenv("GOGC", "200")
	if tuner := Start(Default()); tuner != nil {
		tuner.Stop()
		t.Fatal("Start tuned with GOGC set")
	}
}

// TestGOMEMLIMITKeepsTuning: a memory limit is a ceiling over the tuned
// heap, not a reason to stop tuning.
func TestGOMEMLIMITKeepsTuning(t *testing.T) {
	unsetenv(t, "GOGC")
	t.Setenv("GOMEMLIMIT", "1GiB")
	tuner := Start(Default())
	if tuner == nil {
		t.Fatal("Start did not tune with GOMEMLIMIT set")
	}
	tuner.Stop()
}

func TestStopRestores(t *testing.T) {
	unsetenv(t, "GOGC")
	before := debug.SetGCPercent(77)
	defer debug.SetGCPercent(before)
	tuner := Start(Config{Headroom: 1, MinPercent: 30, MaxPercent: 100})
	runtime.GC()
	waitPercent(t, tuner, 30)
	tuner.Stop()
	if got := debug.SetGCPercent(77); got != 77 {
		t.Errorf("after Stop GOGC is %d, want 77", got)
	}
	tuner.afterGC() // what a collection's cleanup runs; it must see Stop
	if got := debug.SetGCPercent(77); got != 77 {
		t.Errorf("a collection after Stop changed GOGC to %d", got)
	}
}
