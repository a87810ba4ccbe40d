package main

// End to end: records made by the real llmtap binary in front of one fake
// upstream, replayed by the real llmreplay binary to a second one, which
// must receive the same requests.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/clitest"
	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"
)

// patience bounds every wait for a binary; none should come close to it.
const patience = 20 * time.Second

func TestMain(m *testing.M) {
	clitest.Main(m, "llmreplay", main)
}

// binaries builds llmtap, llmreplay, and for the pipelines llmgrep and
// llmstat, once, and returns the directory.
func binaries(t *testing.T) string {
	t.Helper()
	return testbin.Dir(t, "llmtap", "llmreplay", "llmgrep", "llmstat")
}

// seen is one request as an upstream received it.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// capture is a fake upstream that answers from canned answers and keeps
// what it received, by the X-Test-Id header.
type capture struct {
	mu  sync.Mutex
	got map[string]seen
	rp  *fakeupstream.Replay
	srv *httptest.Server
}

func newCapture(t *testing.T) *capture {
	c := &capture{got: map[string]seen{}}
	c.rp = &fakeupstream.Replay{Seen: func(r *http.Request, body []byte) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.got[r.Header.Get("X-Test-Id")] = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body}
	}}
	c.srv = httptest.NewServer(c.rp)
	t.Cleanup(c.srv.Close)
	return c
}

// answers are canned answers for the scenario's requests.
func answers() []fakeupstream.Canned {
	json := fakeupstream.Canned{Header: http.Header{"Content-Type": {"application/json"}}, Chunks: []string{`{"id":"x","choices":[]}`}}
	sse := fakeupstream.Canned{Header: http.Header{"Content-Type": {"text/event-stream"}},
		Chunks: []string{"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n", "data: [DONE]\n\n"}}
	return []fakeupstream.Canned{json, sse, json, json, json, json, json, json}
}

// testReq is one request of the scenario.
type testReq struct {
	id, method, path, query, ctype string
	header                         map[string]string
	body                           []byte
}

