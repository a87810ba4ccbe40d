package replay

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock's waits return at once, moving its time to the end of the
// wait; tests move it on with Advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sendLog records the sends of a Runner.
type sendLog struct {
	mu    sync.Mutex
	sends []logged
}

type logged struct {
	of   string
	plan Plan
}

func (l *sendLog) add(req *Request, plan Plan) {
	l.mu.Lock()
	l.sends = append(l.sends, logged{req.Of, plan})
	l.mu.Unlock()
}

func reqs(ids ...string) []Request {
	var out []Request
	for _, id := range ids {
		out = append(out, Request{Of: id})
	}
	return out
}

func TestRunOpenLoopAbsoluteTimes(t *testing.T) {
	clock := &fakeClock{now: t0}
	var log sendLog
	release := make(chan struct{})
	r := &Runner{
		Clock:    clock,
		Schedule: NewSchedule(Pace{Rate: 10, Count: 5, Loop: true}, at(0, 0)),
		Requests: reqs("a", "b"),
		Send: func(ctx context.Context, req *Request, plan Plan) {
			log.add(req, plan)
			// A send that takes long does not hold the ones after it.
			<-release
		},
	}
	if n := r.Run(context.Background()); n != 5 {
		t.Fatalf("Run = %d, want 5", n)
	}
	close(release)
	r.Wait()
	got := map[time.Time]string{}
	for _, s := range log.sends {
		if s.plan.HasQueued {
			t.Errorf("queued_ms without a concurrency cap: %+v", s)
		}
		got[s.plan.Scheduled] = s.of
	}
	want := map[time.Time]string{}
	for i, id := range []string{"a", "b", "a", "b", "a"} {
		want[t0.Add(time.Duration(i)*100*time.Millisecond)] = id
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sends %v, want %v", got, want)
	}
}

func TestRunClosedLoop(t *testing.T) {
	clock := &fakeClock{now: t0}
	var inFlight, most atomic.Int64
	started := make(chan string, 10)
	release := make(chan struct{})
	var log sendLog
	r := &Runner{
		Clock:       clock,
		Schedule:    NewSchedule(Pace{Closed: true, Count: 5, Loop: true}, at(0, 0, 0)),
		Requests:    reqs("a", "b", "c"),
		Concurrency: 2,
		Send: func(ctx context.Context, req *Request, plan Plan) {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			log.add(req, plan)
			started <- req.Of
			<-release
			inFlight.Add(-1)
		},
	}
	done := make(chan int)
	go func() { done <- r.Run(context.Background()) }()
	order := []string{<-started, <-started}
	slices.Sort(order) // the first two start together
	for range 3 {
		clock.Advance(time.Second)
		release <- struct{}{} // one ends: the next starts
		order = append(order, <-started)
	}
	if n := <-done; n != 5 {
		t.Errorf("Run = %d, want 5", n)
	}
	close(release)
	r.Wait()
	if most.Load() != 2 {
		t.Errorf("at most %d in flight, want 2", most.Load())
	}
	if !reflect.DeepEqual(order, []string{"a", "b", "c", "a", "b"}) {
		t.Errorf("order %v", order)
	}
	for _, s := range log.sends {
		if s.plan.HasQueued {
			t.Errorf("a closed loop has no queue: %+v", s)
		}
	}
	// The third went when the first slot freed, a second in.
	if got := log.sends[2].plan.Scheduled; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("third scheduled at %v, want t0+1s", got.Sub(t0))
	}
}

func TestRunClosedLoopDuration(t *testing.T) {
	clock := &fakeClock{now: t0}
	r := &Runner{
		Clock:       clock,
		Schedule:    NewSchedule(Pace{Closed: true, Loop: true, Duration: 2500 * time.Millisecond}, at(0)),
		Requests:    reqs("a"),
		Concurrency: 1,
		Duration:    2500 * time.Millisecond,
		Send:        func(context.Context, *Request, Plan) { clock.Advance(time.Second) },
	}
	if n := r.Run(context.Background()); n != 3 {
		t.Errorf("Run = %d, want 3 (at 0, 1 and 2 s)", n)
	}
	r.Wait()
}

// steppingClock is a fakeClock whose every reading is a second later than
// the one before.
type steppingClock struct{ fakeClock }

func (c *steppingClock) Now() time.Time {
	c.Advance(time.Second)
	return c.fakeClock.Now()
}

