package statcli

import (
	"bufio"
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/llmtap/llmtap/pkg/stats"
)

// rowColumns are the columns of --rows, in order.
var rowColumns = []string{
	"id", "start", "model", "path", "api", "status", "error", "failed",
	"ttfb_ms", "ttft_ms", "ttfo_ms", "tpot_ms", "e2el_ms",
	"input_tokens", "cached_tokens", "output_tokens", "tokens_estimated",
	"itl_count", "itl_mean_ms", "itl_max_ms", "lag_ms", "queued_ms",
}

// rowWriter writes one line per exchange: a JSON object without the
// metrics that do not apply, or a CSV line with them empty.
type rowWriter struct {
	w      *bufio.Writer
	csv    bool
	header bool
	buf    []byte
	vals   [][]byte // per column, nil when absent
}

func newRowWriter(w *bufio.Writer, csv bool) *rowWriter {
	return &rowWriter{w: w, csv: csv, vals: make([][]byte, len(rowColumns))}
}

// fill sets each column's value from q: raw JSON (a number, true or
// false, or a string quoted for JSON), or nil when the column does not
// apply.
func (rw *rowWriter) fill(q *stats.Request) {
	for i := range rw.vals {
		rw.vals[i] = rw.vals[i][:0]
	}
	str := func(i int, s string) {
		if s != "" {
			rw.vals[i] = appendString(rw.vals[i], s)
		} else {
			rw.vals[i] = nil
		}
	}
	num := func(i int, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			rw.vals[i] = nil
			return
		}
		rw.vals[i] = strconv.AppendFloat(rw.vals[i], round(v), 'f', -1, 64)
	}
	integer := func(i int, v int64) {
		if v < 0 {
			rw.vals[i] = nil
			return
		}
		rw.vals[i] = strconv.AppendInt(rw.vals[i], v, 10)
	}
	boolean := func(i int, v bool) { rw.vals[i] = strconv.AppendBool(rw.vals[i], v) }

	str(0, q.ID)
	if q.Start.IsZero() {
		rw.vals[1] = nil
	} else {
		rw.vals[1] = appendString(rw.vals[1], q.Start.UTC().Format(time.RFC3339Nano))
	}
	str(2, q.Model)
	str(3, q.Path)
	str(4, q.API)
	if q.Status > 0 {
		integer(5, int64(q.Status))
	} else {
		rw.vals[5] = nil
	}
	str(6, q.ErrorKind)
	boolean(7, q.Failed)
	num(8, q.TTFB)
	num(9, q.TTFT)
	num(10, q.TTFO)
	num(11, q.TPOT)
	num(12, q.E2EL)
	integer(13, q.InputTokens)
	integer(14, q.CachedTokens)
	integer(15, q.OutputTokens)
	boolean(16, q.TokensEstimated)
	integer(17, int64(len(q.ITL)))
	if len(q.ITL) > 0 {
		var s, m float64
		for _, v := range q.ITL {
			s += v
			m = max(m, v)
		}
		num(18, s/float64(len(q.ITL)))
		num(19, m)
	} else {
		rw.vals[18], rw.vals[19] = nil, nil
	}
	num(20, q.Lag)
	num(21, q.Queued)
}

// write writes q's row; a failed write is returned by a later call or the
// final flush.
func (rw *rowWriter) write(q *stats.Request) error {
	rw.fill(q)
	b := rw.buf[:0]
	if rw.csv {
		if !rw.header {
			rw.header = true
			for i, c := range rowColumns {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, c...)
			}
			b = append(b, '\n')
		}
		for i, v := range rw.vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCSVCell(b, v)
		}
	} else {
		b = append(b, '{')
		first := true
		for i, v := range rw.vals {
			if v == nil {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = append(b, rowColumns[i]...)
			b = append(b, '"', ':')
			b = append(b, v...)
		}
		b = append(b, '}')
	}
	b = append(b, '\n')
	rw.buf = b
	_, err := rw.w.Write(b)
	return err
}

// appendCSVCell writes a JSON cell as CSV (RFC 4180): a JSON string is
// unquoted back to its text, and quoted for CSV when it needs to be.
func appendCSVCell(b, v []byte) []byte {
	if len(v) == 0 || v[0] != '"' {
		return append(b, v...)
	}
	if !bytes.ContainsAny(v, `\,`) { // the common case: no escapes, no comma
		return append(b, v[1:len(v)-1]...)
	}
	s, err := strconv.Unquote(string(v))
	if err != nil {
		s = string(v[1 : len(v)-1])
	}
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
