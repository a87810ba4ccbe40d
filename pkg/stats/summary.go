package stats

import (
	"math"
	"slices"

	"github.com/DataDog/sketches-go/ddsketch"
)

// DefaultExactLimit is how many samples of one metric a group keeps before
// its percentiles switch from exact values to a quantile sketch.
const DefaultExactLimit = 1_000_000

// SketchAccuracy is the relative accuracy of the quantile sketch a Summary
// switches to past its exact limit: a percentile is within 0.5% of the true
// value, half the 1% promised to users.
const SketchAccuracy = 0.005

// Summary holds the samples of one metric in one group: every value while
// there are at most limit of them, so that percentiles are exact (numpy's
// linear interpolation), then a DDSketch, so that memory stops growing.
// Mean, standard deviation and max are exact in both modes. NaN samples are
// ignored (a metric that does not apply to a request).
type Summary struct {
	limit int
	n     int64
	mean  float64 // Welford's running mean and sum of squared deviations
	m2    float64
	max   float64
	vals  []float64
	// sorted is true while vals is in ascending order (after a quantile
	// was asked for and no sample was added since).
	sorted bool
	sketch *ddsketch.DDSketch
}

// newSummary returns a Summary that keeps up to limit exact samples.
func newSummary(limit int) *Summary {
	return &Summary{limit: limit, max: math.Inf(-1)}
}

// Add adds one sample; NaN is ignored.
func (s *Summary) Add(v float64) {
	if math.IsNaN(v) {
		return
	}
	s.n++
	d := v - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (v - s.mean)
	s.max = max(s.max, v)
	if s.sketch != nil {
		_ = s.sketch.Add(v) // only fails on values a sketch cannot hold, ruled out below
		return
	}
	s.vals = append(s.vals, v)
	s.sorted = false
	if len(s.vals) > s.limit {
		s.toSketch()
	}
}

// toSketch moves the exact samples into a sketch and frees them.
func (s *Summary) toSketch() {
	// Latencies are never negative; a clock step backwards can make one
	// so, and the sketch's negative store keeps it.
	sk, err := ddsketch.NewDefaultDDSketch(SketchAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in (0, 1) never fails
	}
	for _, v := range s.vals {
		_ = sk.Add(v)
	}
	s.sketch, s.vals = sk, nil
}

// Count is the number of samples.
func (s *Summary) Count() int64 { return s.n }

// Exact reports whether percentiles are still computed from every sample.
func (s *Summary) Exact() bool { return s.sketch == nil }

// Mean is the mean of the samples, NaN when there are none. While exact, it
// is computed from the samples as numpy does (sum, then divide).
func (s *Summary) Mean() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	if s.sketch == nil {
		return sum(s.vals) / float64(len(s.vals))
	}
	return s.mean
}

// Std is the population standard deviation (numpy's default, ddof=0).
func (s *Summary) Std() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	if s.sketch == nil {
		m := s.Mean()
		var acc float64
		for _, v := range s.vals {
			acc += (v - m) * (v - m)
		}
		return math.Sqrt(acc / float64(len(s.vals)))
	}
	return math.Sqrt(s.m2 / float64(s.n))
}

// Max is the largest sample, NaN when there are none.
func (s *Summary) Max() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.max
}

// Percentile returns the p-th percentile (0 to 100): numpy's default
// (linear interpolation between the closest ranks) while exact, the
// sketch's estimate after. NaN when there are no samples.
func (s *Summary) Percentile(p float64) float64 {
	if s.n == 0 {
		return math.NaN()
	}
	if s.sketch != nil {
		v, err := s.sketch.GetValueAtQuantile(p / 100)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	if !s.sorted {
		slices.Sort(s.vals)
		s.sorted = true
	}
	return percentileSorted(s.vals, p)
}

// percentileSorted is numpy.percentile(x, p) with the default "linear"
// method, for ascending x.
func percentileSorted(x []float64, p float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(len(x)-1)
	lo := int(math.Floor(pos))
	if lo >= len(x)-1 {
		return x[len(x)-1]
	}
	if lo < 0 {
		return x[0]
	}
	// numpy's _lerp: from the nearer end, so that t = 1 gives b exactly.
	a, b, t := x[lo], x[lo+1], pos-float64(lo)
	if t >= 0.5 {
		return b - (b-a)*(1-t)
	}
	return a + (b-a)*t
}

// sum adds x pairwise, as numpy does, so that the mean of many samples
// loses no more precision than numpy's.
func sum(x []float64) float64 {
	if len(x) <= 8 {
		var s float64
		for _, v := range x {
			s += v
		}
		return s
	}
	h := len(x) / 2
	return sum(x[:h]) + sum(x[h:])
}
