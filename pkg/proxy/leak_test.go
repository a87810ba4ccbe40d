package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNothingLeaks runs a mix of exchanges (plain, streamed, spilled to a
// temporary file, abandoned by the client, failed upstream) and checks that
// once they are over and the connections are closed, goroutines, open files
// and the live heap are back where they started.
func TestNothingLeaks(t *testing.T) {
	const exchanges = 600
	const workers = 16
	chunk := `data: {"choices":[{"index":0,"delta":{"content":"token"}}]}` + "\n\n"
	big := bytes.Repeat([]byte("x"), 64<<10) // spilled: SpillThreshold is 16 KiB below
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Query().Get("kind") {
		case "plain":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"x","choices":[{"message":{"role":"assistant","content":"hi"}}]}`)
		case "stream", "abandon":
			w.Header().Set("Content-Type", "text/event-stream")
			for range 20 {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Microsecond)
			}
		case "big":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(big)
		case "fail":
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, "cut short")
		}
	})

	// Settle whatever earlier tests left behind, then take the baseline.
	rawClient.CloseIdleConnections()
	goroutines, fds, heap := settled()

	up := httptest.NewServer(upstream)
	tap, err := New(Config{Upstream: up.URL + "/v1", Sink: discard{}, IdleTimeout: 5 * time.Second,
		SpillThreshold: 16 << 10, ErrorLog: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(tap)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: workers}}

	kinds := []string{"plain", "stream", "big", "abandon", "fail"}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < exchanges; i += workers {
				if err := leakExchange(client, front.URL, kinds[i%len(kinds)], len(big)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	client.CloseIdleConnections()
	front.Close()
	tap.Wait()
	up.Close()
	if got := tap.Started(); got != exchanges {
		t.Errorf("Started() = %d, want %d", got, exchanges)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		g, f, h := settled()
		if g <= goroutines && f <= fds && h <= heap+1<<20 {
			t.Logf("after %d exchanges: goroutines %d (baseline %d), open files %d (%d), live heap %d KiB (%d KiB)",
				exchanges, g, goroutines, f, fds, h>>10, heap>>10)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("after %d exchanges: goroutines %d (baseline %d), open files %d (%d), live heap %d KiB (%d KiB)\n%s",
				exchanges, g, goroutines, f, fds, h>>10, heap>>10, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leakExchange makes one exchange of the given kind and checks what the
// client got; "abandon" reads the first event and hangs up.
func leakExchange(client *http.Client, base, kind string, bigLen int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions?kind="+kind,
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	defer res.Body.Close()
	if kind == "abandon" {
		_, err := res.Body.Read(make([]byte, 16))
		cancel()
		return err
	}
	n, err := io.Copy(io.Discard, res.Body)
	switch {
	case kind == "fail":
		if err == nil {
			return fmt.Errorf("fail: the cut body read whole")
		}
	case err != nil:
		return fmt.Errorf("%s: %w", kind, err)
	case kind == "big" && n != int64(bigLen):
		return fmt.Errorf("big: %d bytes, want %d", n, bigLen)
	}
	return nil
}

// settled collects garbage twice (sync.Pools empty on the second) and
// returns the goroutine count, the open file count (-1 where /proc is
// missing) and the live heap in bytes.
func settled() (goroutines, fds int, heap uint64) {
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	fds = -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents)
	}
	return runtime.NumGoroutine(), fds, sample[0].Value.Uint64()
}
