package fakeupstream

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Canned is one answer for a [Replay] to play back: wire bytes exactly as a
// real service sent them, chunked the way it chunked them.
type Canned struct {
	// Status is the status code; 0 means 200.
	Status int
	// Header holds the response headers. Content-Length is added for an
	// answer that is not an event stream and is not cut short.
	Header http.Header
	// Chunks are written in order, each flushed on its own, so a proxy
	// reads them as separate chunks.
	Chunks []string
	// Gap is the pause before each chunk after the first, long enough for
	// a proxy to read each chunk on its own (and to note its time).
	Gap time.Duration
	// Abort cuts the connection after the last chunk without finishing the
	// body, so the client sees an unexpected EOF (an upstream that fails
	// mid-stream).
	Abort bool
	// Hang sends nothing after the last chunk until the client goes away
	// (for a client that cancels mid-stream).
	Hang bool
}

// Replay is an upstream that answers each request with the next canned
// answer, whatever the request: a test or a generator of test data pushes
// the answer it wants, then sends the request. It is safe for concurrent
// use, but answers are handed out in arrival order.
type Replay struct {
	// Seen, if not nil, is called with each request and its body before it
	// is answered.
	Seen func(r *http.Request, body []byte)

	mu    sync.Mutex
	queue []Canned
}

var _ http.Handler = (*Replay)(nil)

// Push queues answers for the next requests.
func (rp *Replay) Push(answers ...Canned) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.queue = append(rp.queue, answers...)
}

// Pending is how many pushed answers are still unused.
func (rp *Replay) Pending() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return len(rp.queue)
}

// ServeHTTP plays back the next answer; with none left it answers 500 in
// the OpenAI error shape.
func (rp *Replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away while sending
	}
	if rp.Seen != nil {
		rp.Seen(r, body)
	}
	rp.mu.Lock()
	if len(rp.queue) == 0 {
		rp.mu.Unlock()
		writeError(w, apiOpenAI, http.StatusInternalServerError, "replay: no canned answer left for "+r.Method+" "+r.URL.Path)
		return
	}
	c := rp.queue[0]
	rp.queue = rp.queue[1:]
	rp.mu.Unlock()

	h := w.Header()
	for k, vs := range c.Header {
		h[k] = append([]string(nil), vs...)
	}
	if h.Get("Content-Length") == "" && !c.Abort && !c.Hang && !isEventStream(h.Get("Content-Type")) {
		n := 0
		for _, ch := range c.Chunks {
			n += len(ch)
		}
		h.Set("Content-Length", strconv.Itoa(n))
	}
	status := c.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	for i, ch := range c.Chunks {
		if i > 0 && !sleep(r.Context(), c.Gap) {
			return
		}
		if _, err := io.WriteString(w, ch); err != nil {
			return
		}
		flush(w)
	}
	switch {
	case c.Abort:
		panic(http.ErrAbortHandler) // net/http cuts the connection quietly
	case c.Hang:
		<-r.Context().Done()
	}
}

// isEventStream reports a text/event-stream media type.
func isEventStream(contentType string) bool {
	return len(contentType) >= 17 && contentType[:17] == "text/event-stream"
}
