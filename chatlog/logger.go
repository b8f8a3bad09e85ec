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
// In a cluster the spool is shared instead (Config.Spool,
// chatlog/jetstream): a JetStream stream that every node appends to and
// every node's workers deliver from, so a record outlives the node that
// took it. The Spool, Queue and Batch interfaces are what both spools
// provide; a Logger on a shared spool also adopts, every
// QueueScanInterval, the queues other nodes created.
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
	// Spool holds the records until their destination confirms them. Nil
	// means the on-disk spool (chatlog/spool) in SpoolDir; in a cluster,
	// chatlog/jetstream's, shared by every node. The Logger closes it.
	Spool Spool
	// SpoolDir holds the on-disk spool (for example
	// <data-dir>/chatlog-spool).
	SpoolDir string
	// MaxSpoolBytes bounds the on-disk spool. Zero means 1 GiB. At the bound the
	// oldest undelivered records of the destination with the largest
	// backlog are deleted (counted in parley_chatlog_records_dropped_total
	// and logged), so one destination that stays down cannot stop logging
	// to the others.
	MaxSpoolBytes int64
	// SyncInterval is how often records appended to the on-disk spool are
	// fsynced (group
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
	// QueueScanInterval is how often a Logger on a shared Spool looks for
	// the queues other nodes created, to deliver them too. Zero means 10 s.
	QueueScanInterval time.Duration
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
	spool Spool
	disk  *spool.Spool // the on-disk spool, nil when Config.Spool is set
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
	// badQueues are queues whose destination cannot be decoded.
	badQueues map[string]bool
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

// Open opens the spool (Config.Spool, or the on-disk one), starts
// delivering what it holds from before, and returns a Logger ready to
// Record. The Logger owns the Spool from then on, even when Open fails.
func Open(ctx context.Context, cfg Config) (*Logger, error) {
	cfg = withDefaults(cfg)
	l := &Logger{
		cfg: cfg, closing: make(chan struct{}),
		workers: map[string]*worker{}, configs: map[string]cachedConfig{},
		labels: map[string]string{}, lastLog: map[string]time.Time{}, badQueues: map[string]bool{},
	}
	if cfg.Spool == nil {
		sp, err := spool.Open(cfg.SpoolDir, spool.Options{MaxBytes: cfg.MaxSpoolBytes, OnDrop: l.onDrop})
		if err != nil {
			return nil, fmt.Errorf("open chat log spool: %w", err)
		}
		l.disk, l.spool = sp, diskSpool{sp}
	} else {
		l.spool = cfg.Spool
	}
	l.m = newMetrics(cfg.Registerer, l.disk)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if err := l.adoptQueues(ctx); err != nil {
		l.Close(ctx)
		return nil, err
	}
	if l.disk != nil {
		l.wg.Add(1)
		go l.syncLoop()
	} else {
		l.wg.Add(1)
		go l.scanLoop()
	}
	return l, nil
}

// adoptQueues starts a worker for every queue of the spool that has none:
// at Open, the records left from before; in a cluster, also the queues
// that other nodes created since.
func (l *Logger) adoptQueues(ctx context.Context) error {
	qs, err := l.spool.Queues(ctx)
	if err != nil {
		return fmt.Errorf("chat log: list spool queues: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, q := range qs {
		if l.workers[q.Name()] != nil || l.badQueues[q.Name()] || l.closed {
			continue
		}
		c, err := decodeMeta(q.Meta())
		if err != nil {
			l.badQueues[q.Name()] = true
			l.cfg.Logger.Error("chat log spool queue has no destination; its records stay in the spool", "queue", q.Name(), "err", err)
			continue
		}
		if _, err := l.startWorkerLocked(q, c); err != nil {
			return err
		}
	}
	return nil
}

// scanLoop adopts the queues that other nodes create, every
// QueueScanInterval, so that a destination whose rooms were served by a
// node that is gone is still delivered.
func (l *Logger) scanLoop() {
	defer l.wg.Done()
	t := time.NewTicker(l.cfg.QueueScanInterval)
	defer t.Stop()
	for {
		select {
		case <-l.closing:
			return
		case <-l.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(l.ctx, l.cfg.DeliveryTimeout)
			if err := l.adoptQueues(ctx); err != nil {
				l.cfg.Logger.Warn("chat log: looking for other nodes' queues failed", "err", err)
			}
			cancel()
		}
	}
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
	def(&c.QueueScanInterval, 10*time.Second)
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
		w, err := l.worker(ctx, c.Destination)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if line == nil {
			line = rec.AppendJSON(nil)
		}
		errs = append(errs, w.append(ctx, rec.Room.ARN, line))
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
// starting it when needed. The queue is created without the lock held (in
// a cluster it is a network call); creating it twice is harmless.
func (l *Logger) worker(ctx context.Context, c parley.DestinationConfiguration) (*worker, error) {
	kind, name, err := kindOf(c)
	if err != nil {
		return nil, err
	}
	qn := queueName(kind, name)
	l.mu.Lock()
	w, closed := l.workers[qn], l.closed
	l.mu.Unlock()
	if w != nil {
		return w, nil
	}
	if closed {
		return nil, spool.ErrClosed
	}
	meta, err := encodeMeta(c)
	if err != nil {
		return nil, fmt.Errorf("chat log: encode destination: %w", err)
	}
	q, err := l.spool.Queue(ctx, qn, meta)
	if err != nil {
		return nil, fmt.Errorf("chat log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.workers[qn]; w != nil {
		return w, nil
	}
	if l.closed {
		return nil, spool.ErrClosed
	}
	return l.startWorkerLocked(q, c)
}

func (l *Logger) startWorkerLocked(q Queue, c parley.DestinationConfiguration) (*worker, error) {
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
			if err := l.disk.Sync(); err != nil {
				l.cfg.Logger.Error("chat log spool sync failed", "err", err)
			}
		}
	}
}

// Close delivers what can be delivered before ctx ends, then stops every
// goroutine and closes the spool (the on-disk one is synced). Records not
// delivered stay in the spool for the next Open. A Logger on a shared
// Spool (Config.Spool) delivers nothing more at Close: it hands back the
// batch it holds at once, and the records wait in the stream for the
// other nodes or the next start.
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
	if err := l.spool.Close(ctx); err != nil {
		return fmt.Errorf("close chat log spool: %w", err)
	}
	return nil
}
