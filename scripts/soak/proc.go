package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llmtap/llmtap/internal/syncbuf"
)

// buildLlmtap builds ./cmd/llmtap of the module the soak runs in into dir,
// with the race detector when race is set.
func buildLlmtap(dir string, race bool) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the llmtap module: run from the repository")
	}
	bin := filepath.Join(dir, "llmtap")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/llmtap")...)
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/llmtap: %v\n%s", err, out)
	}
	return bin, nil
}

// llmtapProc is the running llmtap.
type llmtapProc struct {
	cmd        *exec.Cmd
	base       string // http://127.0.0.1:PORT
	stderr     syncbuf.Buffer
	stderrDone chan struct{}
	exited     chan struct{}
	exitCode   int // valid once exited is closed; -1 when killed by a signal
}

// startLlmtap runs bin with args and waits (up to 20 s) for its
// "llmtap: listening on http://…" line. It dies with this process.
func startLlmtap(bin string, args ...string) (*llmtapProc, error) {
	p := &llmtapProc{stderrDone: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LLMTAP_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	er, ew, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stderr = ew
	if err := p.cmd.Start(); err != nil {
		er.Close()
		ew.Close()
		return nil, err
	}
	ew.Close()
	first := make(chan string, 1)
	go func() {
		defer close(p.stderrDone)
		defer er.Close()
		br := bufio.NewReader(er)
		for n := 0; ; n++ {
			line, err := br.ReadString('\n')
			_, _ = p.stderr.Write([]byte(line))
			if n == 0 {
				first <- line
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		_ = p.cmd.Wait()
		p.exitCode = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	select {
	case line := <-first:
		base, ok := strings.CutPrefix(strings.TrimSpace(line), "llmtap: listening on ")
		if !ok {
			p.kill()
			return nil, fmt.Errorf("llmtap said %q first; stderr:\n%s", line, p.stderr.String())
		}
		p.base = base
		return p, nil
	case <-time.After(20 * time.Second):
		p.kill()
		return nil, fmt.Errorf("llmtap did not say where it listens; stderr:\n%s", p.stderr.String())
	}
}

func (p *llmtapProc) pid() int { return p.cmd.Process.Pid }

func (p *llmtapProc) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// running reports whether the process has not exited.
func (p *llmtapProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill ends the process if it still runs and waits for it.
func (p *llmtapProc) kill() {
	if p.running() {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// wait waits up to d for the process to exit and returns its exit status;
// it kills the process and returns an error after d.
func (p *llmtapProc) wait(d time.Duration) (int, error) {
	select {
	case <-p.exited:
	case <-time.After(d):
		p.kill()
		return -1, fmt.Errorf("llmtap still running %v after SIGTERM; killed", d)
	}
	select {
	case <-p.stderrDone:
	case <-time.After(5 * time.Second):
	}
	return p.exitCode, nil
}

// procSample is what /proc tells about a process.
type procSample struct {
	RSSKiB int64 `json:"rss_kib"`
	// AnonKiB is the part of RSS that is the process's own memory; the
	// rest is mostly pages of the binary, which grow as more code runs.
	AnonKiB int64 `json:"rss_anon_kib"`
	Threads int   `json:"threads"`
	FDs     int   `json:"fds"`
}

// sampleProc reads VmRSS, RssAnon and Threads from /proc/PID/status and counts the
// open file descriptors.
func sampleProc(pid int) (procSample, error) {
	var s procSample
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		switch name {
		case "VmRSS":
			s.RSSKiB, _ = strconv.ParseInt(fields[0], 10, 64)
		case "RssAnon":
			s.AnonKiB, _ = strconv.ParseInt(fields[0], 10, 64)
		case "Threads":
			s.Threads, _ = strconv.Atoi(fields[0])
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.FDs = len(fds)
	return s, nil
}
