package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"

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
// the transcript.
type teeLines struct {
	jsonl proxy.LineWriter
	md    *transcript
}

func (t teeLines) Write(line []byte) error {
	t.md.lines <- bytes.Clone(line) // the JSONL writer reuses line once written
	return t.jsonl.Write(line)
}
