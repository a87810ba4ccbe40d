package replay

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time and waits for it. Tests inject one whose waits
// return at once, having moved its time forward.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t, or earlier with ctx's error when ctx is done.
	SleepUntil(ctx context.Context, t time.Time) error
}

// SystemClock is the real time.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// fineSleep is the last stretch of a wait, slept by fineSleepUntil. The
// runtime's timers wake through epoll, whose timeout is in whole
// milliseconds, so in an idle process a timer fires up to a millisecond
// late: too coarse for sends a millisecond apart.
const fineSleep = time.Millisecond

func (systemClock) SleepUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t) - fineSleep; d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fineSleepUntil(t)
	return nil
}

// Plan says how one send kept to its schedule; it becomes the record's
// replay object (with the lag, measured from the record's start).
type Plan struct {
	Scheduled time.Time
	// Queued is the time from the scheduled send to a free concurrency
	// slot when the request had to wait for one; HasQueued is true when a
	// concurrency cap applies to an open loop or the original pacing.
	Queued    time.Duration
	HasQueued bool
}

// SendFunc sends one request and returns once its exchange has ended.
type SendFunc func(ctx context.Context, req *Request, plan Plan)

// Runner sends requests on a schedule. Set its fields, call Run once, then
// Wait.
type Runner struct {
	Clock    Clock // nil: SystemClock
	Schedule *Schedule
	Requests []Request
	// Concurrency, when above zero, is the most sends in flight: a cap on
	// a timed schedule, the number of workers of a closed loop.
	Concurrency int
	// Duration stops a closed loop: no send starts after it.
	Duration time.Duration
	Send     SendFunc
	// SendCtx is the context of every send; cancelling it cuts them.
	SendCtx context.Context

	wg       sync.WaitGroup
	inFlight atomic.Int64
	sent     atomic.Int64

	workersOnce, quitOnce sync.Once
	work                  chan job      // to an idle worker
	quit                  chan struct{} // closed by Wait
}

// Sent is how many sends have started.
func (r *Runner) Sent() int { return int(r.sent.Load()) }

// InFlight is how many sends have started and not ended.
func (r *Runner) InFlight() int { return int(r.inFlight.Load()) }

// Run sends the schedule's items, each at its time, until the schedule is
// over or stop is done, and returns how many sends it started. Times are
// absolute (the start plus the item's offset), so a late send does not
// delay the ones after it. Sends still in flight go on; see Wait.
func (r *Runner) Run(stop context.Context) int {
	clock := r.Clock
	if clock == nil {
		clock = SystemClock
	}
	sendCtx := r.SendCtx
	if sendCtx == nil {
		sendCtx = context.Background()
	}
	closed := r.Schedule.pace.Closed
	if closed && r.Concurrency > 0 {
		return r.runClosed(stop, clock, sendCtx)
	}
	var slots chan struct{}
	if r.Concurrency > 0 {
		slots = make(chan struct{}, r.Concurrency)
	}
	t0 := clock.Now()
	sent := 0
	for {
		item, ok := r.Schedule.Next()
		if !ok || stop.Err() != nil {
			return sent
		}
		var plan Plan
		if !closed {
			plan.Scheduled = t0.Add(item.At)
			if clock.SleepUntil(stop, plan.Scheduled.Add(-dispatchLead)) != nil {
				return sent
			}
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			default:
				select {
				case slots <- struct{}{}:
				case <-stop.Done():
					return sent
				}
				if !closed {
					plan.Queued = max(0, clock.Now().Sub(plan.Scheduled))
				}
			}
			plan.HasQueued = !closed
		}
		if closed {
			plan.Scheduled = clock.Now()
			if r.Duration > 0 && plan.Scheduled.Sub(t0) >= r.Duration {
				if slots != nil {
					<-slots
				}
				return sent
			}
		}
		sent++
		r.sent.Add(1)
		r.wg.Add(1)
		r.inFlight.Add(1)
		j := job{req: &r.Requests[item.Index], plan: plan, ctx: sendCtx, slots: slots}
		if !closed {
			j.clock = clock
		}
		r.dispatch(j)
	}
}

