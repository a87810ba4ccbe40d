package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
	"time"
)

// fault is what a plan does to its exchange on purpose.
type fault string

const (
	faultNone     fault = "none"
	faultAbort    fault = "upstream_cut"  // the upstream cuts the stream mid-way
	faultCancel   fault = "client_cancel" // the client goes away mid-stream
	faultSlow     fault = "slow_reader"   // the client reads a large stream very slowly
	faultStatus   fault = "error_status"  // the upstream answers 429/500/503
	faultGzip     fault = "gzip"          // the upstream compresses its answer
	faultHang     fault = "hang"          // in flight at SIGTERM, never ends: cut by the grace period
	faultTailSlow fault = "tail_slow"     // in flight at SIGTERM, ends within the grace period
)

// endpoint is one kind of request.
type endpoint struct {
	name   string
	method string
	path   string
	stream bool
	weight int
	body   func(id string) string // nil: no body
}

var endpoints = []endpoint{
	{"chat", "POST", "/v1/chat/completions", false, 18, func(id string) string {
		return `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"soak ` + id + `: say hello"}]}`
	}},
	{"chat-stream", "POST", "/v1/chat/completions", true, 24, func(id string) string {
		return `{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"soak ` + id + `: say hello"}]}`
	}},
	{"chat-tools-stream", "POST", "/v1/chat/completions", true, 4, func(id string) string {
		return `{"model":"gpt-4o","stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"soak ` + id + `: weather?"}]}`
	}},
	{"completions-stream", "POST", "/v1/completions", true, 3, func(id string) string {
		return `{"model":"gpt-3.5-turbo-instruct","stream":true,"prompt":"soak ` + id + `"}`
	}},
	{"responses", "POST", "/v1/responses", false, 8, func(id string) string {
		return `{"model":"gpt-4o-mini","input":"soak ` + id + `"}`
	}},
	{"responses-stream", "POST", "/v1/responses", true, 12, func(id string) string {
		return `{"model":"gpt-4o-mini","stream":true,"input":"soak ` + id + `"}`
	}},
	{"messages", "POST", "/v1/messages", false, 8, func(id string) string {
		return `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"soak ` + id + `"}]}`
	}},
	{"messages-stream", "POST", "/v1/messages", true, 12, func(id string) string {
		return `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"soak ` + id + `"}]}`
	}},
	{"embeddings", "POST", "/v1/embeddings", false, 7, func(id string) string {
		return `{"model":"text-embedding-3-small","input":["soak ` + id + `","two"]}`
	}},
	{"models", "GET", "/v1/models", false, 4, nil},
}

// plan is one exchange to drive.
type plan struct {
	n        int
	id       string
	ep       *endpoint
	fault    fault
	headers  map[string]string
	keyQuery bool // the secret also rides in ?key=
}

// secrets are the keys every request carries; none may reach any output.
type secrets struct {
	bearer, apiKey, queryKey string
}

// cores are the parts of the keys a redacted value never shows (a masked
// value may keep the last four characters).
func (s secrets) cores() []string {
	return []string{s.bearer[:len(s.bearer)-4], s.apiKey[:len(s.apiKey)-4], s.queryKey[:len(s.queryKey)-4]}
}

func newSecrets(rng *rand.Rand) secrets {
	hex := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdef"[rng.IntN(16)]
		}
		return string(b)
	}
	return secrets{
		bearer:   "sk-proj-SOAKBEARER" + hex(32),
		apiKey:   "sk-ant-api03-SOAKXAPI" + hex(32),
		queryKey: "AIzaSOAKQUERY" + hex(24),
	}
}

