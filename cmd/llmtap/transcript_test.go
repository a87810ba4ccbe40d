package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/syncbuf"
	"github.com/llmtap/llmtap/pkg/record"
)

// transcriptLine is one record line, as llmtap writes it.
func transcriptLine(id, question string) []byte {
	now := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
	req := []byte(`{"model":"m","messages":[{"role":"user","content":"` + question + `"}]}`)
	rec := record.Record{ID: id, Start: now, End: now, Method: "POST", Path: "/v1/chat/completions",
		Request: record.Request{Headers: []record.Header{{Name: "content-type", Value: "application/json"}}, Body: record.Body{Data: req, WireBytes: int64(len(req))}}}
	return rec.AppendJSON(nil)
}

// TestTranscriptReopen: Reopen (SIGHUP) closes the .md and opens it again
// at its path, so a rotated transcript goes on in a new file.
func TestTranscriptReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.md")
	var logs syncbuf.Buffer
	md, err := newTranscript(path, log.New(&logs, "", 0), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := md.Write(transcriptLine("a", "first question")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := reopen(md, nil); err != nil {
		t.Fatal(err)
	}
	if err := md.Write(transcriptLine("b", "second question")); err != nil {
		t.Fatal(err)
	}
	if err := md.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !bytes.Contains(old, []byte("first question")) || bytes.Contains(old, []byte("second question")) {
		t.Errorf("rotated transcript:\n%s", old)
	}
	if !bytes.Contains(cur, []byte("second question")) || bytes.Contains(cur, []byte("first question")) {
		t.Errorf("reopened transcript:\n%s", cur)
	}
	if logs.String() != "" {
		t.Errorf("stderr: %s", logs.String())
	}
}

// TestTranscriptWriteFails: a transcript that cannot be written reports it
// on Failed at once, not at shutdown.
func TestTranscriptWriteFails(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	md, err := newTranscript("/dev/full", log.New(os.Stderr, "", 0), false)
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	if err := md.Write(transcriptLine("a", "q")); err != nil {
		t.Fatal(err)
	}
	// No timeout: the failure must arrive, and the test binary's own
	// timeout catches a writer that never reports it.
	err = <-md.Failed()
	if !strings.Contains(err.Error(), "no space left") {
		t.Errorf("failure: %v", err)
	}
}

// TestTranscriptReportsBadLines: a line the transcript cannot read is
// reported on stderr with the reason, and the records after it are still
// rendered.
func TestTranscriptReportsBadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.md")
	var logs syncbuf.Buffer
	md, err := newTranscript(path, log.New(&logs, "llmtap: ", 0), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range [][]byte{[]byte("{\"v\":1,\"id\":\n"), []byte("[1]\n"), transcriptLine("c", "after the bad ones")} {
		if err := md.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := md.Close(); err != nil {
		t.Fatal(err)
	}
	got := logs.String()
	if strings.Count(got, "a record was left out") != 2 || !strings.Contains(got, "not JSON") || !strings.Contains(got, "not a record") {
		t.Errorf("stderr:\n%s", got)
	}
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("after the bad ones")) {
		t.Errorf("transcript:\n%s", b)
	}
}

// TestRunLogDirSIGHUP: with --log-dir, SIGHUP reopens the JSONL file and
// the transcript both, so rotating the pair by renaming works.
func TestRunLogDirSIGHUP(t *testing.T) {
	clearEnv(t)
	up := httptest.NewServer(fakeupstream.New(fakeupstream.Options{}))
	defer up.Close()
	dir := t.TempDir()
	c := mustParse(t, "--upstream", up.URL+"/v1", "--port", "0", "--log-dir", dir)
	var errb syncbuf.Buffer
	sigs := make(chan os.Signal, 4)
	done := make(chan int, 1)
	go func() { done <- c.run(io.Discard, &errb, sigs) }()
	base := listenBase(t, &errb)
	post := func(question string) {
		t.Helper()
		body := `{"model":"m","messages":[{"role":"user","content":"` + question + `"}]}`
		res, err := (&http.Client{Timeout: 5 * time.Second}).Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	files := func() (jsonlPath, mdPath string) {
		m, _ := filepath.Glob(filepath.Join(dir, "proxy-*.jsonl"))
		if len(m) != 1 {
			t.Fatalf("%s holds %q", dir, m)
		}
		return m[0], strings.TrimSuffix(m[0], ".jsonl") + ".md"
	}
	post("before rotation")
	jsonlPath, mdPath := files()
	waitFor(t, 5*time.Second, "the first section", func() bool {
		b, _ := os.ReadFile(mdPath)
		return bytes.Contains(b, []byte("before rotation"))
	})
	for _, p := range []string{jsonlPath, mdPath} {
		if err := os.Rename(p, p+".1"); err != nil {
			t.Fatal(err)
		}
	}
	sigs <- syscall.SIGHUP
	waitFor(t, 5*time.Second, "the reopened files", func() bool {
		_, err1 := os.Stat(jsonlPath)
		_, err2 := os.Stat(mdPath)
		return err1 == nil && err2 == nil
	})
	post("after rotation")
	sigs <- syscall.SIGTERM
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errb.String())
	}
	for _, f := range []struct {
		path       string
		has, hasNo string
	}{
		{jsonlPath + ".1", "before rotation", "after rotation"},
		{mdPath + ".1", "before rotation", "after rotation"},
		{jsonlPath, "after rotation", "before rotation"},
		{mdPath, "after rotation", "before rotation"},
	} {
		b, _ := os.ReadFile(f.path)
		if !bytes.Contains(b, []byte(f.has)) || bytes.Contains(b, []byte(f.hasNo)) {
			t.Errorf("%s:\n%s", f.path, b)
		}
	}
}

// TestTranscriptOpenFails: a transcript that cannot be opened is an error
// that says which file it was.
func TestTranscriptOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "x.md")
	if _, err := newTranscript(path, log.New(io.Discard, "", 0), false); err == nil || !strings.HasPrefix(err.Error(), "open transcript: ") {
		t.Errorf("newTranscript in a missing directory: %v, want open transcript: …", err)
	}
}
