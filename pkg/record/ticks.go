package record

import "github.com/valyala/fastjson"

// Ticks looks up, for offsets that do not decrease, when the chunk of the
// response body holding each arrived: TickMS for a whole stream of events,
// in one pass over the timing instead of a search per offset.
type Ticks struct {
	ticks  []*fastjson.Value
	i      int  // ticks[:i] start at or before the last offset asked
	usable bool // the timing's offsets count the bytes of the recorded body
}

// Ticks returns a lookup of the response's timing. Like TickMS, it knows
// no time when the body was recorded decoded from a Content-Encoding.
func (r View) Ticks() Ticks {
	if len(r.v.GetStringBytes("response", "content_encoding")) > 0 {
		return Ticks{}
	}
	return Ticks{ticks: r.v.GetArray("response", "timing"), usable: true}
}

// MS is TickMS(offset): when the chunk holding byte offset arrived, in
// milliseconds since the start of the exchange; ok is false when that is
// not known. offset must not be below the one of the previous call.
func (t *Ticks) MS(offset int64) (ms float64, ok bool) {
	if !t.usable || offset < 0 {
		return 0, false
	}
	for t.i < len(t.ticks) && tickOffset(t.ticks[t.i]) <= offset {
		t.i++
	}
	if t.i == 0 {
		return 0, false
	}
	at := tickField(t.ticks[t.i-1], 1)
	if at == nil || at.Type() != fastjson.TypeNumber {
		return 0, false
	}
	return at.GetFloat64(), true
}

// tickOffset is a timing entry's byte offset: GetInt64("0").
func tickOffset(v *fastjson.Value) int64 {
	if x := tickField(v, 0); x != nil {
		return x.GetInt64()
	}
	return 0
}

// tickField is element i (0 or 1) of a timing entry, as Get("0") or
// Get("1") finds it, without Get's parse of the index for an array.
func tickField(v *fastjson.Value, i int) *fastjson.Value {
	if a, err := v.Array(); err == nil {
		if i < len(a) {
			return a[i]
		}
		return nil
	}
	return v.Get(string(rune('0' + i)))
}
