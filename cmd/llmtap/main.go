// Command llmtap is a recording proxy for OpenAI-compatible (and other) LLM
// APIs: it forwards every request to one upstream untouched, streams
// responses through as they arrive, and writes one JSON line per exchange.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llmtap/llmtap/pkg/clikit"
	"github.com/llmtap/llmtap/pkg/gctune"
	"github.com/llmtap/llmtap/pkg/jsonl"
	"github.com/llmtap/llmtap/pkg/proxy"
)

var version = "dev" // set with -ldflags "-X main.version=…"

// releaseIdle is how long no exchange may start before llmtap hands its
// spare memory back to the OS.
const releaseIdle = 10 * time.Second

const description = `Record every exchange between an LLM client and its upstream.

Point your SDK's base URL at llmtap (http://127.0.0.1:8000 or http://127.0.0.1:8000/v1);
llmtap forwards each request to --upstream byte for byte, streams the answer back as it
arrives, and writes one JSON line per exchange (schema: docs/record.md) to --output.

  llmtap --upstream https://api.openai.com/v1 | tee raw.jsonl | llmmd > chat.md

Signals: SIGINT/SIGTERM stop accepting, let in-flight exchanges finish for --grace,
write every record and exit 0. SIGHUP reopens --output, or the --log-dir files
(log rotation).
Exit status: 0 after a clean shutdown, 1 on a runtime failure (such as a failed write
to the output), 2 on bad flags.`

type cli struct {
	clikit.Common

	Upstream string `name:"upstream" aliases:"upstream-base-url" env:"LLMTAP_UPSTREAM" required:"" placeholder:"URL" group:"Forwarding" help:"Upstream base URL, e.g. https://api.openai.com/v1 (its query, such as Azure's api-version, is kept on every request). Alias: --upstream-base-url."`
	Host     string `default:"127.0.0.1" env:"LLMTAP_HOST" group:"Forwarding" help:"Address to listen on."`
	Port     int    `default:"8000" env:"LLMTAP_PORT" group:"Forwarding" help:"Port to listen on (0 picks a free one; the address is printed on stderr)."`

	UpstreamTimeout clikit.Seconds `default:"300s" placeholder:"DURATION" group:"Forwarding" help:"Longest silence from the upstream, waiting for headers or between chunks, before the exchange fails (504, or a cut stream). Not a cap on a stream that keeps talking. 0: no limit. Bare numbers are seconds. Default: ${default}."`
	ConnectTimeout  clikit.Seconds `default:"10s" placeholder:"DURATION" group:"Forwarding" help:"Longest wait to connect to the upstream, TLS handshake included (502 after it). 0: no limit but the operating system's. Default: ${default}."`
	HeaderTimeout   clikit.Seconds `default:"10s" placeholder:"DURATION" group:"Forwarding" help:"Longest a client may take to send its request headers; a client that trickles them is disconnected. 0: no limit. Default: ${default}."`
	Grace           clikit.Seconds `default:"10s" placeholder:"DURATION" group:"Forwarding" help:"On SIGINT/SIGTERM, how long in-flight exchanges may run before they are cut (and recorded with error.kind shutdown). Default: ${default}."`

	Output       string       `short:"o" default:"-" placeholder:"FILE" env:"LLMTAP_OUTPUT" group:"Recording" help:"Append records to FILE; - is stdout. SIGHUP reopens it."`
	LogDir       string       `placeholder:"DIR" group:"Recording" help:"Instead of --output, write records to a new proxy-YYYYmmdd-HHMMSS-NNNNNNNNN.jsonl in DIR, created if needed, and their Markdown transcript beside it in a .md file of the same name (the original script's layout)."`
	RedactHeader []string     `sep:"none" placeholder:"NAME" group:"Recording" help:"Also mask this header's value in records (repeatable). Authorization, Proxy-Authorization, X-Api-Key, Api-Key, X-Goog-Api-Key, Cookie, Set-Cookie and the query keys key, api_key and api-key always are."`
	MaxBody      clikit.Bytes `default:"64MiB" placeholder:"SIZE" group:"Recording" help:"Largest body kept in a record; the client always gets all of it, and a longer body is recorded cut with error.kind body_truncated. 0: no limit. Default: ${default}."`
	TempDir      string       `placeholder:"DIR" env:"LLMTAP_TEMP_DIR" group:"Recording" help:"Where a body larger than 1 MiB is kept while its exchange runs and its record is written, rather than in memory. The file is unlinked as soon as it is made, so nothing is ever left behind. Default: $$TMPDIR, or /tmp."`
	Fsync        bool         `group:"Recording" help:"Sync the output to disk after each batch of records, so a record written survives a power loss (slower)."`
}

