package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/provider"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// transcript writes the Markdown transcript beside the JSONL file in
// --log-dir, as the original script did: the same rendering as llmmd, in a
// goroutine of its own so forwarding never waits on it.
type transcript struct {
	path  string
	lines chan []byte
	done  chan struct{}
	err   error // the first write error, read after done
}

func newTranscript(path string) (*transcript, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open transcript: %w", err)
	}
	t := &transcript{path: path, lines: make(chan []byte, 1024), done: make(chan struct{})}
	go t.run(f)
	return t, nil
}

func (t *transcript) run(f *os.File) {
	defer close(t.done)
	bw := bufio.NewWriterSize(f, 64<<10)
	md := markdown.New(bw, markdown.Options{})
	var p fastjson.Parser
	for line := range t.lines {
		if t.err != nil {
			continue // keep draining so no sender blocks
		}
		v, err := p.ParseBytes(line)
		if err != nil {
			continue // llmtap's own lines always parse
		}
		view, err := record.NewView(v)
		if err != nil {
			continue
		}
		if err := md.Render(view, provider.Parse(view)); err != nil {
			t.err = err
			continue
		}
		if len(t.lines) == 0 {
			t.err = bw.Flush()
		}
	}
	if t.err == nil {
		t.err = bw.Flush()
	}
	if err := f.Close(); t.err == nil {
		t.err = err
	}
	if t.err != nil {
		t.err = fmt.Errorf("write transcript %s: %w", t.path, t.err)
	}
}

// Close waits until every line sent has been rendered and returns the first
// error. No line may be sent after Close.
func (t *transcript) Close() error {
	close(t.lines)
	<-t.done
	return t.err
}

// teeLines hands each record line to the JSONL writer and a copy of it to
// the transcript. A line that WriteFunc streams (a record with a spilled
// body) is not copied: teeSink gives the transcript that record.
type teeLines struct {
	jsonl *jsonl.Writer
	md    *transcript
}

var _ proxy.FuncWriter = teeLines{}

func (t teeLines) Write(line []byte) error {
	t.md.lines <- bytes.Clone(line) // the JSONL writer reuses line once written
	return t.jsonl.Write(line)
}

func (t teeLines) WriteFunc(fn func(io.Writer) error) error { return t.jsonl.WriteFunc(fn) }

// teeSink is the sink with a transcript. A record with a body spilled to a
// temporary file (too large to hold) reaches the transcript as a line of
// its own, its bodies read back whole up to maxTranscriptBody; a larger
// body is left out of the transcript, and its error says so (the JSONL
// record has it all), so the transcript costs bounded memory.
type teeSink struct {
	lines proxy.LineSink
	md    *transcript
}

// maxTranscriptBody is the largest spilled body the transcript renders.
const maxTranscriptBody = 4 << 20

func (s teeSink) Record(rec *record.Record) {
	if rec.HasSource() {
		c := *rec
		var notes []string
		c.Request.Body, notes = transcriptBody(rec.Request.Body, "request", notes)
		if rec.Response != nil {
			res := *rec.Response
			res.Body, notes = transcriptBody(res.Body, "response", notes)
			c.Response = &res
		}
		if len(notes) > 0 {
			e := record.Error{Kind: record.KindBodyTruncated}
			if rec.Error != nil {
				e = *rec.Error
			}
			notes = append(notes, "see the JSONL record")
			e.Message = strings.TrimPrefix(e.Message+"; the transcript leaves out "+strings.Join(notes, ", "), "; ")
			c.Error = &e
		}
		s.md.lines <- c.AppendJSON(nil)
	}
	s.lines.Record(rec)
}

// transcriptBody is b held in memory, or absent with a note saying why
// when it is too large or unreadable.
func transcriptBody(b record.Body, what string, notes []string) (record.Body, []string) {
	if b.Source == nil {
		return b, notes
	}
	src := b.Source
	b.Source = nil
	if src.Size() > maxTranscriptBody {
		return b, append(notes, fmt.Sprintf("the %s body (%d bytes)", what, src.Size()))
	}
	rc, err := src.Open()
	if err == nil {
		b.Data, err = io.ReadAll(rc)
		_ = rc.Close()
	}
	if err != nil {
		b.Data = nil
		return b, append(notes, fmt.Sprintf("the %s body (unreadable: %v)", what, err))
	}
	return b, notes
}
