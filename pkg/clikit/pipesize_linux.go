package clikit

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// growPipe gives w, when it is a pipe of fewer than size bytes, a capacity
// of size. It is only a speed-up: a system that refuses (a lower limit, the
// user's pipe quota used up) keeps the pipe as it is.
func growPipe(w io.Writer, size int) {
	f, ok := w.(*os.File)
	if !ok {
		return
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	rc, err := f.SyscallConn() // unlike Fd, leaves the file's blocking mode alone
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < size {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
		}
	})
}
