package clikit

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func pipeSize(t *testing.T, f *os.File) int {
	t.Helper()
	n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// canGrowPipes skips the test where this process may not have a pipe of
// outputPipeSize (a lower fs.pipe-max-size, or the user's pipe quota used
// up), where growPipe leaves pipes as they are.
func canGrowPipes(t *testing.T) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, outputPipeSize); err != nil {
		t.Skipf("this system refuses a pipe of %d bytes: %v", outputPipeSize, err)
	}
}

// TestOutputPipeGrows: a tool's output that is a pipe, its stdout or a
// named pipe given as the output path, gets outputPipeSize.
func TestOutputPipeGrows(t *testing.T) {
	canGrowPipes(t)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if n := pipeSize(t, w); n >= outputPipeSize {
		t.Fatalf("a new pipe already holds %d bytes; the test proves nothing", n)
	}
	if _, err := OpenOutput("-", w)(); err != nil {
		t.Fatal(err)
	}
	if n := pipeSize(t, w); n != outputPipeSize {
		t.Errorf("stdout pipe: %d bytes after OpenOutput; want %d", n, outputPipeSize)
	}

	fifo := filepath.Join(t.TempDir(), "records")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	out, err := OpenOutput(fifo, nil)()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if n := pipeSize(t, out.(*os.File)); n != outputPipeSize {
		t.Errorf("named pipe: %d bytes after OpenOutput; want %d", n, outputPipeSize)
	}
}

// TestOutputPipeNeverShrinks: a pipe already larger, which its reader
// asked for, keeps its size.
func TestOutputPipeNeverShrinks(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	const larger = 256 << 10
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, larger); err != nil {
		t.Skip("this system refuses a larger pipe:", err)
	}
	growPipe(w, larger/2)
	if n := pipeSize(t, w); n != larger {
		t.Errorf("%d bytes after growPipe; want %d", n, larger)
	}
}
