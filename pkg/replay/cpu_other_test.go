//go:build !unix

package replay

import (
	"testing"
	"time"
)

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }

// reportCPU reports nothing where CPU time is not measured.
func reportCPU(*testing.B, time.Duration) {}
