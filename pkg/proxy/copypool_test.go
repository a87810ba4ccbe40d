package proxy

import "testing"

// TestCopyPool: the first maxBigCopies buffers lent at once are big, the
// rest small; a big one given back is lent big again.
func TestCopyPool(t *testing.T) {
	p := &copyPool{}
	var lent [][]byte
	for i := range maxBigCopies + 3 {
		b := p.Get()
		want := bigCopyBuffer
		if i >= maxBigCopies {
			want = smallCopyBuffer
		}
		if len(b) != want {
			t.Fatalf("buffer %d has %d bytes, want %d", i, len(b), want)
		}
		lent = append(lent, b)
	}
	p.Put(lent[0])
	if b := p.Get(); len(b) != bigCopyBuffer {
		t.Errorf("after a big buffer came back, Get gave %d bytes, want %d", len(b), bigCopyBuffer)
	}
	for _, b := range lent[1:] {
		p.Put(b)
	}
	if n := p.bigOut.Load(); n != 1 {
		t.Errorf("%d big buffers counted out, want 1", n)
	}
	p.Put(make([]byte, 100)) // not one of ours: ignored
	if n := p.bigOut.Load(); n != 1 {
		t.Errorf("a foreign buffer changed the count to %d", n)
	}
}

// TestCopyPoolPutAllocatesNothing: giving a buffer back costs no
// allocation (the pools hold the arrays, not pointers to slices).
func TestCopyPoolPutAllocatesNothing(t *testing.T) {
	p := &copyPool{}
	p.Put(p.Get())
	if n := testing.AllocsPerRun(100, func() { p.Put(p.Get()) }); n != 0 {
		t.Errorf("%v allocations per Get and Put", n)
	}
}
