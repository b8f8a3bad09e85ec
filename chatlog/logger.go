// Package chatlog logs every MESSAGE and EVENT of a room to the room's
// logging configurations (S3, CloudWatch Logs, Firehose, or local files)
// without ever losing a record that Record accepted, short of the spool
// bound or a machine crash in the last SyncInterval.
//
// chatlog knows no kind of destination. Each destination package registers
// its kind (Register: the member of parley.DestinationConfiguration it
// delivers, and the name of queues and metric labels) and offers an Opener
// of parley.LogDestination; Config.Destinations says which Opener serves
// each kind (cmd/parley: the service's SDK client when it has an endpoint,
// else chatlog/local). The destination declares its batching
// (parley.LogBatching).
//
// Record appends the record to an on-disk spool (chatlog/spool), one queue
// per destination, and returns; it never waits on a destination. One
// worker per queue delivers in batches every FlushInterval (S3: every
// ObjectInterval, or sooner when ObjectBytes are pending), retries failures
// with capped exponential backoff and jitter, and removes records from the
// spool only once the destination confirmed them.
//
// Delivery is at least once. A record is delivered twice only when a
// delivery succeeded but its confirmation was not recorded: the process
// stopped (crash, or Close's context ending) between the destination's
// answer and the spool's cursor update, or the answer itself was lost
// (a timeout after the destination stored the batch). S3 and local S3
// objects are named after a hash of their content, so the same batch
// retried overwrites its first copy; a batch re-read after a restart may
// be cut differently and then duplicate records across objects.
package chatlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog/spool"
	"github.com/prometheus/client_golang/prometheus"
)

var _ parley.ChatLog = (*Logger)(nil)

