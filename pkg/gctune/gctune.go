// Package gctune narrows the garbage collector's headroom as the live heap
// grows, for a long-running server.
//
// Go's default, GOGC=100, lets the heap reach twice what is live before it
// collects. A proxy holding a thousand slow streams has tens of MB live,
// nearly all of it buffers that last as long as their streams, and doubling
// that doubles the process's memory.
// A proxy under plain load has 1–2 MB live and allocates fast, so GOGC=100
// (a 4 MB heap) collects it some 60 times a second, each with its pauses.
// So after each collection the tuner sets GOGC to give the heap Headroom
// bytes to grow by, within MinPercent and MaxPercent of the live heap.
package gctune

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Config is the policy. The zero value is not usable; see Default.
type Config struct {
	// Headroom is how far the heap may grow past the live heap between
	// collections.
	Headroom uint64
	// MinPercent is the lowest GOGC set, which bounds the collector's work
	// when the live heap is very large.
	MinPercent int
	// MaxPercent is the highest GOGC set. The runtime's smallest heap goal
	// is 4 MB × GOGC/100, so this also bounds the heap of a process with
	// almost nothing live. Zero: 100, Go's default.
	MaxPercent int
}

// Default returns the policy that suits llmtap: the heap may grow 12 MiB past
// what is live. Under plain load (1–2 MiB live) that is GOGC=300, a heap of
// 12 MB; a thousand slow streams (about 35 MiB live) run at GOGC=34, in
// 95 MB instead of 130 MB; GOGC never goes below 25, reached at 48 MiB
// (BENCHMARKS.md has the runs).
func Default() Config {
	return Config{Headroom: 12 << 20, MinPercent: 25, MaxPercent: 300}
}

// Percent is the GOGC the policy gives for live bytes of live heap.
func (c Config) Percent(live uint64) int {
	hi := uint64(c.MaxPercent)
	if hi == 0 {
		hi = 100
	}
	if live == 0 {
		return int(hi)
	}
	p := c.Headroom * 100 / live
	return int(min(max(p, uint64(c.MinPercent)), hi))
}

// Tuner adjusts GOGC after every collection until stopped.
type Tuner struct {
	cfg     Config
	sample  []metrics.Sample
	mu      sync.Mutex // serializes adjust with Stop
	percent int        // the GOGC last set
	stopped atomic.Bool
	prior   int // GOGC before Start
}

// Start begins tuning, unless GOGC is set in the environment: the user's
// choice stands, and Start returns nil. GOMEMLIMIT does not stop it: the
// runtime collects when the heap reaches either the goal GOGC sets or the
// memory limit, so a limit stays a ceiling over the tuned heap.
func Start(cfg Config) *Tuner {
	if _, set := os.LookupEnv("GOGC"); set {
		return nil
	}
	t := &Tuner{
		cfg:     cfg,
		sample:  []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
		percent: 100,
		prior:   debug.SetGCPercent(100),
	}
	t.arm()
	return t
}

// arm asks to be called after the next collection: a sentinel object that
// nothing refers to is collected by it, and its cleanup runs then.
func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) { t.afterGC() }, t)
}

// sentinel is big enough not to share a tiny-allocator block, whose
// objects may never be collected one by one.
type sentinel [32]byte

func (t *Tuner) afterGC() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped.Load() {
		return
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		if p := t.cfg.Percent(t.sample[0].Value.Uint64()); p != t.percent {
			t.percent = p
			debug.SetGCPercent(p)
		}
	}
	t.arm()
}

// Percent is the GOGC the tuner last set.
func (t *Tuner) Percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// Stop ends tuning and puts back the GOGC there was before Start.
func (t *Tuner) Stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped.Store(true)
	debug.SetGCPercent(t.prior)
}
