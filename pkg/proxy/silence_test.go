package proxy

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSilenceWatch: chunks only note when they came; the watch, when its
// timer fires, ends an exchange only if the upstream has been silent for
// the whole IdleTimeout, and sets its timer for when the next one can be;
// once quiet, an exchange is never ended. The clock is not waited on: the
// sweep is given the time, and the exchanges' starts are in the past.
func TestSilenceWatch(t *testing.T) {
	const idle = time.Hour
	tap, err := New(Config{Upstream: "http://127.0.0.1:1/v1", Sink: discard{}, IdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	w := &tap.silence
	t.Cleanup(func() {
		w.mu.Lock()
		if w.timer != nil {
			w.timer.Stop()
		}
		w.mu.Unlock()
	})
	now := time.Now()
	// newEx returns an exchange that began three hours before now, armed
	// by a word from the upstream heardAgo before now.
	newEx := func(t *testing.T, heardAgo time.Duration) (*exchange, context.Context) {
		ex := tap.newExchange(httptest.NewRequest("POST", "/v1/chat/completions", nil))
		ctx, cancel := context.WithCancelCause(context.Background())
		ex.cancel = cancel
		ex.start = now.Add(-3 * idle)
		if ex.silenceState.Load() != silenceUnarmed || ex.watched {
			t.Fatal("armed before the upstream said anything")
		}
		ex.heardAt(now.Sub(ex.start) - heardAgo)
		if ex.silenceState.Load() != silenceArmed || !ex.watched {
			t.Fatal("not armed by the first word")
		}
		return ex, ctx
	}
	// sweep is the timer firing at now.
	sweep := func() (ended []*exchange, running bool) {
		ended = w.sweep(now)
		for _, ex := range ended {
			ex.cancel(errUpstreamSilent)
		}
		return ended, w.running
	}

	for _, tc := range []struct {
		name      string
		heardAgo  time.Duration // before now, when the upstream last spoke
		quiet     bool
		wantEnded bool
	}{
		{"spoke a minute ago", time.Minute, false, false},
		{"silent for longer than the limit", 2 * idle, false, true},
		{"silent for the limit exactly", idle, false, true},
		{"silent, but quiet: the answer is complete", 2 * idle, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, ctx := newEx(t, tc.heardAgo)
			if tc.quiet {
				ex.quiet()
				if ex.watched {
					t.Fatal("still watched once quiet")
				}
			}
			ended, running := sweep()
			if got := len(ended) == 1 && ended[0] == ex; got != tc.wantEnded {
				t.Fatalf("ended %d exchanges, want this one: %v", len(ended), tc.wantEnded)
			}
			if got := ctx.Err() != nil; got != tc.wantEnded {
				t.Fatalf("exchange ended: %v, want %v", got, tc.wantEnded)
			}
			if tc.wantEnded && !errors.Is(context.Cause(ctx), errUpstreamSilent) {
				t.Errorf("cause %v, want errUpstreamSilent", context.Cause(ctx))
			}
			if want := !tc.wantEnded && !tc.quiet; running != want || ex.watched != want {
				t.Errorf("timer set again: %v, exchange watched: %v, want %v", running, ex.watched, want)
			}
			ex.quiet()
			if w.head != nil {
				t.Error("the watch keeps an exchange that is over")
			}
		})
	}

	t.Run("the timer is set for the next exchange due", func(t *testing.T) {
		a, _ := newEx(t, 10*time.Minute)
		b, _ := newEx(t, 40*time.Minute) // due in 20 minutes
		c, _ := newEx(t, time.Minute)
		w.sweep(now)
		if !w.running || !a.watched || !b.watched || !c.watched {
			t.Fatal("ended an exchange that was not due, or left the timer stopped")
		}
		// The timer runs; the next sweep comes 20 minutes later.
		ended := w.sweep(now.Add(20 * time.Minute))
		if len(ended) != 1 || ended[0] != b || b.watched {
			t.Errorf("ended %d exchanges, want b", len(ended))
		}
		for _, ex := range []*exchange{a, c} {
			ex.quiet()
		}
		if w.head != nil {
			t.Error("the watch keeps exchanges that are over")
		}
		if w.sweep(now); w.running {
			t.Error("the timer was set with nothing to watch")
		}
	})

	t.Run("a word after quiet does not arm", func(t *testing.T) {
		ex := tap.newExchange(httptest.NewRequest("POST", "/v1/chat/completions", nil))
		ex.quiet()
		ex.touch()
		if ex.watched || w.head != nil {
			t.Error("watched after quiet")
		}
	})
}
