// Package cputime measures the CPU time a benchmark uses: on a machine
// shared with other work, wall-clock ns/op swing with the load, CPU time
// much less.
package cputime

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Report adds the CPU time per operation since start (a Self reading) to
// b's results, as cpu-ns/op. Where CPU time is not measured it reports
// nothing.
func Report(b *testing.B, start time.Duration) {
	if !measured {
		return
	}
	b.ReportMetric(float64(Self()-start)/float64(b.N), "cpu-ns/op")
}

// LoadAverage is the machine's one-minute load average as /proc/loadavg
// gives it, to print beside a measurement: how much the CPU was shared
// while it ran. "unknown" where there is no such file.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
