package statcli

import (
	"math"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Threshold
		err  bool
	}{
		{in: "p99_ttft_ms>+10%", want: Threshold{Metric: "p99_ttft_ms", Op: ">", Change: 10, Relative: true}},
		{in: " error_rate > +0.005 ", want: Threshold{Metric: "error_rate", Op: ">", Change: 0.005}},
		{in: "output_throughput<-5%", want: Threshold{Metric: "output_throughput", Op: "<", Change: -5, Relative: true}},
		{in: "p99.9_itl_ms>=.5", want: Threshold{Metric: "p99.9_itl_ms", Op: ">=", Change: 0.5}},
		{in: "errors.upstream_timeout<=3", want: Threshold{Metric: "errors.upstream_timeout", Op: "<=", Change: 3}},
		{in: "p99_ttft_ms", err: true},
		{in: "p99_ttft_ms=10%", err: true},
		{in: "p99_tft_ms>10%", err: true},
		{in: "p101_ttft_ms>1", err: true},
		{in: "error_rate>+", err: true},
	} {
		got, err := ParseThreshold(tt.in)
		if tt.err {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			}
			continue
		}
		got.Text = ""
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestBreached(t *testing.T) {
	for _, tt := range []struct {
		t         string
		base, now float64
		want      bool
	}{
		{"p99_ttft_ms>+10%", 100, 111, true},
		{"p99_ttft_ms>+10%", 100, 110, false},
		{"p99_ttft_ms>+10%", 0, 1, true},  // any rise from zero
		{"p99_ttft_ms>+10%", 0, 0, false}, // no change
		{"error_rate>+0.005", 0.01, 0.016, true},
		{"error_rate>+0.005", 0.01, 0.014, false},
		{"output_throughput<-5%", 100, 94, true},
		{"output_throughput<-5%", 100, 96, false},
		{"output_throughput<=-5%", 100, 95, true},
	} {
		th, err := ParseThreshold(tt.t)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.breached(tt.base, tt.now); got != tt.want {
			t.Errorf("%s from %v to %v: %v, want %v", tt.t, tt.base, tt.now, got, tt.want)
		}
	}
}

// FuzzParseThreshold: any input either fails or gives a known metric, an
// operator and a finite change.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p99_ttft_ms>+10%", "error_rate>+0.005", "output_throughput<-5%", "x", "", "p99_ttft_ms>=", "errors.>1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		if th.Metric == "" || math.IsNaN(th.Change) || math.IsInf(th.Change, 0) {
			t.Fatalf("%q: %+v", s, th)
		}
		switch th.Op {
		case ">", "<", ">=", "<=":
		default:
			t.Fatalf("%q: op %q", s, th.Op)
		}
	})
}
