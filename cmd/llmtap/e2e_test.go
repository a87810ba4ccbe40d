package main

// End-to-end tests: the real llmtap binary, run as a user would, in front of
// the fake upstream served in-process.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/clitest"
	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"

	"github.com/llmtap/llmtap/internal/syncbuf"
)

// patience bounds every wait for the binary; none should come close to it.
const patience = 10 * time.Second

func TestMain(m *testing.M) {
	clitest.Main(m, "llmtap", main)
}

// upstream serves the fake upstream for one test. seen, if not nil, gets
// every request it receives.
func upstream(t *testing.T, seen func(r *http.Request)) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{Seen: func(r *http.Request, _ []byte) {
		if seen != nil {
			seen(r)
		}
	}}))
	t.Cleanup(func() {
		up.CloseClientConnections()
		up.Close()
	})
	return up
}

// tap is one running llmtap process.
type tap struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	stderr syncbuf.Buffer
	stdout syncbuf.Buffer // unless the test gave its own stdout

	stderrDone chan struct{} // closed at EOF on stderr
	exited     chan struct{} // closed once the process has exited
}

// startTap runs llmtap with args, waits for its first stderr line
// ("llmtap: listening on http://…") and returns. stdout, if not nil,
// receives its standard output (an *os.File is passed to it directly). The
// process is killed at the end of the test if it is still running.
func startTap(t *testing.T, stdout io.Writer, args ...string) *tap {
	t.Helper()
	p := &tap{t: t, stderrDone: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(testbin.Path(t, "llmtap"), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LLMTAP_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	if stdout == nil {
		stdout = &p.stdout
	}
	p.cmd.Stdout = stdout
	er, ew, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = ew
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ew.Close()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			select {
			case <-p.exited:
			case <-time.After(patience):
				t.Errorf("llmtap (pid %d) did not die", p.cmd.Process.Pid)
			}
		}
		er.Close()
	})
	first := make(chan string, 1)
	go func() {
		defer close(p.stderrDone)
		br := bufio.NewReader(er)
		for n := 0; ; n++ {
			line, err := br.ReadString('\n')
			p.stderr.Write([]byte(line))
			if n == 0 {
				first <- line
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case line := <-first:
		base, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "llmtap: listening on ")
		if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
			p.cmd.Process.Kill()
			select {
			case <-p.stderrDone:
			case <-time.After(patience):
			}
			t.Fatalf("first stderr line %q, want llmtap: listening on http://127.0.0.1:PORT; stderr:\n%s", line, p.stderr.String())
		}
		p.base = base
	case <-time.After(patience):
		t.Fatalf("llmtap did not say where it listens; stderr:\n%s", p.stderr.String())
	}
	return p
}

// signal sends sig to the process.
func (p *tap) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit within d and returns its exit status
// (-1 if a signal killed it). All of its stderr has been read by then.
func (p *tap) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		p.cmd.Process.Kill()
		p.t.Fatalf("llmtap still running %v later; stderr:\n%s", d, p.stderr.String())
	}
	select {
	case <-p.stderrDone:
	case <-time.After(patience):
		p.t.Fatal("stderr still open after exit")
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and expects a clean exit.
func (p *tap) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(patience); code != 0 {
		p.t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr.String())
	}
}

// waitStderr waits until stderr contains s.
func (p *tap) waitStderr(s string) {
	p.t.Helper()
	waitFor(p.t, patience, fmt.Sprintf("%q on stderr", s), func() bool { return strings.Contains(p.stderr.String(), s) })
}

// newClient returns a client that ignores proxy settings and cannot hang.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: patience}
}

// req describes one request.
type req struct {
	method, path, body string
	header             map[string]string
}

