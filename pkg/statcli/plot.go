package statcli

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llmtap/llmtap/pkg/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// maxPlotPoints bounds what --plot keeps per series: past it, a uniform
// sample (reservoir sampling) of the requests, so memory stays bounded.
const maxPlotPoints = 50_000

// maxPlotGroups is how many groups one picture shows.
const maxPlotGroups = 8

// PNG size in pixels.
const plotWidthPx, plotHeightPx, plotDPI = 1600, 1000, 96

// plotState keeps the points of --plot: a light copy of each request (a
// sample past maxPlotPoints) and its ITL gaps for the CDF.
type plotState struct {
	opts    Options
	reqs    reservoir[stats.Request]
	itl     map[string]*reservoir[float64]
	results []stats.Result // the main aggregation, when it has windows
	rng     *rand.Rand
}

func newPlotState(opts Options) *plotState {
	return &plotState{opts: opts, itl: map[string]*reservoir[float64]{}, rng: rand.New(rand.NewPCG(1, 1))}
}

// reservoir keeps a uniform sample of at most maxPlotPoints items.
type reservoir[T any] struct {
	items []T
	seen  int
}

func (r *reservoir[T]) add(v T, rng *rand.Rand) {
	r.seen++
	if len(r.items) < maxPlotPoints {
		r.items = append(r.items, v)
		return
	}
	if j := rng.IntN(r.seen); j < maxPlotPoints {
		r.items[j] = v
	}
}

func (p *plotState) label(q *stats.Request) string {
	var vals []string
	for _, k := range p.opts.Stats.By {
		if k != stats.ByNone {
			vals = append(vals, k.Value(q))
		}
	}
	return groupLabel(vals)
}

func (p *plotState) add(q *stats.Request) {
	light := *q
	light.ITL = nil
	light.ID = ""
	p.reqs.add(light, p.rng)
	if q.Failed || len(q.ITL) == 0 {
		return
	}
	lbl := p.label(q)
	r := p.itl[lbl]
	if r == nil {
		r = &reservoir[float64]{}
		p.itl[lbl] = r
	}
	for _, v := range q.ITL {
		r.add(v, p.rng)
	}
}

// windows returns the per-window results the lines are drawn from: the
// main aggregation's when it was asked for windows, else the same
// aggregation over the kept requests, in about 30 windows.
func (p *plotState) windows(first, last time.Time) ([]stats.Result, time.Duration) {
	if p.opts.Stats.Interval > 0 && p.results != nil {
		return p.results, p.opts.Stats.Interval
	}
	iv := niceInterval(last.Sub(first) / 30)
	o := p.opts.Stats
	o.Interval = iv
	o.Percentiles = []float64{50, 99}
	agg := stats.NewAggregator(o)
	for i := range p.reqs.items {
		agg.Add(&p.reqs.items[i])
	}
	return agg.Results(), iv
}

// niceInterval rounds d up to 1, 2 or 5 times a power of ten of
// milliseconds, at least 100 ms.
func niceInterval(d time.Duration) time.Duration {
	step := 100 * time.Millisecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if step*m >= d {
				return step * m
			}
		}
		step *= 10
	}
}

// series is what one group contributes to the picture.
type series struct {
	label       string
	ttft, e2el  plotter.XYs // seconds since the first start, ms
	ttftSamples []float64
	tpotSamples []float64
	p50ttft     plotter.XYs
	p99ttft     plotter.XYs
	p50e2el     plotter.XYs
	p99e2el     plotter.XYs
}

