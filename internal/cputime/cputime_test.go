package cputime

import "testing"

// TestSelfGrows checks that work shows as CPU time where it is measured.
func TestSelfGrows(t *testing.T) {
	if !measured {
		t.Skip("CPU time is not measured here")
	}
	start := Self()
	x := 0
	for i := 0; Self() == start; i++ {
		x += i // spins until the clock ticks; getrusage has a fine grain
	}
	_ = x
}
