//go:build !linux

package main

import (
	"os"
	"testing"
)

// pipeBuffer is the capacity of the pipe f reads: where llmtap cannot grow
// a pipe, at most 16 pages (macOS grows a busy pipe up to 64 KiB).
func pipeBuffer(*testing.T, *os.File) int { return 16 * os.Getpagesize() }
