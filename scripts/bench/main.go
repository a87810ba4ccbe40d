// Command bench measures llmtap against its baselines: the mock
// upstream reached directly, a bare httputil.ReverseProxy (scripts/bareproxy),
// nginx proxy_pass without buffering, and the original Python script, all
// under the same load in one run. Every figure that matters is reported as
// a ratio llmtap/baseline, because the machines are shared and noisy.
//
// Output: a human table on stdout, then one JSON line
// {"rows":[...],"ratios":{...}}. Progress goes to stderr.
//
//	scripts/bench.sh [--quick] [--only llmtap,bareproxy] [--duration 5s]
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
)

// CLI is the bench command line.
type CLI struct {
	Duration     time.Duration `default:"2s" help:"Measured time of each load case, per round."`
	Warmup       time.Duration `default:"500ms" help:"Unmeasured warmup before each load case."`
	Conns        int           `default:"32" help:"Concurrent connections for the plain, sse and slow cases."`
	SlowConns    int           `default:"1000" help:"Concurrent slow streams in the 'many' (memory) case."`
	Rounds       int           `default:"3" help:"Rounds of every case; targets take turns in each round and the median round is reported."`
	Quick        bool          `help:"Very short run for smoke testing: --duration 300ms --warmup 100ms --rounds 1."`
	Only         []string      `default:"direct,bareproxy,nginx,original,llmtap" placeholder:"T" help:"Targets to run: direct, bareproxy, nginx, original, llmtap."`
	Cases        []string      `default:"plain,sse,sse-small,slow,many,big" placeholder:"C" help:"Cases to run, in the order given: plain, sse, sse-small, slow, many, big."`
	Chunks       int           `default:"50" help:"Chunks per fast SSE stream (case sse)."`
	SmallChunks  int           `default:"200" help:"Short events per fast stream of case sse-small (reasoning tokens)."`
	SlowChunks   int           `default:"10" help:"Chunks per slow stream."`
	SlowInterval time.Duration `default:"20ms" help:"Delay between the chunks of a slow stream."`
	Lockstep     bool          `help:"Start all streams of the 'slow' case at once, so they arrive in bursts of --conns (by default their starts are spread over one stream's length)."`
	BigMB        int           `name:"big-mb" default:"50" help:"Size of the big stream in MiB."`
	BigReps      int           `default:"1" help:"Sequential downloads of the big stream per round (the median of all is reported)."`
	Llmtap       string        `default:"bin/llmtap" help:"llmtap binary (relative to the repository root)."`
	LlmtapSkip   string        `hidden:"" help:"Skip llmtap with this reason (set by bench.sh when the build fails)."`
	LlmtapArg    []string      `sep:"none" placeholder:"ARG" help:"Extra argument for llmtap, repeatable (e.g. --llmtap-arg=--some-flag)."`
	Records      string        `enum:"pipe,file" default:"pipe" help:"Where llmtap writes its records: pipe (its stdout, read and counted by the bench, as in 'llmtap | tee …') or file (-o FILE in the bench's temporary directory). The 'machine' line says what a byte written to a new file costs here."`
	Bareproxy    string        `default:"bin/bareproxy" help:"bareproxy binary (relative to the repository root)."`
	Python       string        `default:"/usr/bin/python3" help:"Python with Debian's fastapi, httpx and uvicorn, for the original script."`
	Shared       string        `help:"The shared folder holding reference/ (default: ../shared from the repository root)."`
	Keep         bool          `help:"Keep the temporary directory (logs, generated configs, record files)."`

	ServeUpstream bool `hidden:"" help:"Internal: run as the mock upstream."`
}

var allTargets = []string{"direct", "bareproxy", "nginx", "original", "llmtap"}

// allCases is also the default order: "many" (memory) runs before "big" so
// that the 50 MB stream's heap does not inflate its peak.
var allCases = []string{"plain", "sse", "sse-small", "slow", "many", "big"}

// Validate checks the target and case names.
func (c *CLI) Validate() error {
	for _, t := range c.Only {
		if !slices.Contains(allTargets, t) {
			return fmt.Errorf("--only: unknown target %q (have %s)", t, strings.Join(allTargets, ", "))
		}
	}
	for _, k := range c.Cases {
		if !slices.Contains(allCases, k) {
			return fmt.Errorf("--cases: unknown case %q (have %s)", k, strings.Join(allCases, ", "))
		}
	}
	if c.Conns < 1 || c.SlowConns < 1 || c.Chunks < 1 || c.SmallChunks < 1 || c.SlowChunks < 1 || c.BigMB < 1 || c.BigReps < 1 || c.Rounds < 1 {
		return errors.New("counts and sizes must be at least 1")
	}
	return nil
}