// The record writer streams a record whose body spilled to disk, rather
// than read the body back into memory.
var _ proxy.FuncWriter = (*jsonl.Writer)(nil)

// errOutputAndLogDir is the usage error for giving both --output and --log-dir.
var errOutputAndLogDir = errors.New("--output and --log-dir: give one or the other")

// Validate rejects flags that do not go together, so that it is a usage
// error (exit 2), not a runtime failure.
func (c *cli) Validate() error {
	if c.LogDir != "" && c.Output != "-" && c.Output != "" {
		return errOutputAndLogDir
	}
	if c.Upstream == "" {
		return nil // kong reports the missing required flag
	}
	if _, err := proxy.ParseUpstream(c.Upstream); err != nil {
		return fmt.Errorf("--upstream: %w", err)
	}
	return nil
}

func main() {
	var c cli
	clikit.Parse(&c, "llmtap", description, version)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// With SIGPIPE handled, a write to stdout whose reader has gone fails with
	// EPIPE, which llmtap reports, instead of killing it without a word.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// Tuned, a thousand streams fit in under 100 MB (see package gctune).
	gctune.Start(gctune.Default())
	os.Exit(c.run(os.Stdout, os.Stderr, sigs))
}

// run serves until a signal or a failure and returns the exit status.
func (c *cli) run(stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	logger := log.New(stderr, "llmtap: ", 0)
	fail := func(err error) int {
		logger.Printf("%v", err)
		return clikit.ExitFailure
	}
	out, err := c.openOutputs(stdout, logger)
	if err != nil {
		return fail(err)
	}
	tap, err := proxy.New(c.tapConfig(out.sink, logger))
	if err != nil {
		_ = out.close()
		return fail(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	if err != nil {
		_ = out.close()
		return fail(err)
	}
	// After a burst the runtime keeps its busiest heap for minutes; give
	// it back once no exchange has started for a while.
	defer gctune.ReleaseWhenIdle(releaseIdle, tap.Started)()

	base, cancelBase := context.WithCancelCause(context.Background())
	srv := c.server(tap, out.name, logger, base)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Printf("listening on http://%s", ln.Addr())
	logger.Printf("forwarding to %s, recording to %s", tap.Upstream(), out.name)
	if out.md != nil {
		logger.Printf("writing the Markdown transcript to %s", out.mdPath)
	}

	grace := c.Grace.Duration()
	status := out.waitForStop(logger, sigs, served, grace)
	if status != clikit.ExitOK {
		grace = 0 // records can no longer be written; stop now
	}
	shutdown(srv, tap, cancelBase, grace, sigs)
	if err := out.close(); err != nil && status == clikit.ExitOK {
		return fail(err)
	}
	return status
}

// outputs is where records go: the JSONL writer and, with --log-dir, the
// Markdown transcript beside it.
type outputs struct {
	name     string        // for display: a path, or "stdout"
	w        *jsonl.Writer // the records
	md       *jsonl.Writer // the --log-dir transcript; nil without
	mdPath   string
	mdFailed <-chan error // md.Failed(); nil, never ready, without a transcript
	sink     proxy.Sink   // what the tap hands records to
}

// openOutputs opens --output (or the new file in --log-dir) and, with
// --log-dir, the transcript.
func (c *cli) openOutputs(stdout io.Writer, logger *log.Logger) (*outputs, error) {
	name, open, err := c.output(stdout)
	if err != nil {
		return nil, err
	}
	w, err := jsonl.NewWriter(open, jsonl.Options{Fsync: c.Fsync, Release: proxy.Release})
	if err != nil {
		return nil, err
	}
	out := &outputs{name: name, w: w, sink: proxy.LineSink{W: w}}
	if c.LogDir != "" {
		out.mdPath = strings.TrimSuffix(name, ".jsonl") + ".md"
		md, err := newTranscript(out.mdPath, logger, c.Fsync)
		if err != nil {
			_ = w.Close()
			return nil, err
		}
		out.md = md
		out.sink = teeSink{lines: proxy.LineSink{W: teeLines{jsonl: w, md: md}}, md: md}
		out.mdFailed = md.Failed()
	}
	return out, nil
}

// close flushes and closes every output, and returns the first failure.
func (o *outputs) close() error {
	var mdErr error
	if o.md != nil {
		mdErr = o.md.Close()
	}
	return errors.Join(o.w.Close(), mdErr)
}

// waitForStop waits for what ends the run and returns the exit status:
// SIGINT or SIGTERM (0; in-flight exchanges then get grace to finish), a
// failed write of the records or the transcript, or a server that stops
// (1). SIGHUP reopens both outputs.
func (o *outputs) waitForStop(logger *log.Logger, sigs <-chan os.Signal, served <-chan error, grace time.Duration) int {
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := reopen(o.w, o.md); err != nil {
					logger.Printf("%v", err)
					return clikit.ExitFailure
				}
				continue
			}
			logger.Printf("%v: finishing in-flight exchanges (up to %v; signal again to cut them now)", sig, grace)
			return clikit.ExitOK
		case err := <-o.w.Failed():
			logger.Printf("%v; stopping", err)
			return clikit.ExitFailure
		case err := <-o.mdFailed:
			logger.Printf("transcript %s: %v; stopping", o.mdPath, err)
			return clikit.ExitFailure
		case err := <-served:
			logger.Printf("serve: %v", err)
			return clikit.ExitFailure
		}
	}
}

