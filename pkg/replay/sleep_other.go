//go:build !linux

package replay

import "time"

// fineSleepUntil sleeps until t.
func fineSleepUntil(t time.Time) { time.Sleep(time.Until(t)) }
