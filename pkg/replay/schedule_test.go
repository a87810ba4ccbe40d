package replay

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

// items runs a schedule to its end (at most limit items).
func items(s *Schedule, limit int) []Item {
	var out []Item
	for len(out) < limit {
		it, ok := s.Next()
		if !ok {
			break
		}
		out = append(out, it)
	}
	return out
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(secs ...float64) []time.Time {
	var out []time.Time
	for _, s := range secs {
		out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
	}
	return out
}

func TestScheduleOriginal(t *testing.T) {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	for _, tt := range []struct {
		name   string
		pace   Pace
		starts []time.Time
		want   []Item
	}{
		{"original pacing, first at once, in start order", Pace{}, at(10, 12, 11, 15),
			[]Item{{0, 0}, {2, sec(1)}, {1, sec(2)}, {3, sec(5)}}},
		{"speed 4", Pace{Speed: 4}, at(10, 12, 11, 15),
			[]Item{{0, 0}, {2, sec(0.25)}, {1, sec(0.5)}, {3, sec(1.25)}}},
		{"slow down", Pace{Speed: 0.5}, at(0, 1), []Item{{0, 0}, {1, sec(2)}}},
		{"count", Pace{Count: 2}, at(0, 1, 2), []Item{{0, 0}, {1, sec(1)}}},
		{"duration", Pace{Duration: sec(2)}, at(0, 1, 2, 3), []Item{{0, 0}, {1, sec(1)}}},
		// A pass lasts the span plus one mean gap: 2 + 1 s.
		{"loop with count", Pace{Loop: true, Count: 7}, at(0, 1, 2),
			[]Item{{0, 0}, {1, sec(1)}, {2, sec(2)}, {0, sec(3)}, {1, sec(4)}, {2, sec(5)}, {0, sec(6)}}},
		{"loop with duration", Pace{Loop: true, Duration: sec(4.5)}, at(0, 2),
			[]Item{{0, 0}, {1, sec(2)}, {0, sec(4)}}},
		{"loop of one record: once a second", Pace{Loop: true, Count: 3, Speed: 2}, at(5),
			[]Item{{0, 0}, {0, sec(0.5)}, {0, sec(1)}}},
		{"rate, evenly spaced, input order", Pace{Rate: 4}, at(3, 1, 2),
			[]Item{{0, 0}, {1, sec(0.25)}, {2, sec(0.5)}}},
		{"rate with duration and loop", Pace{Rate: 2, Loop: true, Duration: sec(2)}, at(0, 0),
			[]Item{{0, 0}, {1, sec(0.5)}, {0, sec(1)}, {1, sec(1.5)}}},
		{"closed loop", Pace{Closed: true, Count: 3, Loop: true}, at(0, 9),
			[]Item{{0, 0}, {1, 0}, {0, 0}}},
		{"empty", Pace{}, nil, nil},
		// A record without a start goes at once; the others keep their
		// pacing from the earliest start there is.
		{"a record without a start", Pace{}, append([]time.Time{{}}, at(10, 12)...),
			[]Item{{0, 0}, {1, 0}, {2, sec(2)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSchedule(tt.pace, tt.starts)
			total := s.Total()
			got := items(s, 100)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("items\n got %v\nwant %v", got, tt.want)
			}
			if total >= 0 && total != len(got) {
				t.Errorf("Total %d, but %d items", total, len(got))
			}
		})
	}
}

func TestScheduleRateDoesNotDrift(t *testing.T) {
	s := NewSchedule(Pace{Rate: 3, Loop: true, Count: 30001}, at(0))
	var last Item
	for it, ok := s.Next(); ok; it, ok = s.Next() {
		last = it
	}
	if last.At != 10000*time.Second {
		t.Errorf("item 30001 at %v, want 10000s", last.At)
	}
}

func TestScheduleGamma(t *testing.T) {
	const n = 10000
	// The standard error of the mean of n gaps is CV/√n: 1% for Poisson.
	// Burstier shapes (below 1) spread more, so they get three standard
	// errors rather than the fixed bounds.
	for _, tt := range []struct{ rate, burstiness, meanTol, cvTol float64 }{
		{10, 1, 0.02, 0.05}, {1000, 1, 0.02, 0.05}, {5, 4, 0.02, 0.05}, {50, 2, 0.02, 0.05},
		{20, 0.5, 0.045, 0.10},
	} {
		t.Run(fmt.Sprintf("rate %v burstiness %v", tt.rate, tt.burstiness), func(t *testing.T) {
			s := NewSchedule(Pace{Rate: tt.rate, Burstiness: tt.burstiness, Seed: 42, Loop: true, Count: n + 1}, at(0))
			got := items(s, n+1)
			var sum, sumSq float64
			for i := 1; i < len(got); i++ {
				g := (got[i].At - got[i-1].At).Seconds()
				sum += g
				sumSq += g * g
			}
			mean := sum / n
			cv := math.Sqrt(sumSq/n-mean*mean) / mean
			wantMean, wantCV := 1/tt.rate, 1/math.Sqrt(tt.burstiness)
			if math.Abs(mean-wantMean)/wantMean > tt.meanTol {
				t.Errorf("mean gap %v, want %v ± %v", mean, wantMean, tt.meanTol)
			}
			if math.Abs(cv-wantCV)/wantCV > tt.cvTol {
				t.Errorf("coefficient of variation %v, want %v ± %v", cv, wantCV, tt.cvTol)
			}
			// The same seed gives the same schedule.
			again := items(NewSchedule(Pace{Rate: tt.rate, Burstiness: tt.burstiness, Seed: 42, Loop: true, Count: n + 1}, at(0)), n+1)
			if !reflect.DeepEqual(got, again) {
				t.Error("same seed, different schedule")
			}
		})
	}
}

func TestShardsDisjointAndCovering(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		for i := range 1000 {
			id := fmt.Sprintf("20260101T000000.%06dZ-abcdef-%06d", i, i)
			in := 0
			for s := 1; s <= n; s++ {
				if InShard(id, s, n) {
					in++
				}
			}
			if in != 1 {
				t.Fatalf("%s is in %d of %d shards", id, in, n)
			}
		}
	}
	// FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c, which is even.
	if !InShard("a", 1, 2) || InShard("a", 2, 2) {
		t.Error(`"a" should be in shard 1 of 2`)
	}
}
