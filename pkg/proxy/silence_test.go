package proxy

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSilenceTimer: chunks only note when they came; the timer, when it
// fires, ends the exchange only if the upstream has been silent for the
// whole IdleTimeout, else sets itself for the rest of it; once quiet, it
// never ends the exchange. The clock is not waited on: the exchange's start
// is moved into the past and checkSilence is called as the timer would.
func TestSilenceTimer(t *testing.T) {
	const idle = time.Hour
	tap, err := New(Config{Upstream: "http://127.0.0.1:1/v1", Sink: discard{}, IdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	newEx := func() (*exchange, context.Context) {
		ex := tap.newExchange(httptest.NewRequest("POST", "/v1/chat/completions", nil))
		t.Cleanup(func() { ex.silence.Stop() })
		ctx, cancel := context.WithCancelCause(context.Background())
		ex.cancel = cancel
		ex.start = ex.start.Add(-3 * idle) // began three hours ago
		return ex, ctx
	}

	for _, tc := range []struct {
		name      string
		heardAgo  time.Duration // before now, when the upstream last spoke
		quiet     bool
		wantEnded bool
	}{
		{"spoke a minute ago", time.Minute, false, false},
		{"silent for longer than the limit", 2 * idle, false, true},
		{"silent, but quiet: the answer is complete", 2 * idle, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, ctx := newEx()
			if ex.silenceState.Load() != silenceUnarmed {
				t.Fatal("armed before the upstream said anything")
			}
			ex.heardAt(time.Since(ex.start) - tc.heardAgo)
			if ex.silenceState.Load() != silenceArmed {
				t.Fatal("not armed by the first touch")
			}
			if tc.quiet {
				ex.quiet()
			}
			ex.silence.Stop() // the timer fires:
			ex.checkSilence()
			if ended := ctx.Err() != nil; ended != tc.wantEnded {
				t.Fatalf("exchange ended: %v, want %v", ended, tc.wantEnded)
			}
			if tc.wantEnded && !errors.Is(context.Cause(ctx), errUpstreamSilent) {
				t.Errorf("cause %v, want errUpstreamSilent", context.Cause(ctx))
			}
			rearmed := ex.silence.Stop()
			if want := !tc.wantEnded && !tc.quiet; rearmed != want {
				t.Errorf("timer set again: %v, want %v", rearmed, want)
			}
		})
	}

	t.Run("touch after quiet does not arm", func(t *testing.T) {
		ex, _ := newEx()
		ex.quiet()
		ex.touch()
		if ex.silence.Stop() {
			t.Error("the timer was armed after quiet")
		}
	})

	t.Run("quiet between the check and the re-arm", func(t *testing.T) {
		// The timer fired and found the upstream not silent long enough;
		// before it set itself again, the answer ended (quiet, whose Stop
		// found nothing to stop).
		ex, _ := newEx()
		ex.heardAt(time.Since(ex.start))
		ex.silence.Stop()
		ex.quiet()
		ex.rearmSilence(idle)
		if ex.silence.Stop() {
			t.Error("the timer was left set after quiet")
		}
	})
}
