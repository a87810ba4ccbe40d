package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// payloads holds every request and response body of the benchmark, built
// once from the same settings in the load generator and in the upstream
// process, so the generator knows the exact byte count of each answer.
type payloads struct {
	plainReq, sseReq, smallReq, slowReq, bigReq []byte

	plainResp []byte   // ~1 KB chat.completion, sent with Content-Length
	sseChunks [][]byte // one SSE event per chunk, [DONE] last
	sseBytes  int64
	// smallChunks is the stream of many short events (reasoning tokens),
	// [DONE] last.
	smallChunks [][]byte
	smallBytes  int64
	slowBytes   int64  // slow streams send sseChunks[:slowChunks] then the tail
	bigSlab     []byte // a 32 KiB run of SSE events, repeated
	bigSlabs    int    // how many slabs make up the big stream
	bigBytes    int64
	doneEvent   []byte
}

// streamSettings are passed from the bench to its upstream process as flags.
type streamSettings struct {
	Chunks       int
	SmallChunks  int
	SlowChunks   int
	SlowInterval time.Duration
	BigMB        int
}

func requestBody(model string, stream bool) []byte {
	return fmt.Appendf(nil, `{"model":%q,"messages":[{"role":"system","content":"You are a terse assistant used by a benchmark."},`+
		`{"role":"user","content":"Say hello in one short sentence, and nothing else, please."}],"temperature":0,"stream":%t}`, model, stream)
}

func chunkEvent(model, content string) []byte {
	return fmt.Appendf(nil, `data: {"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1767225600,"model":%q,`+
		`"system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"content":%q},"logprobs":null,"finish_reason":null}]}`+"\n\n",
		model, content)
}

func newPayloads(s streamSettings) *payloads {
	p := &payloads{
		plainReq:  requestBody("bench-plain", false),
		sseReq:    requestBody("bench-sse", true),
		smallReq:  requestBody("bench-sse-small", true),
		slowReq:   requestBody("bench-slow", true),
		bigReq:    requestBody("bench-big", true),
		doneEvent: []byte("data: [DONE]\n\n"),
	}

	// A realistic ~1 KB non-streamed answer.
	content := strings.Repeat("Hello! This is a benchmark answer of about one kilobyte. ", 11)
	p.plainResp = fmt.Appendf(nil, `{"id":"chatcmpl-bench0001","object":"chat.completion","created":1767225600,"model":"bench-plain",`+
		`"system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},`+
		`"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":31,"completion_tokens":132,"total_tokens":163}}`, content)

	n := max(s.Chunks, s.SlowChunks, 1)
	for i := range n {
		p.sseChunks = append(p.sseChunks, chunkEvent("bench-sse", fmt.Sprintf("tok%02d ", i)))
	}
	p.sseChunks = append(p.sseChunks, []byte(`data: {"id":"chatcmpl-bench0001","object":"chat.completion.chunk","created":1767225600,"model":"bench-sse",`+
		`"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":31,"completion_tokens":20,"total_tokens":51}}`+"\n\n"))
	tail := p.sseChunks[len(p.sseChunks)-1]
	for _, c := range p.sseChunks[:s.Chunks] {
		p.sseBytes += int64(len(c))
	}
	p.sseBytes += int64(len(tail) + len(p.doneEvent))
	for _, c := range p.sseChunks[:s.SlowChunks] {
		p.slowBytes += int64(len(c))
	}
	p.slowBytes += int64(len(tail) + len(p.doneEvent))

	// A reasoning model's stream: many events of a token or two each.
	for i := range max(s.SmallChunks, 1) {
		p.smallChunks = append(p.smallChunks, fmt.Appendf(nil, `data: {"id":"chatcmpl-bench0002","object":"chat.completion.chunk","created":1767225600,`+
			`"model":"bench-sse-small","choices":[{"index":0,"delta":{"reasoning_content":"r%02d"}}]}`+"\n\n", i%100))
	}
	p.smallChunks = append(p.smallChunks, p.doneEvent)
	for _, c := range p.smallChunks {
		p.smallBytes += int64(len(c))
	}

	// The big stream: 32 KiB slabs of ~1 KB events, like a model that writes
	// long deltas; one Write+Flush per slab.
	ev := chunkEvent("bench-big", strings.Repeat("lorem ipsum dolor sit amet ", 36))
	var slab bytes.Buffer
	for slab.Len()+len(ev) <= 32<<10 {
		slab.Write(ev)
	}
	p.bigSlab = slab.Bytes()
	p.bigSlabs = max(1, (s.BigMB<<20)/len(p.bigSlab))
	p.bigBytes = int64(p.bigSlabs)*int64(len(p.bigSlab)) + int64(len(p.doneEvent))
	return p
}

// upstreamHandler is the fast mock LLM API. It answers POST
// /v1/chat/completions (any path, really) by the model named in the body:
// bench-plain (JSON), bench-sse (fast stream), bench-sse-small (fast
// stream of SmallChunks short events), bench-slow (stream with
// SlowInterval between chunks), bench-big (a BigMB stream).
type upstreamHandler struct {
	s    streamSettings
	p    *payloads
	bufs sync.Pool
}

func (h *upstreamHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	body := (*bp)[:0]
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return
		}
	}
	*bp = body

	model := ""
	if i := bytes.Index(body, []byte(`"model":"`)); i >= 0 {
		rest := body[i+len(`"model":"`):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			model = string(rest[:j])
		}
	}
	hdr := w.Header()
	switch model {
	case "bench-plain":
		hdr["Content-Type"] = []string{"application/json"}
		hdr["Content-Length"] = []string{fmt.Sprint(len(h.p.plainResp))}
		w.Write(h.p.plainResp)
	case "bench-sse", "bench-slow":
		n, delay := h.s.Chunks, time.Duration(0)
		if model == "bench-slow" {
			n, delay = h.s.SlowChunks, h.s.SlowInterval
		}
		hdr["Content-Type"] = []string{"text/event-stream"}
		hdr["Cache-Control"] = []string{"no-cache"}
		rc := http.NewResponseController(w)
		for i := range n {
			if i > 0 && delay > 0 {
				time.Sleep(delay)
			}
			if _, err := w.Write(h.p.sseChunks[i]); err != nil {
				return
			}
			rc.Flush()
		}
		w.Write(h.p.sseChunks[len(h.p.sseChunks)-1])
		w.Write(h.p.doneEvent)
	case "bench-sse-small":
		hdr["Content-Type"] = []string{"text/event-stream"}
		hdr["Cache-Control"] = []string{"no-cache"}
		rc := http.NewResponseController(w)
		for _, c := range h.p.smallChunks {
			if _, err := w.Write(c); err != nil {
				return
			}
			rc.Flush()
		}
	case "bench-big":
		hdr["Content-Type"] = []string{"text/event-stream"}
		rc := http.NewResponseController(w)
		for range h.p.bigSlabs {
			if _, err := w.Write(h.p.bigSlab); err != nil {
				return
			}
			rc.Flush()
		}
		w.Write(h.p.doneEvent)
	default:
		hdr["Content-Type"] = []string{"application/json"}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"unknown bench model","type":"invalid_request_error"}}`)
	}
}

// serveUpstream runs the mock upstream in this process until it is killed.
func serveUpstream(s streamSettings) error {
	h := &upstreamHandler{s: s, p: newPayloads(s)}
	h.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench-upstream: listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, MaxHeaderBytes: 1 << 20}
	return srv.Serve(ln)
}
