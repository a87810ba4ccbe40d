package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestFirstDelay checks that the workers' first requests are spread evenly
// over the stagger time when asked, and go together when not: the slow
// case's time to first byte means different things in the two.
func TestFirstDelay(t *testing.T) {
	const streamLen = 200 * time.Millisecond
	for _, tc := range []struct {
		name    string
		stagger time.Duration
		conns   int
		want    []time.Duration
	}{
		{"lockstep", 0, 4, []time.Duration{0, 0, 0, 0}},
		{"staggered", streamLen, 4, []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond}},
		{"one worker", streamLen, 1, []time.Duration{0}},
		{"no workers", streamLen, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := loadSpec{conns: tc.conns, stagger: tc.stagger}
			for w, want := range tc.want {
				if got := firstDelay(spec, w); got != want {
					t.Errorf("worker %d waits %v, want %v", w, got, want)
				}
			}
		})
	}
}

// TestRunLoadStaggered runs a staggered load to its end: every worker gets
// its requests through, whatever the machine's speed.
func TestRunLoadStaggered(t *testing.T) {
	const conns = 4
	var arrived atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: newTransport(conns)}
	defer client.Transport.(*http.Transport).CloseIdleConnections()

	var sent atomic.Int64
	lr := runLoad(context.Background(), client, loadSpec{
		url: srv.URL, body: []byte("{}"), wantBytes: 2, conns: conns,
		warmup: 300 * time.Millisecond, duration: 20 * time.Millisecond, stagger: 20 * time.Millisecond,
	}, &sent)
	if lr.errors != 0 {
		t.Fatalf("%d errors, first: %s", lr.errors, lr.firstErr)
	}
	if n := arrived.Load(); n < conns {
		t.Errorf("%d requests arrived, want at least one per worker (%d)", n, conns)
	}
}
