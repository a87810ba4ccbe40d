package replay

import (
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Pace says when requests are due. The zero Pace is the original pacing
// at the original speed, once through the input.
type Pace struct {
	// Speed scales the original pacing: 4 sends four times faster. Zero
	// means 1. Used when neither Rate nor Closed is set.
	Speed float64
	// Rate, when above zero, is an open loop of Rate requests per second,
	// on a schedule computed in advance whatever the responses do.
	Rate float64
	// Burstiness, with Rate, draws the gaps from a gamma distribution of
	// shape Burstiness and mean 1/Rate (1 is a Poisson process; lower is
	// burstier). Zero: evenly spaced.
	Burstiness float64
	// Seed seeds the gamma gaps.
	Seed uint64
	// Closed is a closed loop: each request goes as soon as a concurrency
	// slot is free; no request is due at a time.
	Closed bool
	// Count, when above zero, stops after that many requests.
	Count int
	// Duration, when above zero, stops scheduling requests due at or
	// after it (in a closed loop, the sender stops at it).
	Duration time.Duration
	// Loop cycles through the requests until Count or Duration stops it.
	Loop bool
}

// Item is one send in a schedule.
type Item struct {
	Index int           // into the requests
	At    time.Duration // since the schedule began; 0 in a closed loop
}

// Schedule yields the sends of a Pace over a list of requests in order.
// It is a pure function of its inputs: the same Pace and start times give
// the same items.
type Schedule struct {
	pace   Pace
	order  []int           // request indexes in sending order
	offset []time.Duration // original pacing: each request's offset in a pass
	period time.Duration   // original pacing: the length of a pass
	gamma  *distuv.Gamma

	n    int           // items yielded
	pass int           // passes through order completed
	pos  int           // position in order
	next time.Duration // rate: when the next item is due
	sum  float64       // rate with gamma gaps: the sum of the gaps so far, in seconds
}

// NewSchedule plans sends for requests that arrived at starts (one per
// request, in input order). Under the original pacing the requests go in
// the order they arrived, the first at once; under a rate or a closed
// loop, in input order.
func NewSchedule(p Pace, starts []time.Time) *Schedule {
	if p.Speed <= 0 {
		p.Speed = 1
	}
	s := &Schedule{pace: p, order: make([]int, len(starts))}
	for i := range s.order {
		s.order[i] = i
	}
	switch {
	case p.Closed:
	case p.Rate > 0:
		if p.Burstiness > 0 {
			s.gamma = &distuv.Gamma{
				Alpha: p.Burstiness,
				Beta:  p.Burstiness * p.Rate, // rate parameter: mean Alpha/Beta = 1/Rate
				Src:   rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15),
			}
		}
	default:
		s.original(starts)
	}
	return s
}

// original computes each request's offset from the earliest start, scaled
// by the speed. A pass through the input lasts from the first start to the
// last plus one mean gap, so a loop keeps the average pace.
func (s *Schedule) original(starts []time.Time) {
	slices.SortStableFunc(s.order, func(a, b int) int { return starts[a].Compare(starts[b]) })
	s.offset = make([]time.Duration, len(starts))
	if len(starts) == 0 {
		return
	}
	// The earliest start there is: records without one sort first.
	var first time.Time
	for _, i := range s.order {
		if !starts[i].IsZero() {
			first = starts[i]
			break
		}
	}
	var span time.Duration
	for i, t := range starts {
		if t.IsZero() {
			continue // a record without a start goes with the first
		}
		s.offset[i] = time.Duration(float64(t.Sub(first)) / s.pace.Speed)
		span = max(span, s.offset[i])
	}
	if n := len(starts); n > 1 {
		s.period = span + span/time.Duration(n-1)
	}
	if s.period <= 0 {
		// One record, or all at one instant: a loop of them would be an
		// endless burst; repeat them once a second (at speed 1) instead.
		s.period = time.Duration(float64(time.Second) / s.pace.Speed)
	}
}

// Next returns the next send, or false when the schedule is over.
func (s *Schedule) Next() (Item, bool) {
	if len(s.order) == 0 || (s.pace.Count > 0 && s.n >= s.pace.Count) {
		return Item{}, false
	}
	if s.pos == len(s.order) {
		if !s.pace.Loop {
			return Item{}, false
		}
		s.pos = 0
		s.pass++
	}
	idx := s.order[s.pos]
	var at time.Duration
	switch {
	case s.pace.Closed:
	case s.pace.Rate > 0:
		at = s.next
		gap := 1 / s.pace.Rate
		if s.gamma != nil {
			gap = s.gamma.Rand()
		}
		// Each time is computed from the sum of the gaps in float seconds,
		// not by adding rounded durations, so an even rate does not drift.
		s.next = time.Duration(s.rateSum(gap) * float64(time.Second))
	default:
		at = time.Duration(s.pass)*s.period + s.offset[idx]
	}
	if s.pace.Duration > 0 && !s.pace.Closed && at >= s.pace.Duration {
		return Item{}, false
	}
	s.pos++
	s.n++
	return Item{Index: idx, At: at}, true
}

// rateSum adds gap to the running sum of gaps (in seconds) and returns it.
// An even rate computes n/Rate directly, which never accumulates error.
func (s *Schedule) rateSum(gap float64) float64 {
	if s.gamma == nil {
		return float64(s.n+1) / s.pace.Rate
	}
	s.sum += gap
	return s.sum
}

// maxCounted bounds the sends Total counts one by one.
const maxCounted = 10_000_000

// Total is how many sends the schedule will make, or -1 when that is not
// known in advance (random gaps or a closed loop bounded by time alone).
func (s *Schedule) Total() int {
	n, count := len(s.order), s.pace.Count
	switch {
	case n == 0:
		return 0
	case !s.pace.Loop && s.pace.Duration == 0:
		if count > 0 {
			return min(count, n)
		}
		return n
	case s.pace.Duration == 0: // a loop bounded by Count
		return count
	case s.pace.Closed || s.gamma != nil:
		return -1 // time may stop it before the input or the count ends
	}
	c := NewSchedule(s.pace, nil)
	c.order, c.offset, c.period = s.order, s.offset, s.period
	total := 0
	for _, ok := c.Next(); ok && total < maxCounted; _, ok = c.Next() {
		total++
	}
	if total == maxCounted {
		return -1
	}
	return total
}