func (p *plotState) save(path string) error {
	if len(p.reqs.items) == 0 {
		return fmt.Errorf("no requests to plot")
	}
	first, last := p.reqs.items[0].Start, p.reqs.items[0].End()
	for i := range p.reqs.items {
		q := &p.reqs.items[i]
		if q.Start.Before(first) {
			first = q.Start
		}
		if e := q.End(); e.After(last) {
			last = e
		}
	}
	byLabel := map[string]*series{}
	get := func(l string) *series {
		s := byLabel[l]
		if s == nil {
			s = &series{label: l}
			byLabel[l] = s
		}
		return s
	}
	secs := func(t time.Time) float64 { return t.Sub(first).Seconds() }
	for i := range p.reqs.items {
		q := &p.reqs.items[i]
		if q.Failed {
			continue
		}
		s := get(p.label(q))
		x := secs(q.Start)
		if !math.IsNaN(q.TTFT) {
			s.ttft = append(s.ttft, plotter.XY{X: x, Y: q.TTFT})
			s.ttftSamples = append(s.ttftSamples, q.TTFT)
		}
		if !math.IsNaN(q.E2EL) {
			s.e2el = append(s.e2el, plotter.XY{X: x, Y: q.E2EL})
		}
		if !math.IsNaN(q.TPOT) {
			s.tpotSamples = append(s.tpotSamples, q.TPOT)
		}
	}
	results, iv := p.windows(first, last)
	for i := range results {
		res := &results[i]
		s := get(resultLabel(res))
		x := secs(res.Window.Add(iv / 2))
		for _, l := range []struct {
			key string
			dst *plotter.XYs
		}{{"p50_ttft_ms", &s.p50ttft}, {"p99_ttft_ms", &s.p99ttft}, {"p50_e2el_ms", &s.p50e2el}, {"p99_e2el_ms", &s.p99e2el}} {
			if v, ok := res.Get(l.key); ok {
				*l.dst = append(*l.dst, plotter.XY{X: x, Y: v})
			}
		}
	}
	var all []*series
	for _, s := range byLabel {
		all = append(all, s)
	}
	// Past maxPlotGroups colours and legends stop being readable: draw the
	// groups with the most requests, and say so.
	shown := ""
	if len(all) > maxPlotGroups {
		slices.SortFunc(all, func(a, b *series) int { return cmp.Compare(len(b.e2el), len(a.e2el)) })
		shown = fmt.Sprintf(" (the %d of %d groups with most requests)", maxPlotGroups, len(all))
		all = all[:maxPlotGroups]
	}
	slices.SortFunc(all, func(a, b *series) int { return strings.Compare(a.label, b.label) })

	every := fmt.Sprintf("dots: completed requests; lines: p50 and p99 (dashed) per %s window", iv) + shown
	top := []*plot.Plot{
		overTime("Time to first token\n"+every, "TTFT (ms)", all,
			func(s *series) (plotter.XYs, plotter.XYs, plotter.XYs) { return s.ttft, s.p50ttft, s.p99ttft }),
		overTime("End-to-end latency\n"+every, "latency (ms)", all,
			func(s *series) (plotter.XYs, plotter.XYs, plotter.XYs) { return s.e2el, s.p50e2el, s.p99e2el }),
	}
	bottom := []*plot.Plot{
		cdf("CDF of time to first token", "TTFT (ms)", all, func(s *series) []float64 { return s.ttftSamples }),
		cdf("CDF of time per output token", "TPOT (ms)", all, func(s *series) []float64 { return s.tpotSamples }),
		cdf("CDF of inter-token latency", "ITL (ms)", all, func(s *series) []float64 {
			if r := p.itl[s.label]; r != nil {
				return r.items
			}
			return nil
		}),
	}
	return render(path, top, bottom)
}

func resultLabel(res *stats.Result) string {
	var vals []string
	for _, k := range res.Keys {
		vals = append(vals, k.Value)
	}
	return groupLabel(vals)
}

// groupLabel is a group's name in the legend: its key values, "(none)"
// for an empty one, or "all" without keys. label and resultLabel must
// agree, since a request's dots and its group's lines share a series.
func groupLabel(vals []string) string {
	if len(vals) == 0 {
		return "all"
	}
	for i, v := range vals {
		if v == "" {
			vals[i] = "(none)"
		}
	}
	return strings.Join(vals, " ")
}

// palette has a distinct colour for each of maxPlotGroups groups
// (Tableau 10's first eight).
var palette = []color.Color{
	color.RGBA{0x4e, 0x79, 0xa7, 0xff}, color.RGBA{0xf2, 0x8e, 0x2b, 0xff},
	color.RGBA{0xe1, 0x57, 0x59, 0xff}, color.RGBA{0x76, 0xb7, 0xb2, 0xff},
	color.RGBA{0x59, 0xa1, 0x4f, 0xff}, color.RGBA{0xed, 0xc9, 0x48, 0xff},
	color.RGBA{0xb0, 0x7a, 0xa1, 0xff}, color.RGBA{0x9c, 0x75, 0x5f, 0xff},
}

