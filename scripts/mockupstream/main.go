// Command mockupstream serves the deterministic fake LLM upstream of package
// fakeupstream on a local port, for the demo, benchmarks and manual testing.
//
//	go run ./scripts/mockupstream [--addr 127.0.0.1:0] [--delay 100ms] [--verbose]
//
// It prints exactly one line to stderr once it is listening,
// "mockupstream: listening on http://HOST:PORT" (with the real port when the
// address asks for port 0), then serves until SIGINT or SIGTERM and exits 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/llmtap/llmtap/internal/fakeupstream"
)

type cli struct {
	Addr    string        `default:"127.0.0.1:0" placeholder:"HOST:PORT" help:"Address to listen on; port 0 picks a free port."`
	Verbose bool          `short:"v" help:"Log one line per request to stderr."`
	Delay   time.Duration `placeholder:"D" help:"Wait D before answering each request: a slower server, to try a regression gate against."`
}

const description = "Serve a deterministic fake OpenAI and Anthropic API. " +
	"X-Fake-* request headers drive faults; see the fakeupstream package documentation."

func main() {
	var c cli
	kong.Parse(&c,
		kong.Name("mockupstream"),
		kong.Description(description),
		// Usage errors exit 2, like grep, not kong's 80.
		kong.Exit(func(code int) {
			if code == 80 {
				code = 2
			}
			os.Exit(code)
		}),
	)
	if err := c.run(); err != nil {
		fmt.Fprintf(os.Stderr, "mockupstream: %v\n", err)
		os.Exit(1)
	}
}

func (c *cli) run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	logger := log.New(os.Stderr, "mockupstream: ", 0)
	var opts fakeupstream.Options
	if c.Verbose {
		opts.Log = logger.Printf
	}
	var handler http.Handler = fakeupstream.New(opts)
	if c.Delay > 0 {
		fake := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(c.Delay):
				fake.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	fmt.Fprintf(os.Stderr, "mockupstream: listening on http://%s\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Hanging streams (X-Fake-Hang) only end when their client goes away, so
	// give in-flight requests a moment and then close what is left.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
