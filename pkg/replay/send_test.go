package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/llmtap/llmtap/pkg/proxy"
	"github.com/llmtap/llmtap/pkg/record"
)

// recSink keeps copies of the records' fields a test looks at.
type recSink struct {
	mu   sync.Mutex
	recs []record.Record
	body [][]byte
}

func (s *recSink) Record(rec *record.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := *rec
	if rec.Response != nil {
		res := *rec.Response
		r.Response = &res
		s.body = append(s.body, bytes.Clone(rec.Response.Body.Data))
	} else {
		s.body = append(s.body, nil)
	}
	s.recs = append(s.recs, r)
}

func TestSendThroughTap(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte(`{"ok":true}`))
		_ = zw.Close()
	}))
	defer up.Close()
	sink := &recSink{}
	s, err := NewSender(proxy.Config{Upstream: up.URL + "/v1", Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{
		Of: "orig-1", Method: "POST", Path: "/v1/chat/completions", Query: "a=%2F",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-secret-0123456789abcd"}},
		Body:   []byte(`{"model":"m"}`),
	}
	sched := time.Now()
	s.Send(context.Background(), req, Plan{Scheduled: sched, Queued: 3 * time.Millisecond, HasQueued: true})
	s.Wait()

	if got.URL.Path != "/v1/chat/completions" || got.URL.RawQuery != "a=%2F" || !bytes.Equal(gotBody, req.Body) {
		t.Errorf("target got %s %s? %s", got.URL.Path, got.URL.RawQuery, gotBody)
	}
	// Only the request's own headers: no User-Agent or Accept-Encoding added.
	for _, h := range []string{"User-Agent", "Accept-Encoding", "X-Forwarded-For"} {
		if v, ok := got.Header[h]; ok {
			t.Errorf("target got %s: %q", h, v)
		}
	}
	if got.Header.Get("Authorization") != "Bearer sk-secret-0123456789abcd" {
		t.Errorf("authorization %q", got.Header.Get("Authorization"))
	}
	if len(sink.recs) != 1 {
		t.Fatalf("%d records", len(sink.recs))
	}
	rec := sink.recs[0]
	rp := rec.Replay
	if rp == nil || rp.Of != "orig-1" || !rp.Scheduled.Equal(sched) || rp.Lag != rec.Start.Sub(sched) || rp.Lag < 0 ||
		rp.Queued != 3*time.Millisecond || !rp.HasQueued {
		t.Errorf("replay %+v (start %v)", rp, rec.Start)
	}
	if rec.Client != "" || rec.Path != "/v1/chat/completions" || rec.Query != "a=%2F" {
		t.Errorf("record client %q path %q query %q", rec.Client, rec.Path, rec.Query)
	}
	for _, h := range rec.Request.Headers {
		if h.Name == "authorization" && h.Value == "Bearer sk-secret-0123456789abcd" {
			t.Error("secret reached the record")
		}
	}
	if rec.Response.Body.ContentEncoding != "gzip" || string(sink.body[0]) != `{"ok":true}` {
		t.Errorf("response body %q, content encoding %q", sink.body[0], rec.Response.Body.ContentEncoding)
	}
}

func TestSendShutdown(t *testing.T) {
	arrived := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		close(arrived)
		<-r.Context().Done()
	}))
	defer up.Close()
	sink := &recSink{}
	s, err := NewSender(proxy.Config{Upstream: up.URL, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cut := context.WithCancelCause(context.Background())
	go func() {
		<-arrived
		cut(proxy.ErrShutdown)
	}()
	s.Send(ctx, &Request{Of: "x", Method: "POST", Path: "/v1/chat/completions", Header: http.Header{}}, Plan{Scheduled: time.Now()})
	s.Wait()
	if len(sink.recs) != 1 || sink.recs[0].Error == nil || sink.recs[0].Error.Kind != record.KindShutdown {
		for _, r := range sink.recs {
			t.Logf("record %+v error %+v response %+v", r, r.Error, r.Response)
		}
		t.Fatal("want one record cut by shutdown")
	}
	// The cut may come before the answer's head reached the tap; when it
	// came after, the record keeps what arrived.
	if res := sink.recs[0].Response; res != nil && string(sink.body[0]) != "data: 1\n\n" && len(sink.body[0]) != 0 {
		t.Errorf("kept %q, timing %v", sink.body[0], sink.recs[0].Response.Timing)
	}
}

// TestSendSharedRequest: --loop sends one Request many times at once; the
// sends only read it (run with -race).
func TestSendSharedRequest(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
	}))
	defer up.Close()
	sink := &recSink{}
	s, err := NewSender(proxy.Config{Upstream: up.URL, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Of: "x", Method: "POST", Path: "/v1/chat/completions",
		Header: http.Header{"Content-Type": {"application/json"}, "Expect": {"100-continue"}, "X-Forwarded-For": {"10.0.0.1"}},
		Body:   []byte(`{"model":"m"}`)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Send(context.Background(), req, Plan{Scheduled: time.Now()})
		}()
	}
	wg.Wait()
	s.Wait()
	if len(sink.recs) != 8 || len(req.Header) != 3 {
		t.Errorf("%d records; header now %v", len(sink.recs), req.Header)
	}
}

// TestSendBadMethod: a method net/http will not send is still one attempt,
// recorded with its failure.
func TestSendBadMethod(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the upstream got a request")
	}))
	defer up.Close()
	sink := &recSink{}
	s, err := NewSender(proxy.Config{Upstream: up.URL, Sink: sink, ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	s.Send(context.Background(), &Request{Of: "x", Method: "BAD METHOD", Path: "/v1/chat/completions", Header: http.Header{}}, Plan{Scheduled: time.Now()})
	s.Wait()
	if len(sink.recs) != 1 || sink.recs[0].Error == nil || sink.recs[0].Method != "BAD METHOD" {
		t.Fatalf("records %+v", sink.recs)
	}
}