func colour(i int) color.Color { return palette[i%len(palette)] }

func overTime(title, ylabel string, all []*series, pick func(*series) (plotter.XYs, plotter.XYs, plotter.XYs)) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = "time since the first request (s)"
	pl.Y.Label.Text = ylabel
	pl.Legend.Top = true
	for i, s := range all {
		pts, p50, p99 := pick(s)
		if len(pts) > 0 {
			sc, err := plotter.NewScatter(pts)
			if err == nil {
				c := colour(i)
				sc.GlyphStyle.Color = fade(c)
				sc.GlyphStyle.Radius = vg.Points(1.5)
				sc.GlyphStyle.Shape = draw.CircleGlyph{}
				pl.Add(sc)
				pl.Legend.Add(s.label, sc)
			}
		}
		for _, l := range []struct {
			pts    plotter.XYs
			name   string
			dashed bool
		}{{p50, "p50", false}, {p99, "p99", true}} {
			if len(l.pts) == 0 {
				continue
			}
			ln, err := plotter.NewLine(l.pts)
			if err != nil {
				continue
			}
			ln.Color = colour(i)
			ln.Width = vg.Points(1.5)
			if l.dashed {
				ln.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			pl.Add(ln)
			pl.Legend.Add(s.label+" "+l.name, ln)
		}
	}
	pl.Y.Min = 0
	return pl
}

// fade makes scatter dots lighter than the lines over them.
func fade(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 110}
}

func cdf(title, xlabel string, all []*series, pick func(*series) []float64) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = xlabel
	pl.Y.Label.Text = "fraction of samples ≤ x"
	// Bottom right: a CDF climbs to 1 on the left and stays there.
	pl.Legend.Top = false
	pl.Legend.Left = false
	pl.Legend.YOffs = vg.Points(8)
	pl.Y.Min, pl.Y.Max = 0, 1
	for i, s := range all {
		v := slices.Clone(pick(s))
		if len(v) == 0 {
			continue
		}
		slices.Sort(v)
		// The empirical CDF, a step up at each sample; at most about 2000
		// steps: enough for the eye, small files.
		step := max(1, len(v)/2000)
		n := float64(len(v))
		var pts plotter.XYs
		for j := 0; j < len(v); j += step {
			pts = append(pts, plotter.XY{X: v[j], Y: float64(j) / n}, plotter.XY{X: v[j], Y: float64(min(j+step, len(v))) / n})
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		ln.Color = colour(i)
		ln.Width = vg.Points(1.5)
		pl.Add(ln)
		pl.Legend.Add(s.label, ln)
	}
	return pl
}

// render draws two plots on the top row and three below, and writes the
// picture as SVG or PNG by the file's extension.
func render(path string, top, bottom []*plot.Plot) error {
	w := vg.Length(plotWidthPx) * vg.Inch / plotDPI
	h := vg.Length(plotHeightPx) * vg.Inch / plotDPI
	var c vg.CanvasWriterTo
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))}
	case ".svg":
		c = vgsvg.New(w, h)
	default:
		return fmt.Errorf("%s: want a file ending in .svg or .png", path)
	}
	dc := draw.New(c)
	pad := vg.Points(8)
	topC := draw.Crop(dc, 0, 0, h/2, 0)
	botC := draw.Crop(dc, 0, 0, 0, -h/2)
	tiles := func(cols int) draw.Tiles {
		return draw.Tiles{Rows: 1, Cols: cols, PadX: pad, PadY: pad, PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad}
	}
	for _, row := range []struct {
		plots []*plot.Plot
		c     draw.Canvas
	}{{top, topC}, {bottom, botC}} {
		cs := plot.Align([][]*plot.Plot{row.plots}, tiles(len(row.plots)), row.c)
		for i, pl := range row.plots {
			pl.Draw(cs[0][i])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
