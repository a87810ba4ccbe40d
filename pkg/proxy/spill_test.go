package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/record"
)

// lineOutput is a LineSink over a jsonl.Writer, as llmtap has, writing to
// memory (or nowhere).
type lineOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	discard bool
	w       *jsonl.Writer
}

func (o *lineOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.discard {
		return len(p), nil
	}
	return o.buf.Write(p)
}

func (o *lineOutput) Close() error { return nil }

func newLineOutput(t *testing.T, discard bool) *lineOutput {
	t.Helper()
	o := &lineOutput{discard: discard}
	w, err := jsonl.NewWriter(func() (io.WriteCloser, error) { return o, nil }, jsonl.Options{Release: Release})
	if err != nil {
		t.Fatal(err)
	}
	o.w = w
	t.Cleanup(func() { _ = w.Close() })
	return o
}

// records returns the lines written once there are n.
func (o *lineOutput) records(t *testing.T, n int) []rec {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		got := bytes.Count(o.buf.Bytes(), []byte("\n"))
		o.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d lines, want %d", got, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []rec
	for _, line := range bytes.SplitAfter(o.buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r rec
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("bad line %.200q: %v", line, err)
		}
		r.raw = string(line)
		out = append(out, r)
	}
	return out
}

// spillBodies are served by spillUpstream, by index, in 1000-byte chunks.
var spillBodies = func() []struct {
	name, contentType, contentEncoding string
	body                               []byte
} {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(strings.Repeat(`{"a" : "x\u2028y",  "b":[1, 2]}`+"\n", 200)))
	_ = zw.Close()
	jsonBody := "{\n  \"data\": [" + strings.Repeat(`{"embedding": [0.1, -2e3, 3], "s": "é\u2028 ☃"}, `, 300) + "1 ]\n}"
	sse := strings.Repeat("data: {\"choices\":[{\"delta\":{\"content\":\"héllo ☃ 😀\"}}]}\n\n", 400)
	bin := make([]byte, 40000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	return []struct {
		name, contentType, contentEncoding string
		body                               []byte
	}{
		{"sse", "text/event-stream", "", []byte(sse)},
		{"json", "application/json", "", []byte(jsonBody)},
		{"binary", "application/octet-stream", "", bin},
		{"gzip json lines", "application/json", "gzip", gz.Bytes()},
		{"gzip cut", "application/json", "gzip", gz.Bytes()[:gz.Len()/2]},
		{"small", "application/json", "", []byte(`{"ok": true}`)},
	}
}()

func spillUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		var b = spillBodies[0]
		for _, sb := range spillBodies {
			if r.URL.Query().Get("b") == sb.name {
				b = sb
			}
		}
		w.Header().Set("Content-Type", b.contentType)
		// A fixed Date: the test compares records of exchanges made one
		// after another, which may fall in different seconds.
		w.Header().Set("Date", "Fri, 27 Nov 2026 00:00:00 GMT")
		if b.contentEncoding != "" {
			w.Header().Set("Content-Encoding", b.contentEncoding)
		}
		rc := http.NewResponseController(w)
		for p := b.body; len(p) > 0; {
			n := min(len(p), 1000)
			_, _ = w.Write(p[:n])
			_ = rc.Flush()
			p = p[n:]
		}
	})
}