func scenario(t *testing.T) []testReq {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.SetBoundary("bound4ry")
	_ = mw.WriteField("model", "whisper-1")
	fw, _ := mw.CreateFormFile("file", "a.wav")
	_, _ = fw.Write([]byte{'R', 'I', 'F', 'F', 0xff, 0x00, 0xfe, 0x80})
	_ = mw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"model":"m","messages":[{"role":"user","content":"zipped"}]}`))
	_ = zw.Close()
	return []testReq{
		{id: "json", method: "POST", path: "/v1/chat/completions", query: "a=1&b=%2F+x", ctype: "application/json",
			header: map[string]string{"Authorization": "Bearer sk-proj-abcdefghijklmnop0123", "X-Custom": "kept"},
			body:   []byte("{\n  \"model\": \"gpt-4o\",\n  \"messages\": [{\"role\": \"user\", \"content\": \"caf\\u00e9 ✓\"}]\n}")},
		{id: "sse", method: "POST", path: "/v1/chat/completions", ctype: "application/json",
			body: []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)},
		{id: "multipart", method: "POST", path: "/v1/audio/transcriptions", ctype: mw.FormDataContentType(), body: mp.Bytes()},
		{id: "audio", method: "POST", path: "/v1/audio/speech", ctype: "application/octet-stream", body: []byte{0xff, 0xfb, 0x90, 0x00, 0x01, 0x80}},
		{id: "gzip", method: "POST", path: "/v1/chat/completions", ctype: "application/json",
			header: map[string]string{"Content-Encoding": "gzip"}, body: gz.Bytes()},
		{id: "gemini", method: "POST", path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent", query: "alt=sse&key=AIzaSyOLDKEY0123456789", ctype: "application/json",
			header: map[string]string{"X-Goog-Api-Key": "AIzaSyOLDKEY0123456789"}, body: []byte(`{"contents":[{"parts":[{"text":"hi"}]}]}`)},
		{id: "text", method: "POST", path: "/v1/completions", ctype: "text/plain", body: []byte("just text, not JSON")},
		{id: "models", method: "GET", path: "/v1/models"},
	}
}

// send makes the scenario's requests through base.
func send(t *testing.T, base string, reqs []testReq) {
	client := &http.Client{Timeout: patience, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	for _, r := range reqs {
		u := base + r.path
		if r.query != "" {
			u += "?" + r.query
		}
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		req, err := http.NewRequest(r.method, u, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "e2e/1")
		req.Header.Set("X-Test-Id", r.id)
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		for k, v := range r.header {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// record runs llmtap in front of up, sends the scenario, and returns the
// records file.
func recordWithTap(t *testing.T, up *capture) string {
	out := filepath.Join(t.TempDir(), "orig.jsonl")
	throughTap(t, up.srv.URL, out, func(base string) { send(t, base, scenario(t)) })
	return out
}

// throughTap runs llmtap in front of upstream, recording to out, calls
// send with llmtap's base URL, then stops llmtap with SIGTERM and waits
// until it has written every record.
func throughTap(t *testing.T, upstream, out string, send func(base string)) {
	t.Helper()
	cmd := tool(t, "llmtap", "--upstream", upstream+"/v1", "--port", "0", "-o", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base, err := testbin.ListenURL(stderr, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	send(base)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("llmtap: %v", err)
	}
}

// replayed runs llmreplay with args and returns its stdout and stderr.
func replayed(t *testing.T, args ...string) (string, string, int) {
	cmd := exec.Command(filepath.Join(binaries(t), "llmreplay"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code, err := testbin.ExitStatus(cmd.Run())
	if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// wantHeader is what the second upstream must get for a header the first
// got: the same, less the masked secrets, with -H applied.
func wantHeader(h http.Header) http.Header {
	w := h.Clone()
	w.Del("Content-Length")                  // a JSON body is sent compacted, as recorded
	w.Del("X-Goog-Api-Key")                  // masked, not replaced
	w.Set("Authorization", "Bearer new-key") // -H sets it on every request
	return w
}

func TestE2ERoundTrip(t *testing.T) {
	up1 := newCapture(t)
	up1.rp.Push(answers()...)
	orig := recordWithTap(t, up1)

	up2 := newCapture(t)
	up2.rp.Push(answers()...)
	out := filepath.Join(t.TempDir(), "replay.jsonl")
	_, stderr, code := replayed(t, "--target", up2.srv.URL+"/v1", "--speed", "1000",
		"-H", "Authorization: Bearer new-key", "--param", "key=NEWKEY", "-o", out, orig)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "header x-goog-api-key is masked") || strings.Count(stderr, "is masked") != 1 {
		t.Errorf("want one warning about x-goog-api-key; stderr:\n%s", stderr)
	}
	if !strings.Contains(stderr, "sent 7 ") || !strings.Contains(stderr, "7 ok") || !strings.Contains(stderr, "skipped 1 by endpoint policy") {
		t.Errorf("summary; stderr:\n%s", stderr)
	}

	// The recorded JSON body is compacted: that is what is sent again.
	var origBodies = map[string][]byte{}
	for _, r := range scenario(t) {
		origBodies[r.id] = r.body
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, origBodies["json"])

	for _, r := range scenario(t) {
		if r.id == "models" {
			if _, ok := up2.got["models"]; ok {
				t.Error("GET /v1/models was replayed without --all")
			}
			continue
		}
		t.Run(r.id, func(t *testing.T) {
			a, b := up1.got[r.id], up2.got[r.id]
			if b.Method == "" {
				t.Fatal("not replayed")
			}
			wantBody := a.Body
			if r.id == "json" {
				wantBody = compact.Bytes()
			}
			// --param sets key on every request; the masked one is replaced.
			wantQuery := strings.TrimPrefix(a.Query+"&key=NEWKEY", "&")
			if r.id == "gemini" {
				wantQuery = "alt=sse&key=NEWKEY"
			}
			if a.Method != b.Method || a.Path != b.Path || wantQuery != b.Query {
				t.Errorf("got %s %s?%s, want %s %s?%s", b.Method, b.Path, b.Query, a.Method, a.Path, wantQuery)
			}
			if !bytes.Equal(b.Body, wantBody) {
				t.Errorf("body\n got %q\nwant %q", b.Body, wantBody)
			}
			gotH, wantH := b.Header.Clone(), wantHeader(a.Header)
			gotH.Del("Content-Length")
			if fmt.Sprint(sortedHeader(gotH)) != fmt.Sprint(sortedHeader(wantH)) {
				t.Errorf("headers\n got %v\nwant %v", sortedHeader(gotH), sortedHeader(wantH))
			}
		})
	}

	// One record per attempt, each tied to its original.
	origIDs := map[string]string{} // original id -> test id
	for _, rec := range readRecords(t, orig) {
		origIDs[rec.ID] = rec.Request.Headers["x-test-id"]
	}
	recs := readRecords(t, out)
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7", len(recs))
	}
	for _, rec := range recs {
		if rec.Replay == nil || origIDs[rec.Replay.Of] != rec.Request.Headers["x-test-id"] || rec.Replay.Scheduled == "" {
			t.Errorf("record %s: replay %+v", rec.ID, rec.Replay)
		}
		if rec.Request.Headers["authorization"] == "Bearer new-key" || strings.Contains(rec.Query, "NEWKEY") {
			t.Errorf("record %s keeps a secret: %v %s", rec.ID, rec.Request.Headers, rec.Query)
		}
		if rec.Response.Status != 200 {
			t.Errorf("record %s: status %d", rec.ID, rec.Response.Status)
		}
	}
}

func sortedHeader(h http.Header) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+": "+strings.Join(v, ", "))
	}
	sort.Strings(out)
	return out
}

// rec is the part of a record the tests read.
type rec struct {
	ID      string `json:"id"`
	Query   string `json:"query"`
	Request struct {
		Headers map[string]string `json:"headers"`
	} `json:"request"`
	Response *struct {
		Status int `json:"status"`
	} `json:"response"`
	Error *struct {
		Kind string `json:"kind"`
	} `json:"error"`
	Replay *struct {
		Of        string   `json:"of"`
		Scheduled string   `json:"scheduled"`
		LagMS     float64  `json:"lag_ms"`
		QueuedMS  *float64 `json:"queued_ms"`
	} `json:"replay"`
}

func readRecords(t *testing.T, path string) []rec {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rec
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var r rec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out = append(out, r)
	}
	return out
}
