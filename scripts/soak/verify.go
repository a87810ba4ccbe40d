package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// recordLine is the part of a record the soak checks.
type recordLine struct {
	ID      string    `json:"id"`
	End     time.Time `json:"end"`
	Request struct {
		Headers map[string]string `json:"headers"`
	} `json:"request"`
	Response *struct {
		Status          int             `json:"status"`
		Body            json.RawMessage `json:"body"`
		BodyEncoding    string          `json:"body_encoding"`
		BodyBytes       int64           `json:"body_bytes"`
		ContentEncoding string          `json:"content_encoding"`
		DecodeError     string          `json:"decode_error"`
		Truncated       bool            `json:"truncated"`
	} `json:"response"`
	Error *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
}

func (r *recordLine) kind() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Kind
}

// body returns the recorded response body as bytes (a json body as the
// compact text it is embedded as).
func (r *recordLine) body() ([]byte, error) {
	if r.Response == nil {
		return nil, nil
	}
	switch r.Response.BodyEncoding {
	case "":
		return nil, nil
	case "json":
		return r.Response.Body, nil
	case "text":
		var s string
		err := json.Unmarshal(r.Response.Body, &s)
		return []byte(s), err
	case "base64":
		var s string
		if err := json.Unmarshal(r.Response.Body, &s); err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown body_encoding %q", r.Response.BodyEncoding)
}

// outputFile is one file llmtap wrote to, with its lines.
type outputFile struct {
	path  string
	raw   []byte
	lines int
}

// readOutputs reads the rotated file and the current one.
func readOutputs(paths ...string) ([]outputFile, error) {
	var out []outputFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, outputFile{path: p, raw: b, lines: bytes.Count(b, []byte("\n"))})
	}
	return out, nil
}

// result is everything the soak measured and checked.
type result struct {
	Exchanges   int     `json:"exchanges"`
	Race        bool    `json:"race"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`

	RequestsSent   int   `json:"requests_sent"`
	ClientRetries  int   `json:"client_retries"`
	RecordsWritten int   `json:"records_written"`
	FileRecords    []int `json:"file_records"`
	IDsOnce        int   `json:"ids_once"`
	IDsMissing     int   `json:"ids_missing"`
	IDsDuplicated  int   `json:"ids_duplicated"`
	UnknownRecords int   `json:"unknown_records"`
	InvalidJSON    int   `json:"invalid_json"`
	PartialLines   int   `json:"partial_lines"`

	BodyMismatchComplete int `json:"body_mismatch_complete"`
	BodyNotPrefixCut     int `json:"body_not_prefix_cut"`
	CutRecordedComplete  int `json:"cut_recorded_complete"`
	StatusMismatch       int `json:"status_mismatch"`
	ClientMismatch       int `json:"client_mismatch"`
	UnexpectedKinds      int `json:"unexpected_kinds"`
	UpstreamTwice        int `json:"upstream_twice"`
	Secrets              int `json:"secrets"`
	DataRaces            int `json:"data_races"`
	ServerPanics         int `json:"server_panics"`

	ExitStatus int        `json:"exit_status"`
	ProcStart  procSample `json:"proc_start"`
	ProcEnd    procSample `json:"proc_end"`
	PeakRSSKiB int64      `json:"peak_rss_kib"`
	// ProcRest is sampled after RestSeconds idle (soak --rest), nil without.
	ProcRest    *procSample `json:"proc_rest,omitempty"`
	RestSeconds float64     `json:"rest_seconds,omitempty"`

	Faults     map[string]int `json:"faults"`
	ErrorKinds map[string]int `json:"error_kinds"`
	Disturbed  int            `json:"disturbed_by_outage"`
	OutageMS   float64        `json:"outage_ms"`
	Rotations  int            `json:"rotations"`
	CutAtTerm  int            `json:"cut_at_sigterm"`

	Problems []string `json:"problems,omitempty"`
	OK       bool     `json:"ok"`
}