// TestSpilledBodiesRecordedExactly: with a tiny spill threshold, so that
// every body but the smallest goes to a temporary file, each record carries
// the same bodies as without spilling, through the jsonl writer (WriteJSON)
// and through AppendJSON; the files are gone afterwards.
func TestSpilledBodiesRecordedExactly(t *testing.T) {
	for _, maxBody := range []int64{0, 25000} {
		dir := t.TempDir()
		plain := newLineOutput(t, false)
		spilled := newLineOutput(t, false)
		hPlain := newHarness(t, spillUpstream(), func(c *Config) { c.Sink = LineSink{W: plain.w}; c.SpillThreshold = -1; c.MaxBody = maxBody })
		spills := &funcCounter{FuncWriter: spilled.w}
		hSpill := newHarness(t, spillUpstream(), func(c *Config) {
			c.Sink = LineSink{W: spills}
			c.SpillThreshold, c.TempDir, c.MaxBody = 512, dir, maxBody
		})
		hAppend := newHarness(t, spillUpstream(), func(c *Config) { c.SpillThreshold, c.TempDir, c.MaxBody = 512, dir, maxBody })
		reqBody := bytes.Repeat([]byte(`{"messages" : [ {"content": "a\u2028b"} ]}`), 1)
		reqBody = append([]byte(`{"pad": "`+strings.Repeat("p", 3000)+`", "x": `), append(reqBody, '}')...)
		for _, b := range spillBodies {
			for _, h := range []*harness{hPlain, hSpill, hAppend} {
				res := do(t, "POST", h.front.URL+"/v1/chat/completions?b="+strings.ReplaceAll(b.name, " ", "+"), reqBody, nil)
				if res.err != nil || !bytes.Equal(res.body, b.body) {
					t.Fatalf("%s: client got %d bytes, %v", b.name, len(res.body), res.err)
				}
			}
		}
		if spills.n.Load() == 0 {
			t.Error("nothing spilled") // only a record with a spilled body is written with WriteFunc
		}
		n := len(spillBodies)
		want := byQuery(plain.records(t, n))
		for name, got := range map[string][]rec{"WriteJSON": spilled.records(t, n), "AppendJSON": hAppend.sink.wait(t, n)} {
			for q, g := range byQuery(got) {
				w := want[q]
				if d := diffPart(w.Request, g.Request) + diffPart(*w.Response, *g.Response); d != "" || w.errKind() != g.errKind() {
					t.Errorf("max %d, %s, %s: %s; error %q, want %q", maxBody, name, q, d, g.errKind(), w.errKind())
				}
			}
		}
		hSpill.tap.Wait()
		hAppend.tap.Wait()
		checkNoSpills(t, dir)
	}
}

func byQuery(recs []rec) map[string]rec {
	m := map[string]rec{}
	for _, r := range recs {
		m[r.Query] = r
	}
	return m
}

// diffPart describes how two recorded parts differ, timing and the
// host header aside.
func diffPart(want, got part) string {
	want.Timing, got.Timing = nil, nil
	delete(want.Headers, "host")
	delete(got.Headers, "host")
	jw, _ := json.Marshal(want)
	jg, _ := json.Marshal(got)
	if bytes.Equal(jw, jg) {
		return ""
	}
	i := 0
	for i < len(jw) && i < len(jg) && jw[i] == jg[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("differ at %d: got …%.160s, want …%.160s", i, jg[from:], jw[from:])
}

// funcCounter counts the records written with WriteFunc.
type funcCounter struct {
	FuncWriter
	n atomic.Int64
}

func (f *funcCounter) WriteFunc(fn func(io.Writer) error) error {
	f.n.Add(1)
	return f.FuncWriter.WriteFunc(fn)
}

// openSpills counts this process's open files that are spill files in dir
// (unlinked at once, they are found through /proc/self/fd); -1 where there
// is no /proc.
func openSpills(dir string) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, filepath.Join(dir, "llmtap-body-")) {
			n++
		}
	}
	return n
}

// TestCaptureSpillFile: a capture past its threshold holds one spill file,
// unlinked, until released (which is also what checkNoSpills relies on).
func TestCaptureSpillFile(t *testing.T) {
	dir := t.TempDir()
	tap, err := New(Config{Upstream: "http://127.0.0.1:1/v1", Sink: discard{}, SpillThreshold: 512, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := tap.newCapture()
	c.write(bytes.Repeat([]byte("x"), 400))
	if n := openSpills(dir); n != 0 {
		t.Fatalf("%d spill files open below the threshold", n)
	}
	c.write(bytes.Repeat([]byte("y"), 400))
	if n := openSpills(dir); n == -1 {
		t.Skip("no /proc/self/fd")
	} else if n != 1 {
		t.Fatalf("%d spill files open past the threshold, want 1", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spill file is not unlinked: %v", entries)
	}
	if got, _ := io.ReadAll(c.reader()); string(got) != strings.Repeat("x", 400)+strings.Repeat("y", 400) {
		t.Errorf("read back %d bytes", len(got))
	}
	c.release()
	if n := openSpills(dir); n != 0 {
		t.Errorf("%d spill files open after release", n)
	}
}

// checkNoSpills checks that no spill file is open or left in dir.
func checkNoSpills(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for openSpills(dir) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := openSpills(dir); n > 0 {
		t.Errorf("%d spill files still open", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left in the temp dir: %v", entries)
	}
}

// TestSpillFilesClosedOnFailures: a spilled body whose exchange fails (the
// client cancels, the upstream aborts) is still recorded, and its file is
// closed and gone.
func TestSpillFilesClosedOnFailures(t *testing.T) {
	dir := t.TempDir()
	chunk := bytes.Repeat([]byte("data: x\n\n"), 1000)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := 0; i < 500; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			_ = rc.Flush()
			if r.URL.Path == "/v1/abort" && i == 200 {
				panic(http.ErrAbortHandler)
			}
			if r.URL.Path == "/v1/slow" {
				time.Sleep(time.Millisecond)
			}
		}
	})
	out := newLineOutput(t, false)
	h := newHarness(t, upstream, func(c *Config) { c.Sink = LineSink{W: out.w}; c.SpillThreshold, c.TempDir = 4096, dir })

	res := do(t, "POST", h.front.URL+"/v1/abort", []byte(strings.Repeat("q", 10000)), nil)
	if res.err == nil {
		t.Error("abort: the client saw a whole body")
	}

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.front.URL+"/v1/slow", strings.NewReader(strings.Repeat("q", 10000)))
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 200000)
	cancel()
	_ = resp.Body.Close()

	recs := out.records(t, 2)
	kinds := map[string]bool{}
	for _, r := range recs {
		kinds[r.errKind()] = true
		if r.Response == nil || r.Response.BodyEncoding != "text" || int64(len(r.Response.bytes(t))) != r.Response.BodyBytes ||
			string(r.Request.bytes(t)) != strings.Repeat("q", 10000) {
			t.Errorf("record: %.300s", r.raw)
		}
	}
	if !kinds["upstream_aborted"] || !kinds["client_cancelled"] {
		t.Errorf("error kinds %v", kinds)
	}
	h.tap.Wait()
	checkNoSpills(t, dir)
}

