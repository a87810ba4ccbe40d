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
// sits idle between runs should shrink back near its starting size (issue
// 5). It costs one forced collection per idle spell. The returned func stops
// it.
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
		last, changed, released := activity(), time.Now(), true // nothing to give back yet
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				if n := activity(); n != last {
					last, changed, released = n, now, false
				} else if !released && now.Sub(changed) >= idle {
					free()
					released = true
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