// problem notes one failed check (the first few examples of each kind are
// kept, so the report stays short).
func (r *result) problem(format string, args ...any) {
	if len(r.Problems) < 40 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// verify checks the records against what the clients did and what the
// upstream sent.
func verify(r *result, files []outputFile, plans []*plan, outcomes []outcome, up *upstream, sec secrets, stderr string, outage [2]time.Time) {
	byID := map[string]*plan{}
	for _, p := range plans {
		byID[p.id] = p
	}
	counts := map[string]int{}
	recs := map[string]*recordLine{}
	r.ErrorKinds = map[string]int{}
	for _, f := range files {
		r.FileRecords = append(r.FileRecords, f.lines)
		br := bufio.NewReader(bytes.NewReader(f.raw))
		for {
			line, err := br.ReadBytes('\n')
			if len(line) == 0 && err == io.EOF {
				break
			}
			if err == io.EOF {
				r.PartialLines++
				r.problem("%s ends in a partial line of %d bytes", f.path, len(line))
				break
			}
			r.RecordsWritten++
			rec := &recordLine{}
			if err := json.Unmarshal(line, rec); err != nil || !json.Valid(line) {
				r.InvalidJSON++
				r.problem("%s: a record is not valid JSON: %v: %.200s", f.path, err, line)
				continue
			}
			id := rec.Request.Headers["x-soak-id"]
			if byID[id] == nil {
				r.UnknownRecords++
				r.problem("record %s has no known soak id (%q)", rec.ID, id)
				continue
			}
			counts[id]++
			recs[id] = rec
			if k := rec.kind(); k != "" {
				r.ErrorKinds[k]++
			}
		}
	}
	for i, p := range plans {
		switch n := counts[p.id]; {
		case n == 1:
			r.IDsOnce++
		case n == 0:
			r.IDsMissing++
			o := outcomes[i]
			var sent []string
			for _, a := range up.answers(p.id) {
				sent = append(sent, fmt.Sprintf("%d %dB finished=%v", a.status, len(a.body), a.finished))
			}
			r.problem("%s (%s, %s): no record; the client got %d %q after %d writes, %v..%v from the outage's start; the upstream sent %v",
				p.id, p.ep.name, p.fault, o.status, o.err, o.writes, o.start.Sub(outage[0]), o.end.Sub(outage[0]), sent)
		default:
			r.IDsDuplicated++
			r.problem("%s: %d records", p.id, n)
		}
	}

	for i, p := range plans {
		o := outcomes[i]
		rec := recs[p.id]
		answers := up.answers(p.id)
		if len(answers) > 1 {
			r.UpstreamTwice++
		}
		var sent *sentAnswer
		if len(answers) > 0 {
			sent = answers[len(answers)-1]
		}
		// An exchange is disturbed by the outage when it overlaps it. A
		// client that cancels leaves llmtap's side running a little longer
		// (the proxy's 100 ms clientGoneGrace, or until a write to the
		// client fails): if the upstream dies then, the record rightly says
		// upstream_aborted.
		llmtapEnd := o.end
		if p.fault == faultCancel {
			llmtapEnd = llmtapEnd.Add(250 * time.Millisecond)
		}
		disturbed := !o.start.IsZero() && !outage[0].IsZero() &&
			o.start.Before(outage[1].Add(100*time.Millisecond)) && llmtapEnd.After(outage[0])
		if disturbed {
			r.Disturbed++
		}
		if p.fault == faultHang && rec != nil && rec.kind() == "shutdown" {
			r.CutAtTerm++
		}

		// What the client got, against what the upstream sent (a 502 or 504
		// is llmtap's own answer).
		gotWhole := o.clean && sent != nil && sent.finished && o.status == sent.status
		if gotWhole && (o.n != int64(len(sent.body)) || o.crc != crc32.ChecksumIEEE(sent.body)) {
			r.ClientMismatch++
			r.problem("%s: the client got %d bytes, the upstream sent %d (or other bytes)", p.id, o.n, len(sent.body))
		}
		if rec == nil {
			continue
		}

		// The record's body, against what the upstream sent.
		got, err := rec.body()
		if err != nil {
			r.BodyMismatchComplete++
			r.problem("%s: record body: %v", p.id, err)
			continue
		}
		var want []byte
		if sent != nil {
			want = sent.body
			if rec.Response != nil && rec.Response.ContentEncoding == "gzip" {
				// A cut gzip stream is recorded decoded up to the cut (with
				// decode_error), or as the wire bytes when nothing decoded.
				if d := gunzip(want); rec.Response.DecodeError == "" || len(d) > 0 && bytes.HasPrefix(d, got) {
					want = d
				}
			}
			if rec.Response != nil && rec.Response.BodyEncoding == "json" {
				var c bytes.Buffer
				if json.Compact(&c, want) == nil {
					want = c.Bytes()
				}
			}
			if rec.Response != nil && rec.Response.Status != sent.status {
				r.StatusMismatch++
				r.problem("%s: recorded status %d, the upstream sent %d", p.id, rec.Response.Status, sent.status)
			}
		}
		switch {
		case rec.Error == nil && !bytes.Equal(got, want):
			r.BodyMismatchComplete++
			r.problem("%s (%s): recorded body (%d bytes) differs from what the upstream sent (%d bytes)", p.id, p.fault, len(got), len(want))
		case rec.Error != nil && !bytes.HasPrefix(want, got):
			r.BodyNotPrefixCut++
			r.problem("%s (%s, %s): recorded body (%d bytes) is not a prefix of what the upstream sent (%d bytes)", p.id, p.fault, rec.kind(), len(got), len(want))
		}
		if rec.Error == nil && sent != nil && !sent.finished {
			r.CutRecordedComplete++
			r.problem("%s (%s): the upstream cut the answer, the record says it was complete", p.id, p.fault)
		}
		if rec.Error == nil && rec.Response == nil {
			r.CutRecordedComplete++
			r.problem("%s: a record with neither a response nor an error", p.id)
		}

		// The error kind, against the fault the plan asked for.
		if !disturbed && !kindExpected(p.fault, rec.kind()) {
			r.UnexpectedKinds++
			msg := ""
			if rec.Error != nil {
				msg = rec.Error.Message
			}
			r.problem("%s (%s, %s): record error %q (%s), client %d %q; client %v..%v, record end %v, from the outage's start",
				p.id, p.ep.name, p.fault, rec.kind(), msg, o.status, o.err, o.start.Sub(outage[0]), o.end.Sub(outage[0]), rec.End.Sub(outage[0]))
		}
		if gotWhole && rec.Error != nil {
			r.UnexpectedKinds++
			r.problem("%s (%s): the client got the whole answer, the record says %q", p.id, p.fault, rec.kind())
		}
	}

	// net/http logs a recovered handler or connection panic on llmtap's
	// stderr; there must be none.
	r.ServerPanics = strings.Count(stderr, "http: panic serving")
	if r.ServerPanics > 0 {
		r.problem("llmtap's server recovered %d panics (see its stderr)", r.ServerPanics)
	}

	// A race-enabled llmtap reports data races on stderr.
	r.DataRaces = strings.Count(stderr, "WARNING: DATA RACE")
	if r.DataRaces > 0 {
		r.problem("llmtap reported %d data races on stderr", r.DataRaces)
	}

	// Secrets, in every output file and in llmtap's stderr.
	for _, core := range sec.cores() {
		for _, f := range files {
			r.Secrets += bytes.Count(f.raw, []byte(core))
		}
		r.Secrets += strings.Count(stderr, core)
	}
	if r.Secrets > 0 {
		r.problem("%d secrets found in the output or on stderr", r.Secrets)
	}
	// The soak's own report shows client errors, which quote URLs.
	for i, p := range r.Problems {
		for _, core := range sec.cores() {
			p = strings.ReplaceAll(p, core, "[SECRET]")
		}
		r.Problems[i] = p
	}
}

// kindExpected reports whether a record's error kind fits the plan's fault,
// for an exchange the upstream's outage did not touch.
func kindExpected(f fault, kind string) bool {
	switch f {
	case faultNone, faultSlow, faultStatus, faultGzip, faultTailSlow:
		return kind == ""
	case faultAbort:
		return kind == "upstream_aborted"
	case faultCancel:
		// A stream whose last events were already on their way when the
		// client left ends complete on llmtap's side.
		return kind == "client_cancelled" || kind == ""
	case faultHang:
		return kind == "shutdown"
	}
	return false
}

// gunzip decodes as much of b as it can.
func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return b
	}
	out, _ := io.ReadAll(zr)
	return out
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
