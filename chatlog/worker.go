package chatlog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/parleychat/parley"
)

// worker delivers one spool queue to its destination.
type worker struct {
	l            *Logger
	q            Queue
	dest         parley.LogDestination
	label        string
	wake         chan struct{}
	interval     time.Duration
	batchBytes   int
	batchRecords int

	// Owned by the run goroutine: the batch being delivered and the rooms
	// of it already stored, so a retry resends only the others.
	cur  Batch
	done map[string]bool
}

// append spools one record and wakes the worker when a batch is full.
func (w *worker) append(ctx context.Context, roomARN string, line []byte) error {
	pending, err := w.q.Append(ctx, roomARN, line)
	if err != nil {
		w.l.m.dropped.WithLabelValues(w.label).Inc()
		return fmt.Errorf("chat log: spool record for %s: %w", w.label, err)
	}
	w.l.m.spooled.WithLabelValues(w.label).Inc()
	if pending >= int64(w.batchBytes) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// run delivers every interval (or when woken), pausing with backoff after
// a failure, until the Logger closes.
func (w *worker) run() {
	defer w.l.wg.Done()
	t := time.NewTimer(w.interval)
	defer t.Stop()
	failures := 0
	for {
		wake := w.wake
		if failures > 0 {
			wake = nil // a full batch must not cut a backoff short
		}
		select {
		case <-w.l.closing:
			if w.l.disk != nil {
				// A shared spool is not drained: its records wait for the
				// other nodes (or the next start), and a busy cluster
				// would never let the drain end.
				w.drain(w.l.closeCtx)
			}
			w.release(0)
			return
		case <-w.l.ctx.Done():
			w.release(0)
			return
		case <-t.C:
		case <-wake:
		}
		if err := w.deliverPending(w.l.ctx); err != nil {
			failures++
			w.l.cfg.Logger.Warn("chat log delivery failed; will retry", "destination", w.label, "attempt", failures, "err", err)
			pause := w.backoff(failures)
			w.release(pause)
			t.Reset(pause)
			continue
		}
		failures = 0
		t.Reset(w.interval)
	}
}

// backoff returns the pause after the n-th consecutive failure: RetryMin
// doubled n-1 times, capped at RetryMax, with jitter in [½, 1].
func (w *worker) backoff(n int) time.Duration {
	d := w.l.cfg.RetryMin
	for i := 1; i < n && d < w.l.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.l.cfg.RetryMax)
	return d/2 + rand.N(d/2+1)
}

// release tells the batch being delivered, if any, that its delivery
// failed: a batch handed back (JetStream) is read again, here or on another
// node, no sooner than delay; one kept (the disk spool) is retried as is.
func (w *worker) release(delay time.Duration) {
	if w.cur == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.l.cfg.DeliveryTimeout)
	defer cancel()
	keep, err := w.cur.Retry(ctx, w.done, delay)
	if err != nil {
		w.l.cfg.Logger.Warn("chat log: handing back a failed batch failed; its records come back after the ack wait", "destination", w.label, "err", err)
	}
	if !keep {
		w.cur, w.done = nil, nil
	}
}

// drain delivers everything pending before ctx ends, retrying with
// backoff.
func (w *worker) drain(ctx context.Context) {
	for n := 1; ; n++ {
		err := w.deliverPending(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		pause := w.backoff(n)
		w.release(pause)
		select {
		case <-ctx.Done():
			return
		case <-w.l.ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// deliverPending delivers batches until the queue is empty or one fails.
func (w *worker) deliverPending(ctx context.Context) error {
	for {
		if w.cur == nil {
			b, err := w.q.Read(ctx, w.batchRecords, w.batchBytes)
			if err != nil || b == nil {
				return err
			}
			w.cur, w.done = b, map[string]bool{}
		}
		if err := w.deliverBatch(ctx, w.cur); err != nil {
			w.l.m.failures.WithLabelValues(w.label).Inc()
			return err
		}
		if err := w.cur.Ack(ctx); err != nil {
			return err
		}
		w.l.m.delivered.WithLabelValues(w.label).Add(float64(len(w.cur.Entries())))
		w.cur, w.done = nil, nil
	}
}

// deliverBatch delivers the records of each room of b, in order, skipping
// the rooms already delivered by an earlier attempt.
func (w *worker) deliverBatch(ctx context.Context, b Batch) error {
	var rooms []string
	byRoom := map[string][][]byte{}
	for _, e := range b.Entries() {
		if byRoom[e.Room] == nil {
			rooms = append(rooms, e.Room)
		}
		byRoom[e.Room] = append(byRoom[e.Room], e.Record)
	}
	for _, room := range rooms {
		if w.done[room] {
			continue
		}
		arn, err := parley.ParseARN(room)
		if err != nil {
			w.l.cfg.Logger.Error("chat log records with a bad room ARN dropped", "destination", w.label, "room", room)
			w.l.m.dropped.WithLabelValues(w.label).Add(float64(len(byRoom[room])))
			w.done[room] = true
			continue
		}
		actx, cancel := context.WithTimeout(ctx, w.l.cfg.DeliveryTimeout)
		err = w.dest.Deliver(actx, arn, byRoom[room])
		cancel()
		if err != nil {
			return err
		}
		w.done[room] = true
	}
	return nil
}
