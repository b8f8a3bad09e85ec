// Package jetstream is a chatlog.Spool shared by every node of a cluster: a
// NATS JetStream stream (file storage) that holds each chat log record
// until its destination confirmed it, so that no record is lost when a node
// is lost for good.
//
// Each queue (one per destination) is a subject <Subject>.<queue> of one
// work-queue stream and a durable pull consumer of that subject, shared by
// the delivery workers of every node: JetStream gives each record to one
// of them at a time. Append publishes the record and returns once
// JetStream acknowledged it (stored on file, on Replicas servers), so a
// record that Record accepted survives the node. A worker takes records
// with Read, delivers them, and acks them once the destination confirmed
// them (an S3 batch when its object is written); on failure it naks them
// with its backoff as delay, so any node may take them next. While a node
// delivers a batch it tells JetStream it is still working on it; records
// taken by a node that died go to another after AckWait. Acked records
// leave the stream.
//
// Delivery is at least once: a record is delivered again when its ack was
// lost (the node died between the destination's answer and the ack), and
// records redelivered after a failure may reach the destination in another
// order than they were appended. Duplicate publishes within JetStream's
// duplicate window are dropped by message ID.
//
// The queue's destination is kept in the consumer's metadata, so a node
// that never saw a destination finds it (Spool.Queues) and delivers it.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/chatlog"
)

var _ chatlog.Spool = (*Spool)(nil)

// Header and metadata keys.
const (
	roomHeader   = "Parley-Room"
	metaQueue    = "parley-queue"
	metaDest     = "parley-destination"
	fetchChunk   = 1000
	defaultWait  = 30 * time.Second
	flushTimeout = 10 * time.Second
)

// Options configure a Spool. Zero values are documented defaults.
type Options struct {
	// Stream names the stream. Zero means "PARLEY_CHATLOG".
	Stream string
	// Subject prefixes the queues' subjects. Zero means "parley.chatlog".
	Subject string
	// Replicas is the number of JetStream servers that store each record.
	// Zero means 1.
	Replicas int
	// MaxBytes bounds the stream; at the bound the oldest records are
	// discarded. Zero means 1 GiB.
	MaxBytes int64
	// AckWait is how long records taken by a node stay its own without
	// word from it; a node that is alive renews them every AckWait/3 while
	// it delivers. Zero means 30 s.
	AckWait time.Duration
}

// Spool is the JetStream stream of chat log records.
type Spool struct {
	nc     *nats.Conn
	ownsNC bool
	js     njs.JetStream
	stream njs.Stream
	opt    Options

	mu     sync.Mutex
	queues map[string]*Queue // by queue name
}

