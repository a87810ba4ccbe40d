// Command soak drives thousands of mixed exchanges through the real llmtap
// binary while injecting faults, then checks that llmtap lost nothing, wrote
// exactly one valid record per exchange with the bytes the upstream sent,
// leaked no secret, and exited cleanly.
//
//	go run ./scripts/soak [--exchanges 10000] [--concurrency 50] [--short]
//
// It builds cmd/llmtap into a temporary directory and runs it with -o FILE
// in front of the fake upstream (internal/fakeupstream), served in this process
// on loopback. The faults: the upstream cuts 5% of streams mid-way, and is
// killed (listener and every connection closed) and restarted on the same
// port once; 5% of streaming clients cancel mid-stream and 2% read very
// slowly through a 4 KiB receive buffer; the output file is rotated
// (rename, then SIGHUP); at the end SIGTERM arrives with streams in flight,
// some of which end within the grace period and some of which never would.
//
// Output: a summary table on stdout, then one JSON line. Progress goes to
// stderr. Exit status 1 when any check failed, 2 on bad flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
)

// CLI is the soak command line.
type CLI struct {
	Exchanges   int           `default:"10000" help:"Exchanges to drive through llmtap (the last few are the streams in flight at SIGTERM)."`
	Concurrency int           `default:"50" help:"Concurrent clients."`
	Short       bool          `help:"The version make test runs: 1,000 exchanges."`
	Seed        uint64        `default:"1" help:"Seed of the exchange mix and the faults."`
	Grace       time.Duration `default:"3s" help:"llmtap --grace: how long streams in flight at SIGTERM may go on."`
	Outage      time.Duration `default:"100ms" help:"How long the upstream stays down when it is killed (clients back off 50 ms after a 502)."`
	Llmtap      string        `placeholder:"PATH" help:"Soak this llmtap binary instead of building one."`
	Race        bool          `help:"Build llmtap with the race detector; data races it reports fail the soak (RSS limit x5)."`
	Rest        time.Duration `default:"15s" help:"After the run, how long llmtap sits idle before its memory is measured again (llmtap returns spare memory once no exchange has started for 10 s); 0 skips it, as --short does."`
	Keep        bool          `help:"Keep the temporary directory (records, llmtap's stderr) and print where it is."`
	Timeout     time.Duration `default:"10m" help:"Give up after this long."`
}

// Validate checks the counts.
func (c *CLI) Validate() error {
	if c.Exchanges < 20 || c.Concurrency < 1 || c.Concurrency > 1000 {
		return fmt.Errorf("want --exchanges of at least 20 and --concurrency from 1 to 1000")
	}
	return nil
}

// shortExchanges is the size of the --short run.
const shortExchanges = 1000

func main() {
	var c CLI
	kong.Parse(&c,
		kong.Name("soak"),
		kong.Description("Soak llmtap with faults and check that it loses nothing and leaks nothing."),
		kong.Exit(func(code int) {
			if code == 80 {
				code = 2 // usage errors exit 2, like the tools
			}
			os.Exit(code)
		}),
	)
	cfg := config{
		Exchanges: c.Exchanges, Concurrency: c.Concurrency, Seed: c.Seed, Grace: c.Grace,
		Outage: c.Outage, Llmtap: c.Llmtap, Race: c.Race, Keep: c.Keep, Timeout: c.Timeout, Rest: c.Rest,
	}
	if c.Short {
		cfg.Exchanges = shortExchanges
		cfg.Rest = 0
	}
	// Interrupted, the run ends early and still removes its llmtap and
	// temporary directory.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
		stop()
		os.Exit(1)
	}
	report(os.Stdout, r)
	if !r.OK {
		stop()
		os.Exit(1)
	}
}
