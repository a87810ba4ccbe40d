package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one child process, started in its own process group so that a
// whole tree (nginx master and workers) can be measured and killed at once.
type proc struct {
	name    string
	cmd     *exec.Cmd
	pgid    int
	logPath string
	done    chan struct{} // closed once the process has exited
	waitErr error
	guarded bool // the group leader is the guard shell: not measured
}

// children is every process the bench started; killAll ends them on any exit.
var children struct {
	sync.Mutex
	list []*proc
}

func killAll() {
	children.Lock()
	defer children.Unlock()
	for _, p := range children.list {
		select {
		case <-p.done:
		default:
			syscall.Kill(-p.pgid, syscall.SIGKILL)
		}
	}
}

// guardScript runs "$0" "$@" under a shell that kills its whole process
// group when it gets SIGTERM. The shell is started with Pdeathsig SIGTERM, so
// even a SIGKILLed bench takes the grandchildren (nginx workers) with it;
// Pdeathsig alone only reaches the direct child.
const guardScript = `trap 'kill -KILL 0' TERM INT HUP; "$0" "$@" & wait $!`

// startProc starts argv with its stdout and stderr in logPath. When
// readyPrefix is not empty it waits (up to 20 s) for a stderr line
// containing readyPrefix and returns the rest of that line. With guard, argv
// runs under guardScript (for programs that fork workers).
func startProc(name string, argv []string, dir, logPath, readyPrefix string, guard bool) (*proc, string, error) {
	return startProcOut(name, argv, dir, logPath, readyPrefix, guard, nil)
}

// startProcOut is startProc with the child's stdout going to stdout, when
// it is not nil, through a pipe that the bench drains.
func startProcOut(name string, argv []string, dir, logPath, readyPrefix string, guard bool, stdout io.Writer) (*proc, string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if guard {
		argv = append([]string{"/bin/sh", "-c", guardScript}, argv...)
		attr.Pdeathsig = syscall.SIGTERM
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = logf
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = attr
	// An os.Pipe rather than StderrPipe: the reader must see EOF on its own,
	// not have the pipe closed under it by Wait.
	var pr, pw *os.File
	if readyPrefix == "" {
		cmd.Stderr = logf
	} else {
		if pr, pw, err = os.Pipe(); err != nil {
			logf.Close()
			return nil, "", err
		}
		cmd.Stderr = pw
	}
	err = cmd.Start()
	if pw != nil {
		pw.Close()
	}
	if err != nil {
		logf.Close()
		if pr != nil {
			pr.Close()
		}
		return nil, "", fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, pgid: cmd.Process.Pid, logPath: logPath, done: make(chan struct{}), guarded: guard}
	children.Lock()
	children.list = append(children.list, p)
	children.Unlock()

	var readers sync.WaitGroup
	lineCh := make(chan string, 1)
	if pr != nil {
		readers.Go(func() {
			defer pr.Close()
			br := bufio.NewReader(pr)
			for {
				line, err := br.ReadString('\n')
				logf.WriteString(line)
				if i := strings.Index(line, readyPrefix); i >= 0 {
					lineCh <- strings.TrimSpace(line[i+len(readyPrefix):])
					// Keep draining so the child never blocks on stderr.
					io.Copy(logf, br)
					return
				}
				if err != nil {
					return
				}
			}
		})
	}
	go func() {
		p.waitErr = cmd.Wait()
		readers.Wait()
		logf.Close()
		close(p.done)
	}()
	if readyPrefix == "" {
		return p, "", nil
	}
	select {
	case rest := <-lineCh:
		return p, rest, nil
	case <-p.done:
		return p, "", fmt.Errorf("%s exited before it was ready (%v): %s", name, p.waitErr, logTail(logPath))
	case <-time.After(20 * time.Second):
		p.stop(0)
		return p, "", fmt.Errorf("%s printed no %q line in 20s: %s", name, readyPrefix, logTail(logPath))
	}
}

// stop sends SIGTERM to the process group, waits up to grace, then kills it.
// It returns the exit error, if any (nil after a clean exit).
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	default:
	}
	if grace > 0 {
		syscall.Kill(-p.pgid, syscall.SIGTERM)
		select {
		case <-p.done:
			syscall.Kill(-p.pgid, syscall.SIGKILL) // stray group members
			return p.waitErr
		case <-time.After(grace):
		}
	}
	syscall.Kill(-p.pgid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("%s did not exit within %v of SIGTERM; killed", p.name, grace)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	b = bytes.TrimSpace(b)
	if len(b) > 1500 {
		b = append([]byte("…"), b[len(b)-1500:]...)
	}
	if len(b) == 0 {
		return "(no output)"
	}
	return string(b)
}

// pids lists the processes measured for p: its group, less a guard shell.
func (p *proc) pids() []int {
	all := groupPIDs(p.pgid)
	if p.guarded {
		all = slices.DeleteFunc(all, func(pid int) bool { return pid == p.pgid })
	}
	return all
}

// groupPIDs lists the live processes of a process group.
func groupPIDs(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// state ppid pgrp ...
		if f := statFields(e.Name()); len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// resetPeak resets VmHWM to the current RSS for every process of the group
// (writing 5 to clear_refs, Linux 4.0+), so the next peak is per case.
func (p *proc) resetPeak() {
	for _, pid := range p.pids() {
		os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	}
}

// memory sums VmRSS and VmHWM (bytes) over the process group.
func (p *proc) memory() (rss, hwm int64) {
	for _, pid := range p.pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || (k != "VmRSS" && k != "VmHWM") {
				continue
			}
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			if k == "VmRSS" {
				rss += kb << 10
			} else {
				hwm += kb << 10
			}
		}
	}
	return rss, hwm
}

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ, which
// Linux fixes at 100 for user space).
const clockTick = 10 * time.Millisecond

// statFields is the fields of /proc/PID/stat after "pid (comm)", state
// first; comm may hold spaces and parens. It is nil for a process gone.
func statFields(pid string) []string {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// cpu sums the CPU time (user and system) the group's processes have used,
// with that of their children already reaped (nginx's workers are group
// members and counted directly).
func (p *proc) cpu() time.Duration {
	var ticks int64
	for _, pid := range p.pids() {
		// After "pid (comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
		f := statFields(strconv.Itoa(pid))
		if len(f) < 15 {
			continue
		}
		for _, s := range f[11:15] {
			n, _ := strconv.ParseInt(s, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick
}

// freePort asks the kernel for a free loopback port, for the targets that
// cannot report an ephemeral port of their own (nginx, uvicorn).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var errSkip = errors.New("skip")
