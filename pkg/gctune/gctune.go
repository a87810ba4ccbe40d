// Package gctune narrows the garbage collector's headroom as the live heap
// grows, for a long-running server.
//
// Go's default, GOGC=100, lets the heap reach twice what is live before it
// collects. That is cheap while the heap is small. But a proxy holding a
// thousand slow streams has tens of MB live, nearly all of it buffers that
// last as long as their streams, and doubling that doubles the process's
// memory (issue 5: 1,000 streams under 100 MB). A lower GOGC everywhere
// would make a small heap collect far more often for nothing. So after each
// collection the tuner sets GOGC to give the heap Headroom bytes to grow
// by, never more than 100% of the live heap and never less than MinPercent.
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
	// collections, while that is less than the live heap itself.
	Headroom uint64
	// MinPercent is the lowest GOGC set, which bounds the collector's work
	// when the live heap is very large.
	MinPercent int
}

// Default suits llmtap: a small heap (below 12 MiB live) keeps GOGC=100;
// past that the headroom stays at 12 MiB, down to GOGC=25 at 48 MiB. A
// thousand slow streams (about 35 MiB live) then run at GOGC=34, in 95 MB
// instead of 130 MB, for a few percent of CPU (BENCHMARKS.md).
var Default = Config{Headroom: 12 << 20, MinPercent: 25}

// Percent is the GOGC the policy gives for live bytes of live heap.
func (c Config) Percent(live uint64) int {
	if live == 0 {
		return 100
	}
	p := c.Headroom * 100 / live
	return int(min(max(p, uint64(c.MinPercent)), 100))
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
// choice stands, and Start returns nil.
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
