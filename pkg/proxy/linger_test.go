package proxy

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// TestAnswerSurvivesUnreadBody: when the upstream fails before reading a
// large request body, the client gets the 502 even though the tap stops
// reading the body after MaxBody and closes the connection: closing a
// socket with unread bytes sends a reset, which can destroy an answer the
// client has not read yet.
func TestAnswerSurvivesUnreadBody(t *testing.T) {
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close() // before reading the body
		}
	}), func(c *Config) { c.MaxBody = 1 << 10 })
	body := bytes.Repeat([]byte("x"), 8<<20)
	lost := 0
	const tries = 40
	for range tries {
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		res, err := client.Post(h.front.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			lost++
			t.Logf("lost: %v", err)
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != http.StatusBadGateway {
			t.Errorf("status %d, want 502", res.StatusCode)
		}
		client.CloseIdleConnections()
	}
	if lost > 0 {
		t.Errorf("%d of %d answers lost", lost, tries)
	}
}
