package replay

import (
	"syscall"
	"time"
)

// prSetTimerSlack is prctl(2)'s PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// fineSleepUntil sleeps until t with nanosleep(2). The kernel lets a sleep
// end up to the thread's timer slack late (50 µs by default) to batch
// wake-ups; it is set to 1 ns on the sleeping thread first, which halves
// the median lateness (about 80 µs to 37 µs on the benchmark machine). It
// blocks its thread for at most fineSleep; the runtime lends the thread's P
// to other goroutines meanwhile.
func fineSleepUntil(t time.Time) {
	for d := time.Until(t); d > 0; d = time.Until(t) {
		// Each time: the goroutine may be on another thread now.
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
		ts := syscall.NsecToTimespec(int64(d))
		_ = syscall.Nanosleep(&ts, nil)
	}
}
