package proxy

import (
	"bytes"
	"log"
	"net/http"
	"strings"
	"testing"
)

// TestSecretsNeverRecorded sends a key in every place a client may put one
// (and a user-named header) and checks that the upstream gets each one
// unchanged while no record, and nothing logged, contains any of them.
func TestSecretsNeverRecorded(t *testing.T) {
	secrets := map[string]string{
		"Authorization":       "Bearer sk-proj-AUTHSECRET0123456789abcdef",
		"X-Api-Key":           "sk-ant-XAPIKEYSECRET0123456789",
		"Api-Key":             "AZUREAPIKEYSECRET0123456789",
		"X-Goog-Api-Key":      "AIzaGOOGSECRET0123456789abcd",
		"Cookie":              "session=COOKIESECRET0123456789",
		"X-Custom-Token":      "CUSTOMSECRET0123456789abcdef",
		"Proxy-Authorization": "Basic PROXYAUTHSECRET0123456789",
	}
	querySecrets := "key=QUERYKEYSECRET0123456789&api_key=QUERYAPIKEYSECRET012345&API-KEY=QUERYDASHSECRET0123456&model=m"
	var seen http.Header
	var seenQuery string
	var logged bytes.Buffer
	h := newHarness(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, seenQuery = r.Header.Clone(), r.URL.RawQuery
		w.Header().Add("Set-Cookie", "sid=SETCOOKIESECRET0123456789; HttpOnly")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}), func(c *Config) {
		c.RedactHeaders = []string{"x-custom-token"}
		c.Upstream += "?key=BASEURLSECRET0123456789"
		c.ErrorLog = log.New(&logged, "", 0)
	})
	hdr := http.Header{}
	for k, v := range secrets {
		hdr.Set(k, v)
	}
	res := do(t, "POST", h.front.URL+"/v1/chat/completions?"+querySecrets, []byte(chatRequest), hdr)
	if res.status != 200 {
		t.Fatalf("status %d", res.status)
	}
	for k, v := range secrets {
		if k == "Proxy-Authorization" {
			continue // hop-by-hop: meant for the tap, never forwarded
		}
		if seen.Get(k) != v {
			t.Errorf("upstream got %s %q, want it unchanged", k, seen.Get(k))
		}
	}
	if !strings.Contains(seenQuery, querySecrets) {
		t.Errorf("upstream got query %q", seenQuery)
	}
	r := h.sink.wait(t, 1)[0]
	all := r.raw + logged.String()
	for _, s := range []string{"AUTHSECRET", "XAPIKEYSECRET", "AZUREAPIKEYSECRET", "GOOGSECRET", "COOKIESECRET",
		"CUSTOMSECRET", "PROXYAUTHSECRET", "QUERYKEYSECRET", "QUERYAPIKEYSECRET", "QUERYDASHSECRET", "SETCOOKIESECRET", "BASEURLSECRET"} {
		if strings.Contains(all, s) {
			t.Errorf("%s leaked into the record or log:\n%s", s, all)
		}
	}
	if !strings.Contains(r.Request.Headers["authorization"], "[REDACTED]") || !strings.Contains(r.Query, "model=m") {
		t.Errorf("masked values or plain query keys missing: %s", r.raw)
	}
	if r.Request.Headers["cookie"] != "[REDACTED]" || r.Response.Headers["set-cookie"] != "[REDACTED]" {
		t.Errorf("cookies keep part of their value: cookie %q, set-cookie %q", r.Request.Headers["cookie"], r.Response.Headers["set-cookie"])
	}
}