// Dial connects to the NATS server at url and opens the Spool on that
// connection, which Close closes.
func Dial(ctx context.Context, url string, opt Options) (*Spool, error) {
	nc, err := nats.Connect(url, nats.Name("parley chatlog"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	s, err := Open(ctx, nc, opt)
	if err != nil {
		nc.Close()
		return nil, err
	}
	s.ownsNC = true
	return s, nil
}

// Open creates the stream, or updates it to opt, on nc, which stays the
// caller's.
func Open(ctx context.Context, nc *nats.Conn, opt Options) (*Spool, error) {
	if opt.Stream == "" {
		opt.Stream = "PARLEY_CHATLOG"
	}
	if opt.Subject == "" {
		opt.Subject = "parley.chatlog"
	}
	if opt.Replicas <= 0 {
		opt.Replicas = 1
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 1 << 30
	}
	if opt.AckWait <= 0 {
		opt.AckWait = defaultWait
	}
	js, err := njs.New(nc)
	if err != nil {
		return nil, fmt.Errorf("chat log JetStream: %w", err)
	}
	st, err := js.CreateOrUpdateStream(ctx, njs.StreamConfig{
		Name:        opt.Stream,
		Description: "Parley chat log records not yet confirmed by their destination",
		Subjects:    []string{opt.Subject + ".>"},
		Storage:     njs.FileStorage,
		Retention:   njs.WorkQueuePolicy,
		Discard:     njs.DiscardOld,
		MaxBytes:    opt.MaxBytes,
		Replicas:    opt.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create chat log stream %s: %w", opt.Stream, err)
	}
	return &Spool{nc: nc, js: js, stream: st, opt: opt, queues: map[string]*Queue{}}, nil
}

// token turns a queue name (letters, digits, '.', '_', '-') into a
// consumer name and subject token, which may not hold '.'.
func token(name string) string { return strings.ReplaceAll(name, ".", "_") }

// Queue returns the queue name, creating its consumer when needed.
func (s *Spool) Queue(ctx context.Context, name string, meta []byte) (chatlog.Queue, error) {
	s.mu.Lock()
	q := s.queues[name]
	s.mu.Unlock()
	if q != nil {
		return q, nil
	}
	subject := s.opt.Subject + "." + token(name)
	c, err := s.js.CreateOrUpdateConsumer(ctx, s.opt.Stream, njs.ConsumerConfig{
		Durable:       token(name),
		FilterSubject: subject,
		AckPolicy:     njs.AckExplicitPolicy,
		AckWait:       s.opt.AckWait,
		MaxDeliver:    -1, // a record is never dropped for failing
		MaxAckPending: -1,
		Metadata:      map[string]string{metaQueue: name, metaDest: string(meta)},
	})
	if err != nil {
		return nil, fmt.Errorf("create chat log consumer %s: %w", name, err)
	}
	return s.add(name, subject, meta, c), nil
}

func (s *Spool) add(name, subject string, meta []byte, c njs.Consumer) *Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[name]; q != nil {
		return q
	}
	q := &Queue{s: s, name: name, subject: subject, meta: meta, c: c}
	s.queues[name] = q
	return q
}

// Queues returns every queue of the stream, whichever node created it.
func (s *Spool) Queues(ctx context.Context) ([]chatlog.Queue, error) {
	l := s.stream.ListConsumers(ctx)
	var out []chatlog.Queue
	for info := range l.Info() {
		name := info.Config.Metadata[metaQueue]
		if name == "" {
			continue // not a chat log queue
		}
		s.mu.Lock()
		q := s.queues[name]
		s.mu.Unlock()
		if q == nil {
			c, err := s.stream.Consumer(ctx, info.Name)
			if err != nil {
				return nil, fmt.Errorf("chat log consumer %s: %w", info.Name, err)
			}
			q = s.add(name, info.Config.FilterSubject, []byte(info.Config.Metadata[metaDest]), c)
		}
		out = append(out, q)
	}
	if err := l.Err(); err != nil {
		return nil, fmt.Errorf("list chat log consumers: %w", err)
	}
	return out, nil
}

// Close closes the connection when Dial made it. Records stay in the
// stream; records this node holds go to another node after AckWait.
func (s *Spool) Close(ctx context.Context) error {
	if !s.ownsNC {
		return nil
	}
	err := flush(ctx, s.nc)
	s.nc.Close()
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("flush chat log acks: %w", err)
	}
	return nil
}

// Queue is the records of one destination: a subject and its consumer.
type Queue struct {
	s       *Spool
	name    string
	subject string
	meta    []byte
	c       njs.Consumer
	pending atomic.Int64 // bytes appended here since the last Read
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Meta returns the destination the queue was created for.
func (q *Queue) Meta() []byte { return q.meta }

// Append publishes one record and returns once JetStream stored it. The
// pending bytes it returns are those appended on this node since its
// last Read.
func (q *Queue) Append(ctx context.Context, room string, rec []byte) (int64, error) {
	m := nats.NewMsg(q.subject)
	m.Header.Set(roomHeader, room)
	m.Data = rec
	if _, err := q.s.js.PublishMsg(ctx, m, njs.WithMsgID(parley.NewID())); err != nil {
		return 0, fmt.Errorf("publish chat log record: %w", err)
	}
	return q.pending.Add(int64(len(rec))), nil
}

// Read takes available records, at most maxRecords and maxBytes of them
// (but one at least). Records fetched beyond maxBytes are given back at
// once.
func (q *Queue) Read(ctx context.Context, maxRecords, maxBytes int) (chatlog.Batch, error) {
	q.pending.Store(0)
	var msgs, over []njs.Msg
	size := 0
	for len(msgs) < maxRecords && len(over) == 0 {
		want := min(maxRecords-len(msgs), fetchChunk)
		mb, err := q.c.FetchNoWait(want)
		if err != nil {
			return q.giveBack(msgs, fmt.Errorf("fetch chat log records: %w", err))
		}
		got := 0
		for m := range mb.Messages() {
			got++
			if len(msgs) > 0 && size+len(m.Data()) > maxBytes {
				over = append(over, m)
				continue
			}
			msgs = append(msgs, m)
			size += len(m.Data())
		}
		if err := mb.Error(); err != nil && !errors.Is(err, njs.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
			return q.giveBack(append(msgs, over...), fmt.Errorf("fetch chat log records: %w", err))
		}
		if got < want {
			break
		}
	}
	for _, m := range over {
		m.Nak()
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return newBatch(q.s, msgs), nil
}

// giveBack naks msgs after a failed Read and returns err.
func (q *Queue) giveBack(msgs []njs.Msg, err error) (chatlog.Batch, error) {
	for _, m := range msgs {
		m.Nak()
	}
	return nil, err
}

// batch is records taken from a consumer. Until it is acked or handed
// back, a goroutine renews its hold every AckWait/3.
type batch struct {
	s       *Spool
	msgs    []njs.Msg
	entries []chatlog.Entry
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newBatch(s *Spool, msgs []njs.Msg) *batch {
	b := &batch{s: s, msgs: msgs, stop: make(chan struct{}), stopped: make(chan struct{})}
	for _, m := range msgs {
		b.entries = append(b.entries, chatlog.Entry{Room: m.Headers().Get(roomHeader), Record: m.Data()})
	}
	go b.keepAlive(s.opt.AckWait / 3)
	return b
}

func (b *batch) keepAlive(every time.Duration) {
	defer close(b.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			for _, m := range b.msgs {
				m.InProgress()
			}
		}
	}
}

// end stops the keep-alive before the batch is acked or handed back.
func (b *batch) end() {
	b.once.Do(func() { close(b.stop) })
	<-b.stopped
}

// Entries returns the records, in the order JetStream gave them.
func (b *batch) Entries() []chatlog.Entry { return b.entries }

// Ack acks every record and waits until the server has the acks.
func (b *batch) Ack(ctx context.Context) error {
	b.end()
	return b.settle(ctx, func(njs.Msg) bool { return true }, 0)
}

// Retry acks the records of the rooms in done and naks the others with
// delay: it always hands the batch back.
func (b *batch) Retry(ctx context.Context, done map[string]bool, delay time.Duration) (bool, error) {
	b.end()
	return false, b.settle(ctx, func(m njs.Msg) bool { return done[m.Headers().Get(roomHeader)] }, delay)
}

func (b *batch) settle(ctx context.Context, ack func(njs.Msg) bool, delay time.Duration) error {
	var errs []error
	for _, m := range b.msgs {
		var err error
		switch {
		case ack(m):
			err = m.Ack()
		case delay > 0:
			err = m.NakWithDelay(delay)
		default:
			err = m.Nak()
		}
		if err != nil && !errors.Is(err, njs.ErrMsgAlreadyAckd) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := flush(ctx, b.s.nc); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("settle chat log records: %w", err)
	}
	return nil
}

// flush waits until the server has what nc sent, within ctx's deadline or
// flushTimeout.
func flush(ctx context.Context, nc *nats.Conn) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}
