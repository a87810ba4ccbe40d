//go:build race

package main

// raceEnabled: this test binary runs under the race detector, so the soak
// builds llmtap with it too.
const raceEnabled = true
