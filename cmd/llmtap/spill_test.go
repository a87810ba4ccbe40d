package main

import (
	"bytes"
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
)

type bytesSource []byte

func (s bytesSource) Size() int64 { return int64(len(s)) }

func (s bytesSource) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(s)), nil }

// TestTeeSinkSpilledRecords: with --log-dir, a record whose bodies are in a
// record.Source is written whole to the JSONL file, and reaches the
// transcript with its bodies read back, or replaced by a note when large.
func TestTeeSinkSpilledRecords(t *testing.T) {
	dir := t.TempDir()
	jsonlPath, mdPath := filepath.Join(dir, "x.jsonl"), filepath.Join(dir, "x.md")
	w, err := jsonl.NewWriter(func() (io.WriteCloser, error) {
		return os.OpenFile(jsonlPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	}, jsonl.Options{Release: proxy.Release})
	if err != nil {
		t.Fatal(err)
	}
	md, err := newTranscript(mdPath, log.New(io.Discard, "", 0), false)
	if err != nil {
		t.Fatal(err)
	}
	sink := teeSink{lines: proxy.LineSink{W: teeLines{jsonl: w, md: md}}, md: md}

	now := time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)
	chat := []byte(`{"model": "m", "messages": [{"role": "user", "content": "hello spilled world"}]}`)
	answer := []byte(`{"choices": [{"message": {"role": "assistant", "content": "` + strings.Repeat("long answer ", 500000) + `"}}]}`)
	mk := func(id string, req, res []byte) *record.Record {
		return &record.Record{ID: id, Start: now, End: now, Method: "POST", Path: "/v1/chat/completions",
			Request:  record.Request{Headers: []record.Header{{Name: "content-type", Value: "application/json"}}, Body: record.Body{Data: req, WireBytes: int64(len(req))}},
			Response: &record.Response{Status: 200, Headers: []record.Header{{Name: "content-type", Value: "application/json"}}, Body: record.Body{Data: res, WireBytes: int64(len(res))}}}
	}
	recs := []*record.Record{mk("small", chat, []byte(`{"choices":[{"message":{"role":"assistant","content":"hi there"}}]}`)), mk("big", chat, answer)}
	var want bytes.Buffer
	for _, r := range recs {
		want.Write(r.AppendJSON(nil))
		s := *r
		s.Request.Body.Source, s.Request.Body.Data = bytesSource(r.Request.Body.Data), nil
		res := *r.Response
		res.Body.Source, res.Body.Data = bytesSource(r.Response.Body.Data), nil
		s.Response = &res
		sink.Record(&s)
	}
	if err := errors.Join(md.Close(), w.Close()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(jsonlPath)
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("JSONL differs from AppendJSON: %d bytes, want %d", len(got), want.Len())
	}
	transcript, _ := os.ReadFile(mdPath)
	for _, s := range []string{"hello spilled world", "hi there", "the transcript leaves out the response body (" + strconv.Itoa(len(answer)) + " bytes), see the JSONL record"} {
		if !strings.Contains(string(transcript), s) {
			t.Errorf("transcript lacks %q:\n%.2000s", s, transcript)
		}
	}
}