// runClosed is Run for a closed loop with a concurrency cap: Concurrency
// workers each take the next request as soon as their send has ended. With
// a dispatcher between them, every request cost two goroutine hand-offs
// more (a slot given back woke the dispatcher, which woke a worker).
// Run returns as it does otherwise: once the schedule is over (the item
// after the last one taken is looked at beforehand), the duration is up or
// stop is done, with the sends in flight going on.
func (r *Runner) runClosed(stop context.Context, clock Clock, sendCtx context.Context) int {
	var (
		mu    sync.Mutex
		sent  int
		over  bool
		ended = make(chan struct{})
	)
	t0 := clock.Now()
	next, more := r.Schedule.Next()
	end := func() { // with mu held
		if !over {
			over = true
			close(ended)
		}
	}
	if !more {
		return 0
	}
	take := func() (j job, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		if over {
			return j, false
		}
		if stop.Err() != nil {
			end()
			return j, false
		}
		j.plan.Scheduled = clock.Now()
		if r.Duration > 0 && j.plan.Scheduled.Sub(t0) >= r.Duration {
			end()
			return j, false
		}
		j.req, j.ctx = &r.Requests[next.Index], sendCtx
		sent++
		r.sent.Add(1)
		r.inFlight.Add(1)
		if next, more = r.Schedule.Next(); !more {
			end()
		}
		return j, true
	}
	for range r.Concurrency {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for {
				j, ok := take()
				if !ok {
					return
				}
				r.Send(j.ctx, j.req, j.plan)
				r.inFlight.Add(-1)
			}
		}()
	}
	select {
	case <-ended:
	case <-stop.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	end()
	return sent
}

// job is one send handed to a worker.
type job struct {
	req   *Request
	plan  Plan
	ctx   context.Context
	slots chan struct{} // released when the send ends; nil without a cap
	clock Clock         // waits for plan.Scheduled; nil in a closed loop
}

// dispatchLead is how long before its due time a send is handed to a
// worker, which then waits for that time itself. The send then starts as
// soon as its own goroutine wakes: not after the dispatcher has woken too,
// handed it over and gone back to sleep, with the worker waiting meanwhile
// for a thread to run on. Two milliseconds cover the runtime timer's
// millisecond and the fine sleep's (SystemClock). A send handed over
// before a stop still goes, at its time.
const dispatchLead = 2 * time.Millisecond

// workerIdle is how long a worker waits for another send before it ends.
const workerIdle = 10 * time.Second

// dispatch hands j to an idle worker, or to a new one when none is idle.
// Workers outlive a send to take the next: a send through the proxy runs
// deep, and a new goroutine per send would grow (copy) its stack each time.
func (r *Runner) dispatch(j job) {
	r.workersOnce.Do(func() {
		r.work = make(chan job)
		r.quit = make(chan struct{})
	})
	select {
	case r.work <- j:
	default:
		go r.worker(j)
	}
}

// worker runs j, then the sends dispatch hands it, until it has been idle
// for workerIdle or Wait has returned.
//
// The idle timer is not reset after every send (a timer reset takes the
// runtime's timer lock, on every request of a closed loop); when it fires,
// the worker goes on waiting for whatever is left of workerIdle since its
// last send ended.
func (r *Runner) worker(j job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		if j.clock != nil {
			// Cut (j.ctx done): sent at once, and recorded as cut.
			_ = j.clock.SleepUntil(j.ctx, j.plan.Scheduled)
		}
		r.Send(j.ctx, j.req, j.plan)
		r.inFlight.Add(-1)
		if j.slots != nil {
			<-j.slots
		}
		r.wg.Done()
		ended := time.Now()
	wait:
		for {
			select {
			case j = <-r.work:
				break wait
			case <-idle.C:
				if rest := workerIdle - time.Since(ended); rest > 0 {
					idle.Reset(rest)
					continue
				}
				return
			case <-r.quit:
				return
			}
		}
	}
}

// Wait blocks until every send Run started has ended, then lets the idle
// workers go.
func (r *Runner) Wait() {
	r.wg.Wait()
	r.quitOnce.Do(func() {
		if r.quit != nil {
			close(r.quit)
		}
	})
}