// tapConfig is the proxy's configuration from the flags.
func (c *cli) tapConfig(sink proxy.Sink, logger *log.Logger) proxy.Config {
	return proxy.Config{
		Upstream:       c.Upstream,
		Sink:           sink,
		ConnectTimeout: c.ConnectTimeout.Duration(),
		IdleTimeout:    c.UpstreamTimeout.Duration(),
		MaxBody:        int64(c.MaxBody),
		TempDir:        c.TempDir,
		RedactHeaders:  c.RedactHeader,
		ErrorLog:       logger,
	}
}

// serverIdleTimeout is how long a client's idle keep-alive connection is
// kept open.
const serverIdleTimeout = 2 * time.Minute

// server is the HTTP server in front of the tap; base is every request's
// parent context, cancelled with proxy.ErrShutdown to cut the exchanges
// still running when the grace period is over.
func (c *cli) server(tap *proxy.Tap, output string, logger *log.Logger, base context.Context) *http.Server {
	return &http.Server{
		Handler:           proxy.WithHealth(tap, map[string]string{"upstream": tap.Upstream(), "output": output}),
		ReadHeaderTimeout: c.HeaderTimeout.Duration(), // a client trickling headers cannot hold a connection
		IdleTimeout:       serverIdleTimeout,
		ErrorLog:          logger,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
}

// shutdown stops accepting, lets in-flight exchanges finish for grace (or
// until another SIGINT/SIGTERM), then cancels the rest with proxy.ErrShutdown
// and waits until every exchange has handed over its record.
func shutdown(srv *http.Server, tap *proxy.Tap, cancelBase context.CancelCauseFunc, grace time.Duration, sigs <-chan os.Signal) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				cancel()
				return
			}
		}
	}()
	if err := srv.Shutdown(ctx); err != nil {
		cancelBase(proxy.ErrShutdown)
		_ = srv.Close()
	}
	tap.Wait()
}

// output resolves --output and --log-dir into a name to show and an open
// function for the writer (called again on SIGHUP).
func (c *cli) output(stdout io.Writer) (string, func() (io.WriteCloser, error), error) {
	path := c.Output
	if c.LogDir != "" {
		if path != "-" {
			return "", nil, errOutputAndLogDir
		}
		if err := os.MkdirAll(c.LogDir, 0o755); err != nil {
			return "", nil, fmt.Errorf("--log-dir: %w", err)
		}
		now := time.Now()
		name := fmt.Sprintf("proxy-%s-%09d.jsonl", now.Format("20060102-150405"), now.Nanosecond())
		abs, err := filepath.Abs(filepath.Join(c.LogDir, name))
		if err != nil {
			return "", nil, fmt.Errorf("--log-dir: %w", err)
		}
		path = abs
	}
	name := path
	if path == "-" || path == "" {
		name = "stdout"
	}
	return name, clikit.OpenOutput(path, stdout), nil
}
