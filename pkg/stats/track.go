package stats

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Peak concurrency and peak output throughput need the events of every
// request in time order, but records arrive in the order exchanges ended.
// The trackers below keep only the recent past: events older than a
// watermark (the latest end seen, less the longest exchange seen, less a
// minute of slack) can no longer change, because a record written later
// ended later and did not last longer than that. They are folded into a
// running peak and dropped, so memory follows the number of exchanges open
// at once, not the input. An exchange that breaks the assumption (longer
// than any before it and written long after others) is counted from the
// watermark on.

const (
	watermarkSlack = time.Minute
	flushEvery     = 4096 // pending events (or buckets) before a flush
)

// horizon tracks the watermark.
type horizon struct {
	latestEnd int64 // ns since the Unix epoch
	longest   int64 // ns
}

func (h *horizon) see(start, end int64) {
	h.latestEnd = max(h.latestEnd, end)
	h.longest = max(h.longest, end-start)
}

func (h *horizon) watermark() int64 {
	return h.latestEnd - h.longest - int64(watermarkSlack)
}

// concEvent is requests starting (delta > 0) or ending (delta < 0) at t.
type concEvent struct {
	t     int64
	delta int64
}

// concurrency finds the most requests open at once, with half-open
// intervals [start, end): a request that ends as another starts does not
// overlap it.
type concurrency struct {
	pending []concEvent
	next    int   // fold when pending reaches this
	done    int64 // events before this time have been folded in
	open    int64 // requests open at done
	peak    int64
}

func (c *concurrency) add(start, end int64, h *horizon) {
	start, end = max(start, c.done), max(end, c.done)
	if end <= start {
		return
	}
	c.pending = append(c.pending, concEvent{start, 1}, concEvent{end, -1})
	if len(c.pending) >= max(c.next, flushEvery) {
		c.fold(h.watermark(), false)
		// Events the watermark cannot fold yet (an input whose times
		// repeat) wait for the list to double, so the sorts stay linear
		// overall.
		c.next = 2 * len(c.pending)
	}
}

func sortEvents(ev []concEvent) {
	slices.SortFunc(ev, func(a, b concEvent) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.delta, b.delta) // ends (negative) before starts
	})
}

// fold sweeps the pending events before until into the peak and drops
// them; all folds every event.
func (c *concurrency) fold(until int64, all bool) {
	sortEvents(c.pending)
	i := 0
	for ; i < len(c.pending) && (all || c.pending[i].t < until); i++ {
		c.open += c.pending[i].delta
		c.peak = max(c.peak, c.open)
	}
	if i > 0 {
		c.done = max(c.done, c.pending[i-1].t)
	}
	// Merge what is left that happens at the same time in the same
	// direction: same answer, less memory.
	rest := c.pending[:0]
	for _, e := range c.pending[i:] {
		if n := len(rest); n > 0 && rest[n-1].t == e.t && (rest[n-1].delta > 0) == (e.delta > 0) {
			rest[n-1].delta += e.delta
			continue
		}
		rest = append(rest, e)
	}
	c.pending = rest
}

// Peak returns the peak so far without changing the tracker.
func (c *concurrency) Peak() int64 {
	ev := slices.Clone(c.pending)
	sortEvents(ev)
	open, peak := c.open, c.peak
	for _, e := range ev {
		open += e.delta
		peak = max(peak, open)
	}
	return peak
}

// buckets sums output tokens per second (aligned to the Unix epoch) and
// keeps the largest sum.
type buckets struct {
	sums map[int64]float64
	next int   // fold when sums reaches this many seconds
	done int64 // seconds before this one have been folded in
	peak float64
}

func (b *buckets) add(t int64, tokens float64, h *horizon) {
	if b.sums == nil {
		b.sums = make(map[int64]float64)
	}
	sec := max(floorDiv(t, int64(time.Second)), b.done)
	b.sums[sec] += tokens
	if len(b.sums) >= max(b.next, flushEvery) {
		w := floorDiv(h.watermark(), int64(time.Second))
		for s, v := range b.sums {
			if s < w {
				b.peak = max(b.peak, v)
				delete(b.sums, s)
			}
		}
		b.done = max(b.done, w)
		b.next = 2 * len(b.sums)
	}
}

// Peak is the largest number of tokens in one second; NaN with none.
func (b *buckets) Peak() float64 {
	p := b.peak
	for _, v := range b.sums {
		p = max(p, v)
	}
	if p == 0 && len(b.sums) == 0 && b.done == 0 {
		return math.NaN()
	}
	return p
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