// TestBigStreamMemoryBounded streams 50 MB through the Tap, recorded whole by a
// LineSink over a jsonl.Writer, and checks that the heap stays far below
// the body's size (the bar: under 16 MB of added RSS).
func TestBigStreamMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB stream")
	}
	const size = 50 << 20
	slab := bytes.Repeat([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"lorem ipsum\"}}]}\n\n"), 512)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for n := 0; n < size; n += len(slab) {
			if _, err := w.Write(slab); err != nil {
				return
			}
			_ = rc.Flush()
		}
	})
	out := newLineOutput(t, true)
	var written atomic.Int64
	counted := &countingSink{s: LineSink{W: out.w}, n: &written}
	h := newHarness(t, upstream, func(c *Config) { c.Sink = counted; c.TempDir = t.TempDir() })

	run := func() {
		res, err := rawClient.Post(h.front.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true}`))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if err != nil || n < size {
			t.Fatalf("client got %d bytes, %v", n, err)
		}
		h.tap.Wait()
	}
	run() // warm pools and connections
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := watchHeap(run)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	grew := int64(peak) - int64(before.HeapInuse)
	t.Logf("50 MiB stream: heap in use grew by at most %d KiB, %d KiB allocated", grew>>10, allocated>>10)
	if bound := memoryBound(12<<20, size); grew > bound || int64(allocated) > bound {
		t.Errorf("heap grew by %d MiB, %d MiB allocated, for a 50 MiB stream", grew>>20, allocated>>20)
	}
	if written.Load() != 2 {
		t.Errorf("%d records", written.Load())
	}
}

type countingSink struct {
	s Sink
	n *atomic.Int64
}

func (c *countingSink) Record(r *record.Record) {
	c.s.Record(r)
	c.n.Add(1)
}

// watchHeap runs f and returns the highest HeapInuse seen meanwhile.
func watchHeap(f func()) uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// TestCaptureBuffers: a capture grows through the pooled classes, keeps
// every byte whatever the size of the writes, and never spills when
// spilling is off.
func TestCaptureBuffers(t *testing.T) {
	for _, spillAt := range []int64{0, 3000, 2 << 20} {
		for _, size := range []int{1, 511, 513, 4096, 100000, 3 << 20} {
			c := capture{bufs: &captureBuffers{}, max: 64 << 20, spillAt: spillAt}
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(i * 13)
			}
			for p := want; len(p) > 0; {
				n := min(len(p), 1+len(p)/3)
				c.write(p[:n])
				p = p[n:]
			}
			got, err := io.ReadAll(c.reader())
			if err != nil || !bytes.Equal(got, want) || c.n != int64(size) || c.truncated {
				t.Errorf("spill at %d, %d bytes: got %d bytes (%v), n %d, truncated %v", spillAt, size, len(got), err, c.n, c.truncated)
			}
			if spilled := c.file != nil; spilled != (spillAt > 0 && int64(size) > spillAt) {
				t.Errorf("spill at %d, %d bytes: spilled %v", spillAt, size, spilled)
			}
			f := c.file
			c.release()
			if f != nil && f.Close() == nil {
				t.Errorf("spill at %d, %d bytes: release left the file open", spillAt, size)
			}
		}
	}
}
