package replay

import (
	"syscall"
	"time"
)

// fineSleepUntil sleeps until t with nanosleep(2), whose precision is the
// kernel's timer slack (50 µs by default), not the runtime timers'
// millisecond. It blocks its thread for at most fineSleep; the runtime
// lends the thread's P to other goroutines meanwhile.
func fineSleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		ts := syscall.NsecToTimespec(int64(d))
		_ = syscall.Nanosleep(&ts, nil)
	}
}