const (
	chatBody   = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	streamBody = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}`
)

// send makes the request and returns the status and the whole body.
func send(t *testing.T, c *http.Client, base string, r req) (int, string) {
	t.Helper()
	res := open(t, c, base, r)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	return res.StatusCode, string(b)
}

// open makes the request and returns the response with its body unread.
func open(t *testing.T, c *http.Client, base string, r req) *http.Response {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := c.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	return res
}

// rec is the part of a record the tests look at.
type rec struct {
	V           int
	ID          string
	Start       time.Time
	Method      string
	Path        string
	Query       string
	UpstreamURL string `json:"upstream_url"`
	Request     struct {
		Headers map[string]string
	}
	Response *struct {
		Status       int
		Body         json.RawMessage
		BodyEncoding string `json:"body_encoding"`
		BodyBytes    int64  `json:"body_bytes"`
	}
	Error *struct {
		Kind    string
		Message string
	}
}

// body returns the recorded response body as text.
func (r rec) body() string {
	if r.Response == nil {
		return ""
	}
	var s string
	if json.Unmarshal(r.Response.Body, &s) == nil {
		return s
	}
	return string(r.Response.Body)
}

// parseRecords checks that data is whole JSON lines, each a record, and
// returns them.
func parseRecords(t *testing.T, name, data string) []rec {
	t.Helper()
	if data != "" && !strings.HasSuffix(data, "\n") {
		t.Fatalf("%s: last line unfinished: %.200q", name, data)
	}
	var recs []rec
	for i, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		if line == "" && data == "" {
			break
		}
		if !json.Valid([]byte(line)) {
			t.Fatalf("%s:%d: not JSON: %.200q", name, i+1, line)
		}
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s:%d: %v", name, i+1, err)
		}
		if r.V != 1 || r.ID == "" || r.Path == "" {
			t.Fatalf("%s:%d: not a record: %.200q", name, i+1, line)
		}
		recs = append(recs, r)
	}
	return recs
}

// readRecords reads the records in a file.
func readRecords(t *testing.T, path string) []rec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseRecords(t, filepath.Base(path), string(b))
}

// byQuery indexes records by their query string, failing on a repeat.
func byQuery(t *testing.T, recs []rec) map[string]rec {
	t.Helper()
	m := map[string]rec{}
	ids := map[string]bool{}
	for _, r := range recs {
		if _, dup := m[r.Query]; dup || ids[r.ID] {
			t.Fatalf("record for %q (id %s) appears twice", r.Query, r.ID)
		}
		m[r.Query], ids[r.ID] = r, true
	}
	return m
}

// lineCount counts the lines in a file (0 if it does not exist).
func lineCount(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// TestE2ERecords: plain, streamed, failed and concurrent exchanges, then
// SIGTERM: exit 0, and the file holds exactly one whole record per exchange
// with the right path and status.
func TestE2ERecords(t *testing.T) {
	up := upstream(t, nil)
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file)
	c := newClient(t)

	type want struct {
		req
		status int
		path   string
	}
	wants := map[string]want{
		"n=plain":  {req{"POST", "/v1/chat/completions?n=plain", chatBody, nil}, 200, "/v1/chat/completions"},
		"n=stream": {req{"POST", "/v1/chat/completions?n=stream", streamBody, nil}, 200, "/v1/chat/completions"},
		"n=nov1":   {req{"POST", "/chat/completions?n=nov1", streamBody, nil}, 200, "/chat/completions"},
		"n=models": {req{"GET", "/v1/models?n=models", "", nil}, 200, "/v1/models"},
		"n=404":    {req{"POST", "/v1/nowhere?n=404", chatBody, nil}, 404, "/v1/nowhere"},
		"n=500":    {req{"POST", "/v1/chat/completions?n=500", chatBody, map[string]string{"X-Fake-Status": "500"}}, 500, "/v1/chat/completions"},
		"n=gzip":   {req{"POST", "/v1/chat/completions?n=gzip", streamBody, map[string]string{"X-Fake-Gzip": "1"}}, 200, "/v1/chat/completions"},
	}
	for _, w := range wants {
		status, body := send(t, c, p.base, w.req)
		if status != w.status {
			t.Errorf("%s %s: status %d, want %d: %.200s", w.method, w.req.path, status, w.status, body)
		}
		if strings.Contains(w.body, `"stream":true`) && w.header == nil && !strings.HasSuffix(body, "data: [DONE]\n\n") {
			t.Errorf("%s: stream ends %q", w.req.path, body[max(0, len(body)-40):])
		}
	}
	// And a burst of concurrent streams.
	var wg sync.WaitGroup
	for i := range 20 {
		q := fmt.Sprintf("n=burst%d", i)
		wants[q] = want{req{"POST", "/v1/chat/completions?" + q, streamBody, map[string]string{"X-Fake-Chunk-Delay": "5ms"}}, 200, "/v1/chat/completions"}
		hr, err := http.NewRequest("POST", p.base+"/v1/chat/completions?"+q, strings.NewReader(streamBody))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("X-Fake-Chunk-Delay", "5ms")
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Do(hr)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			if b, err := io.ReadAll(res.Body); err != nil || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
				t.Errorf("%s: %v, stream ends %q", q, err, b[max(0, len(b)-40):])
			}
		}()
	}
	wg.Wait()

	p.stop()
	recs := byQuery(t, readRecords(t, file))
	if len(recs) != len(wants) {
		t.Errorf("%d records, want %d", len(recs), len(wants))
	}
	for q, w := range wants {
		r, ok := recs[q]
		switch {
		case !ok:
			t.Errorf("no record for %s", w.req.path)
		case r.Method != w.method || r.Path != w.path || r.Response == nil || r.Response.Status != w.status || r.Error != nil:
			t.Errorf("record for %s: %s %s status %v error %v", w.req.path, r.Method, r.Path, r.Response, r.Error)
		case strings.Contains(w.body, `"stream":true`) && !strings.HasSuffix(r.body(), "data: [DONE]\n\n"):
			t.Errorf("record for %s: stream body ends %q", w.req.path, r.body()[max(0, len(r.body())-40):])
		}
	}
	if out := p.stdout.String(); out != "" {
		t.Errorf("stdout should be empty with -o, got %.200q", out)
	}
}

// TestE2EStdout: with records on stdout (a pipe), each record can be read
// as soon as its exchange is over, while llmtap is still running.
func TestE2EStdout(t *testing.T) {
	up := upstream(t, nil)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	p := startTap(t, pw, "--upstream", up.URL+"/v1", "--port", "0")
	pw.Close()
	lines := make(chan string)
	go func() {
		defer close(lines)
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	c := newClient(t)
	for i, r := range []req{
		{"POST", "/v1/chat/completions?n=1", chatBody, nil},
		{"POST", "/v1/chat/completions?n=2", streamBody, nil},
		{"GET", "/v1/models?n=3", "", nil},
	} {
		if status, _ := send(t, c, p.base, r); status != 200 {
			t.Fatalf("%s: status %d", r.path, status)
		}
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("stdout closed; stderr:\n%s", p.stderr.String())
			}
			recs := parseRecords(t, "stdout", line)
			if want := fmt.Sprintf("n=%d", i+1); recs[0].Query != want {
				t.Errorf("record %d is for %q, want %q", i+1, recs[0].Query, want)
			}
		case <-time.After(patience):
			t.Fatalf("record %d did not reach stdout while llmtap ran", i+1)
		}
		select {
		case <-p.exited:
			t.Fatal("llmtap exited")
		default:
		}
	}
	p.stop()
	select {
	case line, ok := <-lines:
		if ok {
			t.Errorf("extra line on stdout after SIGTERM: %.200q", line)
		}
	case <-time.After(patience):
		t.Error("stdout not closed after exit")
	}
}

// TestE2ERotate: mv FILE FILE.1, SIGHUP, and the records that follow go to
// a new FILE; every record is in exactly one of the two.
func TestE2ERotate(t *testing.T) {
	up := upstream(t, nil)
	dir := t.TempDir()
	file := filepath.Join(dir, "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file)
	c := newClient(t)
	request := func(n int) {
		t.Helper()
		if status, _ := send(t, c, p.base, req{"POST", fmt.Sprintf("/v1/chat/completions?n=%d", n), streamBody, nil}); status != 200 {
			t.Fatalf("request %d: status %d", n, status)
		}
	}
	for n := 1; n <= 3; n++ {
		request(n)
	}
	waitFor(t, patience, "3 records in FILE", func() bool { return lineCount(file) == 3 })
	if err := os.Rename(file, file+".1"); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	// The writer creates FILE again when it has reopened it.
	waitFor(t, patience, "FILE reopened after SIGHUP", func() bool { _, err := os.Stat(file); return err == nil })
	for n := 4; n <= 5; n++ {
		request(n)
	}
	p.stop()

	old := byQuery(t, readRecords(t, file+".1"))
	cur := byQuery(t, readRecords(t, file))
	if len(old) != 3 || len(cur) != 2 {
		t.Errorf("FILE.1 has %d records, FILE %d; want 3 and 2", len(old), len(cur))
	}
	for n := 1; n <= 5; n++ {
		q := fmt.Sprintf("n=%d", n)
		_, inOld := old[q]
		_, inCur := cur[q]
		if inOld == inCur || inOld != (n <= 3) {
			t.Errorf("record %d: in FILE.1 %v, in FILE %v", n, inOld, inCur)
		}
	}
	if strings.Contains(p.stderr.String(), "error") {
		t.Errorf("stderr:\n%s", p.stderr.String())
	}
}

// readFirstEvent opens a stream and reads its first event, so the exchange
// is known to be in flight.
func readFirstEvent(t *testing.T, c *http.Client, base string, r req) *bufio.Reader {
	t.Helper()
	res := open(t, c, base, r)
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 {
		t.Fatalf("stream: status %d", res.StatusCode)
	}
	br := bufio.NewReader(res.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("first event: %q, %v", line, err)
	}
	return br
}

// TestE2EGraceLetsStreamFinish: SIGTERM with a slow stream in flight and
// --grace 5s: the stream runs to its end, then llmtap exits 0 and the
// record is complete.
func TestE2EGraceLetsStreamFinish(t *testing.T) {
	up := upstream(t, nil)
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file, "--grace", "5s")
	c := newClient(t)
	br := readFirstEvent(t, c, p.base, req{"POST", "/v1/chat/completions", streamBody, map[string]string{"X-Fake-Chunk-Delay": "60ms"}})
	p.signal(syscall.SIGTERM)
	p.waitStderr("finishing in-flight exchanges")
	// New connections are refused while the stream goes on.
	addr := strings.TrimPrefix(p.base, "http://")
	waitFor(t, patience, "the listener to close", func() bool {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	rest, err := io.ReadAll(br)
	if err != nil || !strings.HasSuffix(string(rest), "data: [DONE]\n\n") {
		t.Errorf("the stream was cut: %v, ends %q", err, rest[max(0, len(rest)-40):])
	}
	if code := p.wait(patience); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
	}
	recs := readRecords(t, file)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if r := recs[0]; r.Error != nil || r.Response == nil || r.Response.Status != 200 || !strings.HasSuffix(r.body(), "data: [DONE]\n\n") {
		t.Errorf("record: error %v, body ends %q", r.Error, r.body()[max(0, len(r.body())-40):])
	}
}

// TestE2EGraceCutsHangingStream: SIGTERM with a stream that never ends and
// --grace 200ms: llmtap exits 0 soon after, and the record says shutdown
// and keeps what arrived.
func TestE2EGraceCutsHangingStream(t *testing.T) {
	up := upstream(t, nil)
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file, "--grace", "200ms")
	c := newClient(t)
	br := readFirstEvent(t, c, p.base, req{"POST", "/v1/chat/completions", streamBody, map[string]string{"X-Fake-Hang": "1"}})
	start := time.Now()
	p.signal(syscall.SIGTERM)
	if code := p.wait(patience); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("exit took %v with --grace 200ms", d)
	}
	if _, err := io.ReadAll(br); err == nil {
		t.Error("the client's stream ended cleanly; it should have been cut")
	}
	checkShutdownRecord(t, file)
}

// TestE2ESecondSignalCuts: a second SIGTERM ends the grace period at once.
func TestE2ESecondSignalCuts(t *testing.T) {
	up := upstream(t, nil)
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file, "--grace", "60s")
	c := newClient(t)
	readFirstEvent(t, c, p.base, req{"POST", "/v1/chat/completions", streamBody, map[string]string{"X-Fake-Hang": "1"}})
	p.signal(syscall.SIGTERM)
	p.waitStderr("finishing in-flight exchanges")
	p.signal(syscall.SIGINT)
	if code := p.wait(patience); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.stderr.String())
	}
	checkShutdownRecord(t, file)
}

// checkShutdownRecord checks that file holds one record of a stream cut by
// shutdown, with its first event.
func checkShutdownRecord(t *testing.T, file string) {
	t.Helper()
	recs := readRecords(t, file)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Error == nil || r.Error.Kind != "shutdown" {
		t.Errorf("error %+v, want kind shutdown", r.Error)
	}
	if r.Response == nil || r.Response.Status != 200 || !strings.HasPrefix(r.body(), "data: {") {
		t.Errorf("the record lost what arrived: response %+v", r.Response)
	}
}

// TestE2EOutputFails: when the output cannot be written (-o /dev/full),
// llmtap says why on stderr and exits non-zero after the first record.
func TestE2EOutputFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	up := upstream(t, nil)
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", "/dev/full")
	c := newClient(t)
	send(t, c, p.base, req{"POST", "/v1/chat/completions", chatBody, nil})
	code := p.wait(patience)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if s := p.stderr.String(); !strings.Contains(s, "no space left on device") || !strings.Contains(s, "/dev/full") {
		t.Errorf("stderr does not say what failed:\n%s", s)
	}
}

// TestE2EPipeReaderGone: with stdout a pipe whose reader has gone
// (llmtap | head -1 after head exits), the next record's write fails:
// llmtap says so on stderr and exits 1, not killed silently by SIGPIPE.
func TestE2EPipeReaderGone(t *testing.T) {
	up := upstream(t, nil)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close() // the reader is gone before anything is written
	p := startTap(t, w, "--upstream", up.URL+"/v1", "--port", "0")
	_ = w.Close() // the child holds its own copy
	c := newClient(t)
	send(t, c, p.base, req{"POST", "/v1/chat/completions", chatBody, nil})
	if code := p.wait(patience); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if s := p.stderr.String(); !strings.Contains(s, "broken pipe") {
		t.Errorf("stderr does not say what failed:\n%s", s)
	}
}

// TestE2ELogDir: --log-dir creates the directory (and its parents) and
// records to one new proxy-*.jsonl in it.
func TestE2ELogDir(t *testing.T) {
	up := upstream(t, nil)
	dir := filepath.Join(t.TempDir(), "logs", "today")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "--log-dir", dir)
	c := newClient(t)
	send(t, c, p.base, req{"POST", "/v1/chat/completions", chatBody, nil})
	p.stop()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// The JSONL file and, beside it, its Markdown transcript (sorted: .jsonl first).
	if len(names) != 2 || !regexp.MustCompile(`^proxy-\d{8}-\d{6}-\d{9}\.jsonl$`).MatchString(names[0]) ||
		names[1] != strings.TrimSuffix(names[0], ".jsonl")+".md" {
		t.Fatalf("%s holds %q, want proxy-*.jsonl and proxy-*.md", dir, names)
	}
	md, err := os.ReadFile(filepath.Join(dir, names[1]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "`POST /v1/chat/completions`") || !strings.Contains(string(md), "### Assistant") {
		t.Errorf("transcript does not show the exchange:\n%s", md)
	}
	if recs := readRecords(t, filepath.Join(dir, names[0])); len(recs) != 1 {
		t.Errorf("%d records, want 1", len(recs))
	}
	if !strings.Contains(p.stderr.String(), filepath.Join(dir, names[0])) {
		t.Errorf("stderr does not name the file:\n%s", p.stderr.String())
	}
}

// TestE2EHealthz: GET /healthz answers locally with the upstream and the
// output, and is neither forwarded nor recorded.
func TestE2EHealthz(t *testing.T) {
	var forwarded sync.Map
	up := upstream(t, func(r *http.Request) { forwarded.Store(r.URL.Path, true) })
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file)
	res := open(t, newClient(t), p.base, req{method: "GET", path: "/healthz"})
	defer res.Body.Close()
	var health map[string]string
	if err := json.NewDecoder(res.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("status %d, content-type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	want := map[string]string{"status": "ok", "upstream": up.URL + "/v1", "output": file}
	if fmt.Sprint(health) != fmt.Sprint(want) {
		t.Errorf("healthz %v, want %v", health, want)
	}
	p.stop()
	if n := lineCount(file); n != 0 {
		t.Errorf("healthz was recorded (%d lines)", n)
	}
	forwarded.Range(func(k, _ any) bool { t.Errorf("healthz reached the upstream as %v", k); return true })
}

// TestE2ENoSecrets: keys in headers, in the client's query and in the
// upstream URL reach the upstream untouched but never the record file,
// stderr or /healthz, also when the upstream cannot be reached.
func TestE2ENoSecrets(t *testing.T) {
	// Each secret's middle is distinctive; a redacted value may keep the
	// last four characters.
	secrets := map[string]string{
		"authorization": "Bearer sk-proj-AUTHSECRETmiddle0001",
		"x-api-key":     "sk-ant-XAPISECRETmiddle0002",
		"cookie":        "session=COOKIESECRETmiddle0003",
		"x-custom":      "CUSTOMSECRETmiddle0004",
	}
	const queryKey = "AIzaQUERYSECRETmiddle0005"
	const upstreamKey = "UPSTREAMSECRETmiddle0006"
	markers := []string{"AUTHSECRET", "XAPISECRET", "COOKIESECRET", "CUSTOMSECRET", "QUERYSECRET", "UPSTREAMSECRET"}

	var mu sync.Mutex
	var got []*http.Request
	up := upstream(t, func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Clone(context.Background()))
	})
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // nothing listens there now

	for _, tt := range []struct {
		name, upstream string
		status         int
	}{
		{"reachable", up.URL, 200},
		{"unreachable", deadURL, 502},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "raw.jsonl")
			p := startTap(t, nil, "--upstream", tt.upstream+"/v1?api-version=1&api-key="+upstreamKey,
				"--port", "0", "-o", file, "--redact-header", "X-Custom")
			c := newClient(t)
			_, health := send(t, c, p.base, req{method: "GET", path: "/healthz"})
			for _, body := range []string{chatBody, streamBody} {
				status, answer := send(t, c, p.base, req{"POST", "/v1/chat/completions?key=" + queryKey + "&x=1", body, secrets})
				if status != tt.status {
					t.Errorf("status %d, want %d: %.200s", status, tt.status, answer)
				}
				health += answer
			}
			p.stop()
			data, _ := os.ReadFile(file)
			recs := parseRecords(t, "raw.jsonl", string(data))
			if len(recs) != 2 {
				t.Fatalf("%d records, want 2", len(recs))
			}
			for _, m := range markers {
				for where, text := range map[string]string{"the records": string(data), "stderr": p.stderr.String(), "the answers and /healthz": health} {
					if strings.Contains(text, m) {
						t.Errorf("%s in %s", m, where)
					}
				}
			}
			for _, r := range recs {
				for name := range secrets {
					if v := r.Request.Headers[name]; !strings.Contains(v, "[REDACTED]") {
						t.Errorf("header %s recorded as %q", name, v)
					}
				}
				if tt.status != 200 && (r.Error == nil || r.Error.Kind != "upstream_unreachable") {
					t.Errorf("error %+v, want upstream_unreachable", r.Error)
				}
			}
		})
	}

	// The upstream got every secret as sent.
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("upstream saw %d requests, want 2", len(got))
	}
	for _, r := range got {
		for name, v := range secrets {
			if r.Header.Get(name) != v {
				t.Errorf("upstream got %s %q, want %q", name, r.Header.Get(name), v)
			}
		}
		q := r.URL.Query()
		if q.Get("key") != queryKey || q.Get("api-key") != upstreamKey || q.Get("x") != "1" || q.Get("api-version") != "1" {
			t.Errorf("upstream got query %q", r.URL.RawQuery)
		}
		if r.URL.Path != "/v1/chat/completions" {
			t.Errorf("upstream got path %q", r.URL.Path)
		}
	}
}

// TestE2ESlowHeadersCutOff: a client that sends its request headers a byte
// at a time is disconnected after --header-timeout, before it has sent them
// all, and nothing is forwarded or recorded. The trickle (a byte every
// 50 ms) takes some 7 s; the timeout is 500ms. No bound on time is checked,
// only the order: the connection ends while the headers are incomplete.
func TestE2ESlowHeadersCutOff(t *testing.T) {
	var forwarded atomic.Int32
	up := upstream(t, func(*http.Request) { forwarded.Add(1) })
	file := filepath.Join(t.TempDir(), "raw.jsonl")
	p := startTap(t, nil, "--upstream", up.URL+"/v1", "--port", "0", "-o", file, "--header-timeout", "500ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	request := "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100) + "\r\n\r\n"
	var written atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := range len(request) {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{request[i]}); err != nil {
				return
			}
			written.Add(1)
		}
	}()
	// The read ends when the server closes the connection (net/http first
	// answers 400 or 408), or, were the headers not cut off, with the
	// answer once they are all sent.
	buf := make([]byte, 512)
	n, _ := io.ReadAtLeast(conn, buf, len(buf))
	if got := written.Load(); got == int64(len(request)) {
		t.Fatalf("the client sent all its headers, a byte at a time, and got %q: not cut off", buf[:n])
	}
	if n > 0 && !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 4") {
		t.Errorf("the cut-off client got %q", buf[:n])
	}
	p.stop()
	if forwarded.Load() != 0 {
		t.Errorf("%d requests forwarded", forwarded.Load())
	}
	if recs := readRecords(t, file); len(recs) != 0 {
		t.Errorf("%d records, want none", len(recs))
	}
}
