//go:build !linux

package clikit

import "io"

// growPipe is a Linux speed-up (F_SETPIPE_SZ); elsewhere a pipe keeps its size.
func growPipe(io.Writer, int) {}
