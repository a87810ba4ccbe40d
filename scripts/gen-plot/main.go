// Command gen-plot draws the picture in docs/llmstat.md: it records a few
// hundred streamed exchanges through the real llmtap in front of
// fakeupstream, with first-token delays and token gaps that vary by model
// and drift over the run, then runs the real llmstat --plot over them.
//
//	go run ./scripts/gen-plot                         # docs/llmstat-plot.png
//	go run ./scripts/gen-plot -out /tmp/p.svg -n 100  # another file, fewer requests
//
// The records are kept with -records FILE, to try other llmstat flags on.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llmtap/llmtap/internal/fakeupstream"
	"github.com/llmtap/llmtap/internal/testbin"
)

// model is one simulated model: its typical first-token delay and gap
// between tokens, in milliseconds.
type model struct {
	name       string
	first, gap float64
}

var models = []model{
	{"gpt-4o-mini", 60, 8},
	{"gpt-4o", 140, 18},
}

func main() {
	out := flag.String("out", "docs/llmstat-plot.png", "picture to write (.png or .svg)")
	n := flag.Int("n", 300, "requests to send")
	conc := flag.Int("concurrency", 8, "requests in flight at once")
	keep := flag.String("records", "", "also keep the records in this file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen-plot: ")

	dir, err := os.MkdirTemp("", "gen-plot")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := testbin.Build(dir, "llmtap", "llmstat"); err != nil {
		log.Fatal(err)
	}

	// The first-token delay is the upstream's pause before it answers;
	// the request says how long, so the schedule is the client's.
	fake := fakeupstream.New(fakeupstream.Options{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.Header.Get("X-Gen-First-Delay")); err == nil {
			time.Sleep(d)
		}
		fake.ServeHTTP(w, r)
	}))
	defer upstream.Close()

	records := filepath.Join(dir, "records.jsonl")
	if *keep != "" {
		records = *keep
		os.Remove(records)
	}
	tap := exec.Command(filepath.Join(dir, "llmtap"), "--upstream", upstream.URL+"/v1", "--port", "0", "-o", records)
	tapErr, err := tap.StderrPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := tap.Start(); err != nil {
		log.Fatal(err)
	}
	url, err := testbin.ListenURL(tapErr, io.Discard)
	if err != nil {
		_ = tap.Process.Kill()
		log.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(7, 7))
	type job struct {
		m          model
		first, gap time.Duration
		chunks     int
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range *conc {
		wg.Go(func() {
			for j := range jobs {
				send(url, j.m.name, j.first, j.gap, j.chunks)
			}
		})
	}
	for i := range *n {
		m := models[i%len(models)]
		// Load rises in the middle of the run: delays grow, then recover.
		load := 1 + 1.5*math.Exp(-math.Pow(float64(i)/float64(*n)-0.6, 2)/0.01)
		jitter := math.Exp(rng.NormFloat64() * 0.35)
		jobs <- job{
			m:      m,
			first:  time.Duration(m.first * load * jitter * float64(time.Millisecond)),
			gap:    time.Duration(m.gap * (0.8 + 0.4*rng.Float64()) * load * float64(time.Millisecond)),
			chunks: 6 + rng.IntN(20),
		}
	}
	close(jobs)
	wg.Wait()
	if err := tap.Process.Signal(syscall.SIGTERM); err != nil {
		log.Fatal(err)
	}
	if err := tap.Wait(); err != nil {
		log.Fatalf("llmtap: %v", err)
	}

	cmd := exec.Command(filepath.Join(dir, "llmstat"), "--plot", *out, records)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("llmstat: %v", err)
	}
	if strings.HasSuffix(*out, ".png") {
		if err := shrinkPNG(*out); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Fprintf(os.Stderr, "gen-plot: wrote %s from %d exchanges\n", *out, *n)
}

// shrinkPNG rewrites a PNG with at most 256 colours (a plot has few) and
// the best compression, so the picture kept in the repository stays small.
func shrinkPNG(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return err
	}
	// The 256 most used colours, each other pixel drawn in the nearest.
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	cs := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return counts[cs[i]] > counts[cs[j]] })
	var p color.Palette
	for _, c := range cs[:min(256, len(cs))] {
		p = append(p, c)
	}
	pal := image.NewPaletted(b, p)
	draw.Draw(pal, b, img, b.Min, draw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, pal); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// send makes one streamed chat request and reads the answer to its end.
func send(url, model string, first, gap time.Duration, chunks int) {
	body := fmt.Sprintf(`{"model":%q,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Tell me about the weather."}]}`, model)
	req, err := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gen-First-Delay", first.String())
	req.Header.Set("X-Fake-Chunk-Delay", gap.String())
	req.Header.Set("X-Fake-Chunks", fmt.Sprint(chunks))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
}
