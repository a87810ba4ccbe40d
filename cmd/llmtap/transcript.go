package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/markdown"
	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
	"github.com/valyala/fastjson"
)

// transcript renders the Markdown transcript beside the JSONL file in
// --log-dir, as the original script did, with the renderer llmmd uses. It
// is the Transform of a jsonl.Writer of its own, so the .md behaves as the
// JSONL output does: written on a goroutine of its own, reopened by
// SIGHUP, its first failed write reported on Failed (llmtap then stops),
// and a file cut back to its last whole section after a failed write.
//
// Back-pressure: the transcript's writer has a queue of its own, of the
// same size as the JSONL writer's. When a slow disk fills it, the exchange
// that hands over its record waits for room (see teeLines), just as for a
// full JSONL queue; no record is left out of either file.
type transcript struct {
	path string
	log  *log.Logger
	md   *markdown.Renderer
	p    fastjson.Parser
	out  io.Writer // the writer the current Transform call was given
}

// newTranscript opens path for appending and starts its writer.
func newTranscript(path string, logger *log.Logger, fsync bool) (*jsonl.Writer, error) {
	t := &transcript{path: path, log: logger}
	t.md = markdown.New(t, markdown.Options{})
	return jsonl.NewWriter(clikit.AppendTo(path, "transcript"), jsonl.Options{Fsync: fsync, Transform: t.render})
}

// Write is where the renderer writes: the output of the current render.
func (t *transcript) Write(p []byte) (int, error) { return t.out.Write(p) }

// render writes the section of one record line to w. A line it cannot read
// (llmtap's own lines always parse; this is a guard) and a body it cannot
// show are reported on stderr, and the transcript goes on; only a failed
// write is an error.
func (t *transcript) render(w io.Writer, line []byte) error {
	t.out = w
	v, err := record.ParseLine(&t.p, line)
	if err != nil {
		t.log.Printf("transcript %s: a record was left out: %v", t.path, err)
		return nil
	}
	err = t.md.Record(v)
	if errors.Is(err, markdown.ErrBodyNotShown) {
		t.log.Printf("transcript %s: record %s: %v", t.path, v.ID(), err)
		return nil
	}
	return err
}

// teeLines hands each record line to the JSONL writer and a copy of it to
// the transcript. A line that WriteFunc streams (a record with a spilled
// body) is not copied: teeSink gives the transcript that record.
//
// Write hands the copy to the transcript first: when the transcript's
// queue is full, it blocks, and so does the exchange handing over its
// record (back-pressure, as for the JSONL output).
type teeLines struct {
	jsonl *jsonl.Writer
	md    *jsonl.Writer
}

var _ proxy.FuncWriter = teeLines{}

func (t teeLines) Write(line []byte) error {
	// The JSONL writer reuses line once written. A failed transcript has
	// reported its failure on Failed, and llmtap is stopping.
	_ = t.md.Write(bytes.Clone(line))
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
	md    *jsonl.Writer
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
		_ = s.md.Write(c.AppendJSON(nil))
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

// reopen reopens the JSONL output and then the transcript, if any (SIGHUP).
func reopen(w, md *jsonl.Writer) error {
	if err := w.Reopen(); err != nil {
		return err
	}
	if md == nil {
		return nil
	}
	if err := md.Reopen(); err != nil {
		return fmt.Errorf("transcript: %w", err)
	}
	return nil
}
