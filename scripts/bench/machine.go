package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/llmtap/llmtap/internal/cputime"
)

// machineWriteCost says what writing a byte costs the kernel here: to a new
// file in dir and into a pipe. Records cost the tap what their bytes cost
// wherever they go; on a VM whose free memory goes back to the host (a
// balloon with free page reporting), every page a growing file takes
// faults in from the host, and a file then costs several times a pipe.
func machineWriteCost(dir string) string {
	const total = 128 << 20
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte('a' + i%26)
	}
	writeAll := func(w io.Writer) time.Duration {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := cputime.ThreadSystem()
		for n := 0; n < total; n += len(buf) {
			if _, err := w.Write(buf); err != nil {
				return -1
			}
		}
		return cputime.ThreadSystem() - start
	}
	perMB := func(d time.Duration) string {
		if d < 0 {
			return "(failed)"
		}
		return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/(total>>20))
	}

	f, err := os.CreateTemp(dir, "machine-*")
	if err != nil {
		return "machine    " + err.Error()
	}
	toFile := writeAll(f)
	f.Close()
	os.Remove(f.Name())

	r, w, err := os.Pipe()
	if err != nil {
		return "machine    " + err.Error()
	}
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, r); close(done) }()
	toPipe := writeAll(w)
	w.Close()
	<-done
	r.Close()
	return fmt.Sprintf("machine    kernel CPU per MB written by one thread: to a new file in %s %s, into a pipe %s (load average %s)",
		dir, perMB(toFile), perMB(toPipe), cputime.LoadAverage())
}