func TestRunClosedLoopDurationUncapped(t *testing.T) {
	// A closed loop without a concurrency cap has no slots to give back
	// when its duration is over: Run must still return.
	r := &Runner{
		Clock:    &steppingClock{fakeClock{now: t0}},
		Schedule: NewSchedule(Pace{Closed: true}, at(0, 0)),
		Requests: reqs("a", "b"),
		Duration: time.Second,
		Send:     func(context.Context, *Request, Plan) {},
	}
	if n := r.Run(context.Background()); n != 0 {
		t.Errorf("Run = %d, want 0 (the first send is already past the duration)", n)
	}
	r.Wait()
}

func TestRunCapRecordsQueue(t *testing.T) {
	// In a synctest bubble, synctest.Wait is the sync point: every other
	// goroutine of the runner is blocked, so the dispatcher is waiting for
	// the one slot (b had to queue) before a's send ends.
	synctest.Test(t, testRunCapRecordsQueue)
}

func testRunCapRecordsQueue(t *testing.T) {
	clock := &fakeClock{now: t0}
	started := make(chan logged, 10)
	release := make(chan struct{})
	r := &Runner{
		Clock:       clock,
		Schedule:    NewSchedule(Pace{Rate: 10}, at(0, 0, 0)),
		Requests:    reqs("a", "b", "c"),
		Concurrency: 1,
		Send: func(ctx context.Context, req *Request, plan Plan) {
			started <- logged{req.Of, plan}
			<-release
		},
	}
	done := make(chan int)
	go func() { done <- r.Run(context.Background()) }()
	a := <-started
	synctest.Wait() // the dispatcher waits for a's slot, b in hand
	// b was due at 100 ms, c at 200 ms; the time is now 350 ms.
	_ = clock.SleepUntil(context.Background(), t0.Add(350*time.Millisecond))
	release <- struct{}{}
	b := <-started
	release <- struct{}{}
	c := <-started
	release <- struct{}{}
	<-done
	r.Wait()
	for _, tt := range []struct {
		got        logged
		sched, que time.Duration
	}{{a, 0, 0}, {b, 100 * time.Millisecond, 250 * time.Millisecond}, {c, 200 * time.Millisecond, 150 * time.Millisecond}} {
		if !tt.got.plan.HasQueued || tt.got.plan.Scheduled.Sub(t0) != tt.sched || tt.got.plan.Queued != tt.que {
			t.Errorf("%s: %+v; want scheduled t0+%v, queued %v", tt.got.of, tt.got.plan, tt.sched, tt.que)
		}
	}
}

func TestRunStop(t *testing.T) {
	clock := &fakeClock{now: t0}
	stop, cancel := context.WithCancel(context.Background())
	r := &Runner{
		Clock:       clock,
		Schedule:    NewSchedule(Pace{Closed: true, Loop: true, Count: 1000}, at(0)),
		Requests:    reqs("a"),
		Concurrency: 3,
	}
	var n atomic.Int64
	block := make(chan struct{})
	r.Send = func(context.Context, *Request, Plan) {
		if n.Add(1) == 3 {
			cancel() // a signal while every slot is busy
		}
		<-block
	}
	if got := r.Run(stop); got != 3 {
		t.Errorf("Run = %d, want 3", got)
	}
	close(block)
	r.Wait()
}

// waitLog is a fakeClock that notes every time waited for.
type waitLog struct {
	fakeClock
	mu    sync.Mutex
	waits []time.Duration // since t0
}

func (c *waitLog) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	c.waits = append(c.waits, t.Sub(t0))
	c.mu.Unlock()
	return c.fakeClock.SleepUntil(ctx, t)
}

// TestRunWorkerWaitsForDueTime: the dispatcher hands each send over
// dispatchLead before it is due, and the worker waits for the due time
// itself, so no send starts early and none waits on the dispatcher.
func TestRunWorkerWaitsForDueTime(t *testing.T) {
	clock := &waitLog{fakeClock: fakeClock{now: t0}}
	var mu sync.Mutex
	early := 0
	r := &Runner{
		Clock:    clock,
		Schedule: NewSchedule(Pace{Rate: 10, Count: 4, Loop: true}, at(0)),
		Requests: reqs("a"),
		Send: func(ctx context.Context, req *Request, plan Plan) {
			if clock.Now().Before(plan.Scheduled) {
				mu.Lock()
				early++
				mu.Unlock()
			}
		},
	}
	if n := r.Run(context.Background()); n != 4 {
		t.Fatalf("Run = %d, want 4", n)
	}
	r.Wait()
	if early > 0 {
		t.Errorf("%d sends started before they were due", early)
	}
	got := slices.Clone(clock.waits)
	slices.Sort(got)
	var want []time.Duration
	for k := range 4 {
		due := time.Duration(k) * 100 * time.Millisecond
		want = append(want, due-dispatchLead, due)
	}
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("waits %v, want %v (the dispatcher's, dispatchLead early, and each worker's)", got, want)
	}
}
