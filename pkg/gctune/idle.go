package gctune

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// ReleaseWhenIdle returns the memory the runtime holds beyond the live heap
// to the OS once activity has reported the same count for idle, and again
// after each later burst. After a burst of work the runtime keeps the heap
// of its busiest moment and gives it back only over minutes; a proxy that
// sits idle between runs should shrink back near its starting size. It
// costs one forced collection per idle spell. The returned func stops it.
func ReleaseWhenIdle(idle time.Duration, activity func() uint64) (stop func()) {
	return releaseWhenIdle(idle, activity, release)
}

// release frees what sync.Pools hold (it survives one collection, in the
// pools' victim caches, and goes with the second) and returns all free
// memory to the OS.
func release() {
	runtime.GC()
	debug.FreeOSMemory()
}

func releaseWhenIdle(idle time.Duration, activity func() uint64, free func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(max(idle/10, time.Millisecond))
		defer tick.Stop()
		w := newIdleWatch(idle, activity(), time.Now())
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				if w.observe(now, activity()) {
					free()
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// idleWatch decides when to release, from the activity count seen at each
// tick: once per idle spell that follows a change, never at the start.
type idleWatch struct {
	idle     time.Duration
	last     uint64    // the count last seen
	changed  time.Time // when it last changed
	released bool      // already released since it changed
}

func newIdleWatch(idle time.Duration, count uint64, now time.Time) *idleWatch {
	return &idleWatch{idle: idle, last: count, changed: now, released: true} // nothing to give back yet
}

// observe takes the count at now and reports whether to release.
func (w *idleWatch) observe(now time.Time, count uint64) bool {
	if count != w.last {
		w.last, w.changed, w.released = count, now, false
		return false
	}
	if w.released || now.Sub(w.changed) < w.idle {
		return false
	}
	w.released = true
	return true
}