func (c *CLI) settings() streamSettings {
	return streamSettings{Chunks: c.Chunks, SmallChunks: c.SmallChunks, SlowChunks: c.SlowChunks, SlowInterval: c.SlowInterval, BigMB: c.BigMB}
}

func main() {
	var cli CLI
	kong.Parse(&cli, kong.Name("bench"),
		kong.Description("Benchmark llmtap against direct, bareproxy, nginx and the original script; prints a table and a JSON line."))
	if cli.ServeUpstream {
		if err := serveUpstream(cli.settings()); err != nil {
			fmt.Fprintf(os.Stderr, "bench-upstream: %v\n", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(&cli))
}

func run(cli *CLI) int {
	if cli.Quick {
		cli.Duration, cli.Warmup, cli.Rounds, cli.BigReps = 300*time.Millisecond, 100*time.Millisecond, 1, 1
	}
	raiseFileLimit()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer killAll()

	root := repoRoot()
	shared := cli.Shared
	if shared == "" {
		shared = filepath.Join(filepath.Dir(root), "shared")
	}
	removeStaleTemp()
	tmp, err := os.MkdirTemp("", "llmtap-bench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	os.WriteFile(filepath.Join(tmp, "bench.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	cleanup := func() {
		if cli.Keep {
			os.Remove(filepath.Join(tmp, "bench.pid"))
			fmt.Fprintf(os.Stderr, "bench: kept %s\n", tmp)
		} else {
			os.RemoveAll(tmp)
		}
	}
	defer cleanup()

	// First Ctrl-C: stop the load and shut down politely. Second (or 10 s
	// later): kill every child and leave.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted, stopping")
		cancel()
		select {
		case <-sigs:
		case <-time.After(10 * time.Second):
		}
		killAll()
		cleanup()
		os.Exit(130)
	}()

	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	s := cli.settings()
	upProc, upURL, err := startProc("upstream", []string{self, "--serve-upstream",
		fmt.Sprintf("--chunks=%d", s.Chunks), fmt.Sprintf("--small-chunks=%d", s.SmallChunks), fmt.Sprintf("--slow-chunks=%d", s.SlowChunks),
		fmt.Sprintf("--slow-interval=%s", s.SlowInterval), fmt.Sprintf("--big-mb=%d", s.BigMB)},
		tmp, filepath.Join(tmp, "upstream.log"), "bench-upstream: listening on ", false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: upstream: %v\n", err)
		return 1
	}
	e := &env{root: root, shared: shared, tmp: tmp, upstream: upURL, upstreamProc: upProc, cli: cli}
	p := newPayloads(s)
	tr := newTransport(max(cli.Conns, cli.SlowConns))
	client := &http.Client{Transport: tr}

	fmt.Printf("llmtap bench: %d CPUs; %d rounds of %v per case (+%v warmup); %d connections; sse %d chunks; sse-small %d chunks; slow %d chunks × %v; many = %d slow streams; big %d MiB × %d\n",
		runtime.NumCPU(), cli.Rounds, cli.Duration, cli.Warmup, cli.Conns, cli.Chunks, cli.SmallChunks, cli.SlowChunks, cli.SlowInterval, cli.SlowConns, cli.BigMB, cli.Rounds*cli.BigReps)

	fmt.Println(machineWriteCost(tmp))

	rows := runAll(ctx, e, client, p)
	if ctx.Err() != nil {
		return 130
	}
	if upProc.exited() {
		fmt.Fprintf(os.Stderr, "bench: the upstream died: %s\n", logTail(upProc.logPath))
	}

	addedTTFB(rows)
	ratios := computeRatios(rows)
	bars := checkBars(cli, rows, ratios)
	printTables(os.Stdout, cli, rows, ratios)
	printBars(os.Stdout, bars)
	printJSON(os.Stdout, rows, ratios, bars)

	status := 0
	for _, r := range rows {
		if r.err != "" || r.totalErrors() > 0 {
			status = 1
		}
	}
	if status != 0 {
		fmt.Fprintln(os.Stderr, "bench: some requests failed or a target did not run; see the err columns")
	}
	return status
}

// removeStaleTemp deletes the temporary directories (record files can be
// hundreds of MB) left by a bench that was SIGKILLed, i.e. whose bench.pid
// names a process that no longer exists. --keep directories have no bench.pid.
func removeStaleTemp() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "llmtap-bench-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "bench.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(d)
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// repoRoot is the nearest directory upward holding go.mod, else ".".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// raiseFileLimit lifts the soft open-files limit to the hard one, explicitly,
// so that child processes (uvicorn with 1000 clients) inherit it too.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}
