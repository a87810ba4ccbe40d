// Package cputime measures the CPU time a benchmark uses: on a machine
// shared with other work, wall-clock ns/op swing with the load, CPU time
// much less.
package cputime

import (
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