// Config configures a Logger. Zero values are documented defaults.
type Config struct {
	// Store finds logging configurations (the rooms come with the records).
	Store ConfigStore
	// SpoolDir holds the spool (for example <data-dir>/chatlog-spool).
	SpoolDir string
	// MaxSpoolBytes bounds the spool. Zero means 1 GiB. At the bound the
	// oldest undelivered records of the destination with the largest
	// backlog are deleted (counted in parley_chatlog_records_dropped_total
	// and logged), so one destination that stays down cannot stop logging
	// to the others.
	MaxSpoolBytes int64
	// SyncInterval is how often appended records are fsynced (group
	// commit). Zero means 10 ms. A machine crash (not a process crash) can
	// lose the records of the last interval.
	SyncInterval time.Duration
	// FlushInterval is how often CloudWatch Logs, Firehose and their local
	// files receive the pending records. Zero means 1 s.
	FlushInterval time.Duration
	// ObjectInterval is how often an S3 object is cut per room. Zero means
	// 60 s.
	ObjectInterval time.Duration
	// ObjectBytes cuts S3 objects sooner once that many bytes of records
	// are pending for a bucket. Zero means 8 MiB.
	ObjectBytes int
	// ConfigTTL is how long a logging configuration's destination is
	// cached: an UpdateLoggingConfiguration applies to records after at
	// most this long. Zero means 5 s. Rooms are not read here: each record
	// carries its room, so a change to a room's attached configurations
	// applies from the first record that carries the updated room.
	ConfigTTL time.Duration
	// RetryMin and RetryMax bound the pause after a failed delivery, which
	// doubles from RetryMin up to RetryMax, with jitter. Zero means 1 s
	// and 1 min.
	RetryMin, RetryMax time.Duration
	// DeliveryTimeout bounds one delivery attempt. Zero means 30 s.
	DeliveryTimeout time.Duration
	// Destinations opens the destinations of each kind, by Kind.Name:
	// s3.Opener(client) delivers to S3, local.Opener(dir) writes files in
	// the layout of chatlog/local. A destination configuration of a kind
	// with no Opener is refused: CheckDestination returns
	// ValidationException and Record an error.
	Destinations map[string]Opener

	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Logger implements parley.ChatLog and controlplane.DestinationChecker.
type Logger struct {
	cfg   Config
	spool *spool.Spool
	m     *metrics

	ctx      context.Context // ends when Close gives up
	cancel   context.CancelFunc
	closing  chan struct{}   // closed by Close
	closeCtx context.Context // Close's context, set before closing
	wg       sync.WaitGroup
	once     sync.Once

	mu      sync.Mutex
	closed  bool
	workers map[string]*worker      // by queue name
	configs map[string]cachedConfig // by configuration ID
	labels  map[string]string       // queue name → metric label
	lastLog map[string]time.Time    // queue name → last drop warning
}

// ConfigStore is the part of parley.Store that chat logging reads.
type ConfigStore interface {
	// FindLoggingConfiguration returns one configuration or
	// ResourceNotFoundException.
	FindLoggingConfiguration(ctx context.Context, id string) (*parley.LoggingConfiguration, error)
}

type cachedConfig struct {
	conf *parley.LoggingConfiguration // nil when not found
	at   time.Time
}

// Open opens the spool, starts delivering what it holds from before, and
// returns a Logger ready to Record.
func Open(ctx context.Context, cfg Config) (*Logger, error) {
	cfg = withDefaults(cfg)
	l := &Logger{
		cfg: cfg, closing: make(chan struct{}),
		workers: map[string]*worker{}, configs: map[string]cachedConfig{},
		labels: map[string]string{}, lastLog: map[string]time.Time{},
	}
	sp, err := spool.Open(cfg.SpoolDir, spool.Options{MaxBytes: cfg.MaxSpoolBytes, OnDrop: l.onDrop})
	if err != nil {
		return nil, fmt.Errorf("open chat log spool: %w", err)
	}
	l.spool = sp
	l.m = newMetrics(cfg.Registerer, sp)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	for _, q := range sp.Queues() {
		c, err := decodeMeta(q.Meta())
		if err != nil {
			cfg.Logger.Error("chat log spool queue has no destination; its records stay on disk", "queue", q.Name(), "err", err)
			continue
		}
		l.mu.Lock()
		_, err = l.startWorkerLocked(q, c)
		l.mu.Unlock()
		if err != nil {
			l.Close(ctx)
			return nil, err
		}
	}
	l.wg.Add(1)
	go l.syncLoop()
	return l, nil
}

func withDefaults(c Config) Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.SyncInterval, 10*time.Millisecond)
	def(&c.FlushInterval, time.Second)
	def(&c.ObjectInterval, time.Minute)
	def(&c.ConfigTTL, 5*time.Second)
	def(&c.RetryMin, time.Second)
	def(&c.RetryMax, time.Minute)
	def(&c.DeliveryTimeout, 30*time.Second)
	if c.ObjectBytes <= 0 {
		c.ObjectBytes = 8 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Record appends rec to the spool of every ACTIVE logging configuration
// attached to rec.Room. It returns once the record is written to the
// spool (the page cache; fsynced within SyncInterval) and never waits on a
// destination. A record without a room, or whose room has no
// configuration, logs nothing and costs nothing: Record is called for
// every message.
func (l *Logger) Record(ctx context.Context, rec *parley.LogRecord) error {
	if rec.Room == nil {
		return nil
	}
	var line []byte
	var errs []error
	for _, ident := range rec.Room.LoggingConfigurationIdentifiers {
		c, err := l.config(ctx, ident)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c == nil || c.State != parley.StateActive {
			continue
		}
		w, err := l.worker(c.Destination)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if line == nil {
			line = rec.AppendJSON(nil)
		}
		errs = append(errs, w.append(rec.Room.ARN, line))
	}
	return errors.Join(errs...)
}

// config returns the logging configuration named by ident (ARN or bare
// ID), cached for ConfigTTL; nil when it does not exist.
func (l *Logger) config(ctx context.Context, ident string) (*parley.LoggingConfiguration, error) {
	id := ident
	if a, err := parley.ParseARN(ident); err == nil {
		id = a.ID
	}
	now := l.cfg.Now()
	l.mu.Lock()
	cc, ok := l.configs[id]
	l.mu.Unlock()
	if ok && now.Sub(cc.at) < l.cfg.ConfigTTL {
		return cc.conf, nil
	}
	c, err := l.cfg.Store.FindLoggingConfiguration(ctx, id)
	if parley.ErrorCodeOf(err) == parley.ResourceNotFoundException {
		c, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chat log: find logging configuration: %w", err)
	}
	l.mu.Lock()
	l.configs[id] = cachedConfig{conf: c, at: now}
	l.mu.Unlock()
	return c, nil
}

// worker returns the worker of destination c, creating its queue and
// starting it when needed.
func (l *Logger) worker(c parley.DestinationConfiguration) (*worker, error) {
	kind, name, err := kindOf(c)
	if err != nil {
		return nil, err
	}
	qn := queueName(kind, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.workers[qn]; w != nil {
		return w, nil
	}
	if l.closed {
		return nil, spool.ErrClosed
	}
	meta, err := encodeMeta(c)
	if err != nil {
		return nil, fmt.Errorf("chat log: encode destination: %w", err)
	}
	q, err := l.spool.Queue(qn, meta)
	if err != nil {
		return nil, fmt.Errorf("chat log: %w", err)
	}
	return l.startWorkerLocked(q, c)
}

func (l *Logger) startWorkerLocked(q *spool.Queue, c parley.DestinationConfiguration) (*worker, error) {
	kind, name, _ := kindOf(c)
	dest, err := l.newDestination(c)
	if err != nil {
		return nil, err
	}
	w := &worker{l: l, q: q, dest: dest, label: kind + ":" + name, wake: make(chan struct{}, 1),
		interval: l.cfg.FlushInterval, batchBytes: 1 << 20, batchRecords: 10000}
	if dest.Batching() == parley.LogBatchObject {
		w.interval, w.batchBytes, w.batchRecords = l.cfg.ObjectInterval, l.cfg.ObjectBytes, 1<<30
	}
	l.workers[q.Name()] = w
	l.labels[q.Name()] = w.label
	l.wg.Add(1)
	go w.run()
	return w, nil
}

// onDrop is told by the spool that records of a queue were deleted at the
// size bound. It runs with the spool locked.
func (l *Logger) onDrop(queue string, n int) {
	l.mu.Lock()
	label := l.labels[queue]
	warn := l.cfg.Now().Sub(l.lastLog[queue]) > time.Minute
	if warn {
		l.lastLog[queue] = l.cfg.Now()
	}
	l.mu.Unlock()
	if label == "" {
		label = queue
	}
	l.m.dropped.WithLabelValues(label).Add(float64(n))
	if warn {
		l.cfg.Logger.Warn("chat log spool full: dropped the oldest undelivered records",
			"destination", label, "records", n, "max_spool_bytes", l.cfg.MaxSpoolBytes)
	}
}

// syncLoop fsyncs the spool every SyncInterval (group commit).
func (l *Logger) syncLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.closing:
			return
		case <-l.ctx.Done():
			return
		case <-t.C:
			if err := l.spool.Sync(); err != nil {
				l.cfg.Logger.Error("chat log spool sync failed", "err", err)
			}
		}
	}
}

// Close delivers what can be delivered before ctx ends, then stops every
// goroutine and syncs and closes the spool. Records not delivered stay in
// the spool for the next Open.
func (l *Logger) Close(ctx context.Context) error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.closeCtx = ctx
		close(l.closing)
	})
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		l.cancel()
		<-done
	}
	l.cancel()
	if err := l.spool.Close(); err != nil {
		return fmt.Errorf("close chat log spool: %w", err)
	}
	return nil
}
