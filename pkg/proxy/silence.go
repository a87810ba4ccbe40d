package proxy

import (
	"sync"
	"time"
)

// silenceWatch ends the exchanges whose upstream has been silent for
// IdleTimeout, with one timer for all of a Tap's exchanges. A timer of
// each exchange's own cost more to make, set and stop than the rest of a
// short exchange's bookkeeping, and all but a few are stopped long before
// they would fire.
//
// An exchange is armed (linked in) once its request is sent and disarmed
// once the upstream has nothing more to say (quiet); meanwhile each chunk
// only notes when it came (exchange.heard). The timer is set for the
// earliest moment an armed exchange can have been silent for the whole
// IdleTimeout; when it fires, it ends the exchanges that have been, and
// sets itself for the next such moment. An exchange armed later cannot be
// due earlier, so arming one never moves a running timer.
type silenceWatch struct {
	idle time.Duration

	mu      sync.Mutex
	head    *exchange // the armed exchanges, linked by watchPrev and watchNext
	timer   *time.Timer
	running bool // the timer is set
}

// arm starts watching ex, unless it went quiet meanwhile.
func (w *silenceWatch) arm(ex *exchange) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ex.silenceState.Load() != silenceArmed || ex.watched {
		return
	}
	ex.watched = true
	ex.watchPrev, ex.watchNext = nil, w.head
	if w.head != nil {
		w.head.watchPrev = ex
	}
	w.head = ex
	if !w.running {
		w.running = true
		// The earliest this exchange can be due: its last word is now or
		// just before, so a little early at worst, and then set again.
		if w.timer == nil {
			w.timer = time.AfterFunc(w.idle, w.fire)
		} else {
			w.timer.Reset(w.idle)
		}
	}
}

// disarm stops watching ex.
func (w *silenceWatch) disarm(ex *exchange) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.unlink(ex)
}

func (w *silenceWatch) unlink(ex *exchange) {
	if !ex.watched {
		return
	}
	if ex.watchPrev != nil {
		ex.watchPrev.watchNext = ex.watchNext
	} else {
		w.head = ex.watchNext
	}
	if ex.watchNext != nil {
		ex.watchNext.watchPrev = ex.watchPrev
	}
	ex.watchPrev, ex.watchNext, ex.watched = nil, nil, false
}

// fire runs when the timer does.
func (w *silenceWatch) fire() {
	for _, ex := range w.sweep(time.Now()) {
		ex.cancel(errUpstreamSilent)
	}
}

// sweep unlinks and returns the exchanges silent for IdleTimeout at now,
// and sets the timer for when the next one can be, or leaves it stopped
// when none is left.
func (w *silenceWatch) sweep(now time.Time) (silent []*exchange) {
	w.mu.Lock()
	defer w.mu.Unlock()
	next := time.Duration(-1)
	for ex := w.head; ex != nil; {
		following := ex.watchNext
		quiet := now.Sub(ex.start) - time.Duration(ex.heard.Load())
		if quiet >= w.idle {
			w.unlink(ex)
			silent = append(silent, ex)
		} else if rest := w.idle - quiet; next < 0 || rest < next {
			next = rest
		}
		ex = following
	}
	w.running = next >= 0
	if w.running {
		w.timer.Reset(next)
	}
	return silent
}
