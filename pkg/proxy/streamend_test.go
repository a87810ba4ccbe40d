package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// wholeStream is a streamed answer as an upstream that has it all at once
// sends it: head, events and the end of the body in one write, so the tap
// reads the last event and the end of the body together.
const wholeStream = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
	"d\r\ndata: first\n\n\r\n" + "c\r\ndata: last\n\n\r\n" + "0\r\n\r\n"

// earlyUpstream answers each connection with resp as soon as it has read
// the request's head, then reads and drops the rest of the body until the
// connection closes. It returns its address.
func earlyUpstream(t *testing.T, resp string) string {
	return serveRaw(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		if _, err := http.ReadRequest(r); err != nil {
			return
		}
		_, _ = io.WriteString(c, resp)
		_, _ = io.Copy(io.Discard, r)
	})
}

// TestStreamEndLeavesWithLastChunk: when the last chunk of a stream and the
// end of its body come in one read, the client gets them in one write, not
// the chunk and then the end in two. The upstream sends the head first and
// the rest once the client has the head, as a model answers after a pause.
func TestStreamEndLeavesWithLastChunk(t *testing.T) {
	head, rest, _ := strings.Cut(wholeStream, "\r\n\r\n")
	head += "\r\n\r\n"
	clientHasHead := make(chan struct{})
	upstream := serveRaw(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = io.WriteString(c, head)
		select {
		case <-clientHasHead:
			_, _ = io.WriteString(c, rest) // the events and the end, in one write
		case <-time.After(flushWait):
		}
	})

	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: front}
	tap, err := New(Config{Upstream: "http://" + upstream, Sink: &collect{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(tap)
	srv.Listener = counted
	srv.Start()
	defer srv.Close()

	res, err := rawClient.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	close(clientHasHead) // Post returns with the head
	body, err := io.ReadAll(res.Body)
	if err != nil || string(body) != "data: first\n\ndata: last\n\n" {
		t.Fatalf("client got %q, %v", body, err)
	}
	writes := counted.each()
	if len(writes) != 2 || !strings.Contains(writes[1], "data: last") || !strings.HasSuffix(writes[1], "0\r\n\r\n") {
		t.Errorf("the response took %d writes %q; want the head, then the events and the end of the body in one", len(writes), writes)
	}
}

// TestEarlyAnswerReachesClientWhileItSends: an upstream that answers before
// it has read the request body gets its whole answer to a client that is
// still sending, and waits for that answer before it sends the rest.
func TestEarlyAnswerReachesClientWhileItSends(t *testing.T) {
	tap, err := New(Config{Upstream: "http://" + earlyUpstream(t, wholeStream), Sink: &collect{}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(tap)
	defer front.Close()

	body, send := io.Pipe()
	defer send.Close()
	go func() { _, _ = io.WriteString(send, `{"messages":[`) }()
	req, err := http.NewRequest("POST", front.URL+"/v1/chat/completions", body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()

	want := "data: first\n\ndata: last\n\n"
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, len(want))
		n, _ := io.ReadFull(res.Body, buf)
		got <- string(buf[:n])
	}()
	select {
	case s := <-got:
		if s != want {
			t.Fatalf("client got %q, want %q", s, want)
		}
	case <-time.After(flushWait):
		t.Fatal("the answer's last event did not reach the client while it was still sending")
	}
	_, _ = io.WriteString(send, `]}`)
	_ = send.Close()
	if rest, err := io.ReadAll(res.Body); err != nil || len(rest) != 0 {
		t.Errorf("after the answer: %q, %v; want its end", rest, err)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
	}
}