// makePlans draws n plans: the main mix, then tail plans that will be in
// flight at SIGTERM. Faults: 5% of streams cut by the upstream, 5% of
// streams cancelled by the client, 2% of exchanges read very slowly, 2%
// error statuses, 3% gzipped answers.
func makePlans(rng *rand.Rand, n, tail int, runTag string) []*plan {
	total := 0
	for _, e := range endpoints {
		total += e.weight
	}
	plans := make([]*plan, n)
	for i := range plans {
		p := &plan{n: i, id: fmt.Sprintf("soak-%s-%06d", runTag, i), fault: faultNone, headers: map[string]string{}}
		plans[i] = p
		if i >= n-tail {
			p.ep = &endpoints[1] // chat-stream
			if (n-i)%2 == 0 {
				p.fault = faultHang
				p.headers["X-Fake-Hang"] = "1"
			} else {
				p.fault = faultTailSlow
				p.headers["X-Fake-Chunks"] = "5"
				p.headers["X-Fake-Chunk-Delay"] = "40ms"
			}
			continue
		}
		w := rng.IntN(total)
		for j := range endpoints {
			if w < endpoints[j].weight {
				p.ep = &endpoints[j]
				break
			}
			w -= endpoints[j].weight
		}
		p.keyQuery = p.ep.name == "embeddings" || rng.IntN(20) == 0
		x := rng.IntN(1000)
		switch {
		case p.ep.stream && x < 50:
			p.fault = faultAbort
			p.headers["X-Fake-Chunks"] = "8"
			p.headers["X-Fake-Abort-After"] = fmt.Sprint(1 + rng.IntN(4))
		case p.ep.stream && p.ep.name != "chat-tools-stream" && x < 100:
			// Not a tool call: its stream is too short to be cut mid-way.
			p.fault = faultCancel
			p.headers["X-Fake-Chunks"] = "20"
			p.headers["X-Fake-Chunk-Delay"] = "10ms"
		case p.ep.stream && p.ep.name != "chat-tools-stream" && x < 140:
			p.fault = faultSlow
			p.headers["X-Fake-Size"] = "131072"
		case x >= 950 && x < 970:
			p.fault = faultStatus
			p.headers["X-Fake-Status"] = []string{"429", "500", "503"}[rng.IntN(3)]
		case x >= 970:
			p.fault = faultGzip
			p.headers["X-Fake-Gzip"] = "1"
		}
		if p.ep.stream && p.fault == faultNone && rng.IntN(3) == 0 {
			// Some streams take a while, so that the rotation and the
			// upstream's restart find exchanges in flight.
			p.headers["X-Fake-Chunk-Delay"] = "2ms"
		}
	}
	return plans
}

// outcome is what the client saw of one exchange.
type outcome struct {
	start, end time.Time
	status     int
	n          int64  // body bytes received
	crc        uint32 // of the body bytes received
	clean      bool   // the body was read to its end without error
	err        string
	writes     int // times the request was written (a client retry writes twice)
}

// clients are the HTTP clients of the soak: one for most exchanges, one
// whose connections have a tiny receive buffer, so that a slow reader
// really pushes back on llmtap.
type clients struct {
	fast, slow *http.Client
}

func newClients(concurrency int) *clients {
	fastT := &http.Transport{
		DisableCompression:  true, // the client gets the wire bytes, gzip included
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
	slowT := &http.Transport{
		DialContext:        dialer.DialContext,
		DisableCompression: true,
		DisableKeepAlives:  true,
	}
	return &clients{fast: &http.Client{Transport: fastT}, slow: &http.Client{Transport: slowT}}
}

func (c *clients) closeIdle() {
	c.fast.CloseIdleConnections()
	c.slow.CloseIdleConnections()
}

// run drives one exchange. started, if not nil, is called once the first
// bytes of the body have arrived (or the exchange ended without any).
func (c *clients) run(ctx context.Context, base string, p *plan, sec secrets, started func()) (o outcome) {
	once := func() {
		if started != nil {
			started()
			started = nil
		}
	}
	defer once()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var writes atomic.Int32
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { writes.Add(1) }})
	url := base + p.ep.path + "?soak=" + p.id
	if p.keyQuery {
		url += "&key=" + sec.queryKey
	}
	var body io.Reader
	if p.ep.body != nil {
		body = bytes.NewBufferString(p.ep.body(p.id))
	}
	req, err := http.NewRequestWithContext(ctx, p.ep.method, url, body)
	if err != nil {
		o.err = err.Error()
		return o
	}
	req.Header.Set("X-Soak-Id", p.id)
	req.Header.Set("Authorization", "Bearer "+sec.bearer)
	if p.ep.name == "messages" || p.ep.name == "messages-stream" {
		req.Header.Set("X-Api-Key", sec.apiKey)
		req.Header.Set("Anthropic-Version", "2023-06-01")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	client := c.fast
	if p.fault == faultSlow {
		client = c.slow
	}
	o.start = time.Now()
	defer func() {
		o.end = time.Now()
		o.writes = int(writes.Load())
	}()
	res, err := client.Do(req)
	if err != nil {
		o.err = err.Error()
		return o
	}
	defer res.Body.Close()
	o.status = res.StatusCode
	h := crc32.NewIEEE()
	buf := make([]byte, 32<<10)
	if p.fault == faultSlow {
		buf = buf[:2<<10]
	}
	var seen []byte // the start of the body, for the cancel plan
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			once()
			_, _ = h.Write(buf[:n])
			o.n += int64(n)
			if p.fault == faultCancel {
				seen = append(seen, buf[:n]...)
				if bytes.Contains(seen, []byte("\n\n")) {
					// Mid-stream: one event is in; the rest comes 10 ms apart.
					cancel()
					o.crc = h.Sum32()
					o.err = "cancelled by the client"
					return o
				}
			}
		}
		if err == io.EOF {
			o.clean = true
			break
		}
		if err != nil {
			o.err = err.Error()
			break
		}
		if p.fault == faultSlow {
			time.Sleep(10 * time.Millisecond)
		}
	}
	o.crc = h.Sum32()
	return o
}
