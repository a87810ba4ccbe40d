package cputime

import (
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name.
const rusageThread = 1

// ThreadSystem is the system CPU time the calling OS thread has used; the
// caller locks its goroutine to the thread (runtime.LockOSThread) for
// readings that mean anything. Zero when it cannot be read.
func ThreadSystem() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Stime.Nano())
}
