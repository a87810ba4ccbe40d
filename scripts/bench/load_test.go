package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunLoadStagger checks that the workers' first requests are spread
// over the stagger time when asked, and arrive together when not: the slow
// case's time to first byte means different things in the two.
func TestRunLoadStagger(t *testing.T) {
	const conns = 4
	const streamLen = 200 * time.Millisecond
	for _, tc := range []struct {
		name    string
		stagger time.Duration
		// the spread of the first conns arrivals must be in [minSpread, maxSpread]
		minSpread, maxSpread time.Duration
	}{
		{"lockstep", 0, 0, 40 * time.Millisecond},
		{"staggered", streamLen, 100 * time.Millisecond, streamLen + 60*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var arrivals []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrivals = append(arrivals, time.Now())
				mu.Unlock()
				time.Sleep(streamLen)
				w.Write([]byte("ok"))
			}))
			defer srv.Close()
			client := &http.Client{Transport: newTransport(conns)}
			defer client.Transport.(*http.Transport).CloseIdleConnections()

			var sent atomic.Int64
			lr := runLoad(context.Background(), client, loadSpec{
				url: srv.URL, body: []byte("{}"), wantBytes: 2, conns: conns,
				warmup: streamLen + 50*time.Millisecond, duration: 100 * time.Millisecond, stagger: tc.stagger,
			}, &sent)
			if lr.errors != 0 {
				t.Fatalf("%d errors, first: %s", lr.errors, lr.firstErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(arrivals) < conns {
				t.Fatalf("%d requests arrived, want at least %d", len(arrivals), conns)
			}
			first := slices.Clone(arrivals[:conns])
			slices.SortFunc(first, time.Time.Compare)
			spread := first[conns-1].Sub(first[0])
			if spread < tc.minSpread || spread > tc.maxSpread {
				t.Errorf("first %d requests arrived over %v, want %v to %v", conns, spread, tc.minSpread, tc.maxSpread)
			}
		})
	}
}
