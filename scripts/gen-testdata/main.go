// Command gen-testdata writes pkg/markdown/testdata/*.jsonl, the inputs of
// llmmd's golden tests, by running the real llmtap in front of a fake
// upstream that replays realistic wire bodies (JSON and server-sent events,
// chunked the way real services chunk them), and sending it requests the
// way SDKs do. The records are therefore what llmtap really writes.
//
//	go run ./scripts/gen-testdata            # all scenarios
//	go run ./scripts/gen-testdata -run chat  # scenarios whose name contains "chat"
//
// then `go test ./pkg/markdown -update` and review the diff of the goldens.
//
// Determinism. The fields that change from run to run are rewritten after
// the run, and only those: the record id, start, end, duration_ms, ttfb_ms,
// the milliseconds of each timing tick (its byte offset is kept), client,
// the upstream's port in upstream_url and in error.message, and the host
// and date headers. They get fixed, plausible values (record i of a file
// starts at 2026-01-01T00:00:0i Z; first byte after 120.5 ms; one tick
// every 25 ms). The rewrite decodes only those top-level fields, and the
// request, response and error objects around them, with encoding/json, and
// copies every other value byte for byte, so bodies are exactly as llmtap
// recorded them.
// Chunk boundaries (timing offsets) come from the run: the replayed chunks
// are spaced by a few milliseconds so llmtap reads each on its own.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"
)

func main() {
	out := flag.String("out", "pkg/markdown/testdata", "directory to write the .jsonl files to")
	run := flag.String("run", "", "only the scenarios whose name contains this")
	llmtap := flag.String("llmtap", "", "llmtap binary to run (default: built from ./cmd/llmtap)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen-testdata: ")

	bin := *llmtap
	if bin == "" {
		dir, err := os.MkdirTemp("", "gen-testdata")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "llmtap")
		if err := testbin.Build(dir, "llmtap"); err != nil {
			log.Fatal(err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	failed := false
	for _, sc := range scenarios() {
		if !strings.Contains(sc.name, *run) {
			continue
		}
		lines, err := sc.record(bin)
		if err != nil {
			log.Printf("%s: %v", sc.name, err)
			failed = true
			continue
		}
		var b bytes.Buffer
		for i, line := range lines {
			norm, err := normalize(line, i)
			if err != nil {
				log.Printf("%s: record %d: %v", sc.name, i+1, err)
				failed = true
				continue
			}
			b.Write(norm)
			b.WriteByte('\n')
		}
		path := filepath.Join(*out, sc.name+".jsonl")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: %d records", path, len(lines))
	}
	if failed {
		os.Exit(1)
	}
}

// scenario is one testdata file: requests sent in order through llmtap,
// each answered by its canned answer.
type scenario struct {
	name  string
	steps []step
	// dead points llmtap at a port nothing listens on.
	dead bool
}

// step is one exchange.
type step struct {
	method string // default POST
	path   string // with the query, as the client sends it
	header map[string]string
	body   string
	answer fakeupstream.Canned
	// cancelAfter, when > 0, makes the client hang up once it has read
	// this many bytes of the response body.
	cancelAfter int
}

// record runs llmtap for one scenario and returns the lines it wrote.
func (sc *scenario) record(bin string) ([][]byte, error) {
	replay := &fakeupstream.Replay{}
	upstream := httptest.NewServer(replay)
	defer upstream.Close()
	upstreamURL := upstream.URL
	if sc.dead {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		upstreamURL = "http://" + ln.Addr().String()
		ln.Close()
	}

	dir, err := os.MkdirTemp("", "gen-testdata-"+sc.name)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	outFile := filepath.Join(dir, "records.jsonl")
	cmd := exec.Command(bin, "--upstream", upstreamURL, "--port", "0", "-o", outFile, "--upstream-timeout", "10s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	tap, err := listenURL(stderr)
	if err != nil {
		return nil, err
	}

	client := &http.Client{Timeout: 30 * time.Second}
	for i, st := range sc.steps {
		if !sc.dead {
			replay.Push(st.answer)
		}
		if err := st.send(client, tap); err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i+1, st.path, err)
		}
		// Records are written when an exchange ends, which for a
		// cancelled one is a moment after the client left: wait for it,
		// so the file's order is the order of the steps.
		if err := waitLines(outFile, i+1); err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i+1, st.path, err)
		}
		if replay.Pending() != 0 {
			return nil, fmt.Errorf("step %d (%s): the upstream was not asked", i+1, st.path)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("llmtap: %w", err)
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		return nil, err
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		lines = append(lines, line)
	}
	if len(lines) != len(sc.steps) {
		return nil, fmt.Errorf("llmtap wrote %d records for %d requests", len(lines), len(sc.steps))
	}
	return lines, nil
}

// listenURL reads llmtap's first stderr line, "llmtap: listening on URL",
// and copies the rest of its stderr to ours.
func listenURL(stderr io.Reader) (string, error) {
	br := bufio.NewReader(stderr)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("llmtap did not start: %v: %s", err, line)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "llmtap: listening on ")
	if !ok {
		return "", fmt.Errorf("llmtap: unexpected first line %q", line)
	}
	go func() {
		sc := bufio.NewScanner(br)
		for sc.Scan() {
			if t := sc.Text(); !strings.HasPrefix(t, "llmtap: forwarding to") && !strings.Contains(t, "finishing in-flight") {
				log.Print(t)
			}
		}
	}()
	return url, nil
}

// send makes the request as a client would and reads the answer.
func (st *step) send(client *http.Client, tap string) error {
	method := st.method
	if method == "" {
		method = http.MethodPost
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var body io.Reader
	if st.body != "" {
		body = strings.NewReader(st.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, tap+st.path, body)
	if err != nil {
		return err
	}
	if st.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "gen-testdata/1")
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range st.header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		if st.answer.Abort || st.answer.Hang {
			return nil
		}
		return err
	}
	defer res.Body.Close()
	if st.cancelAfter > 0 {
		if _, err := io.ReadFull(res.Body, make([]byte, st.cancelAfter)); err != nil {
			return fmt.Errorf("read before cancelling: %w", err)
		}
		cancel()
		return nil
	}
	_, err = io.Copy(io.Discard, res.Body)
	if err != nil && st.answer.Abort {
		return nil // expected: the upstream broke off
	}
	return err
}

// waitLines waits until path holds at least n lines.
func waitLines(path string, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if bytes.Count(data, []byte("\n")) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("llmtap wrote %d records, want %d", bytes.Count(data, []byte("\n")), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
