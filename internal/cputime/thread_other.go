//go:build !linux

package cputime

import "time"

// ThreadSystem is not measured here: it is always 0.
func ThreadSystem() time.Duration { return 0 }
