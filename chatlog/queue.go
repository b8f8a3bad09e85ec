package chatlog

import (
	"context"
	"time"

	"github.com/parleychat/parley/chatlog/spool"
)

// Spool holds the records that their destinations have not confirmed, one
// Queue per destination. Two implement it: the on-disk spool of one node
// (chatlog/spool, the default) and, in a cluster, a JetStream stream that
// every node appends to and delivers from (chatlog/jetstream), so that no
// record is lost with a node.
type Spool interface {
	// Queue returns the queue name, creating it with meta (where it
	// delivers) when it does not exist.
	Queue(ctx context.Context, name string, meta []byte) (Queue, error)
	// Queues returns the queues that exist: those of this node's spool, or
	// those any node of the cluster created.
	Queues(ctx context.Context) ([]Queue, error)
	// Close releases the spool. Records not confirmed stay in it.
	Close(ctx context.Context) error
}

// Queue is the records of one destination, oldest first. Append may be
// called concurrently; Read by one worker of this node at a time.
type Queue interface {
	Name() string
	// Meta returns the data given when the queue was created.
	Meta() []byte
	// Append stores one record of room. When it returns nil, the record
	// survives a crash of the process (and, for JetStream, the loss of the
	// node). It returns the bytes appended and not yet taken, as far as
	// this node knows, so the worker can be woken when a batch is full.
	Append(ctx context.Context, room string, rec []byte) (pending int64, err error)
	// Read takes records not confirmed and not held by another reader: at
	// most maxRecords of them and maxBytes of records, but always one when
	// any is pending. It returns nil when none is.
	Read(ctx context.Context, maxRecords, maxBytes int) (Batch, error)
}

// Entry is one queued record.
type Entry struct {
	Room   string // the room's ARN
	Record []byte
}

// Batch is records read from a Queue for one delivery.
type Batch interface {
	// Entries returns the records, oldest first.
	Entries() []Entry
	// Ack confirms every entry: they are never delivered again.
	Ack(ctx context.Context) error
	// Retry is told that delivery failed, and that the entries of the
	// rooms in done were stored. It returns true when the caller is to keep
	// the batch and retry it after delay, skipping those rooms (the disk
	// spool, whose confirmations are a position), or false when the batch
	// was handed back: the entries of done rooms confirmed, the others to
	// be read again, on any node, no sooner than delay (JetStream).
	Retry(ctx context.Context, done map[string]bool, delay time.Duration) (keep bool, err error)
}

// diskSpool is the on-disk spool of chatlog/spool as a Spool.
type diskSpool struct{ s *spool.Spool }

func (d diskSpool) Queue(_ context.Context, name string, meta []byte) (Queue, error) {
	q, err := d.s.Queue(name, meta)
	if err != nil {
		return nil, err
	}
	return diskQueue{q}, nil
}

func (d diskSpool) Queues(context.Context) ([]Queue, error) {
	var out []Queue
	for _, q := range d.s.Queues() {
		out = append(out, diskQueue{q})
	}
	return out, nil
}

func (d diskSpool) Close(context.Context) error { return d.s.Close() }

type diskQueue struct{ q *spool.Queue }

func (d diskQueue) Name() string { return d.q.Name() }
func (d diskQueue) Meta() []byte { return d.q.Meta() }

func (d diskQueue) Append(_ context.Context, room string, rec []byte) (int64, error) {
	return d.q.Append(room, rec)
}

func (d diskQueue) Read(_ context.Context, maxRecords, maxBytes int) (Batch, error) {
	b, err := d.q.Read(maxRecords, maxBytes)
	if err != nil || b == nil {
		return nil, err
	}
	entries := make([]Entry, len(b.Entries))
	for i, e := range b.Entries {
		entries[i] = Entry{Room: e.Room, Record: e.Record}
	}
	return &diskBatch{q: d.q, b: b, entries: entries}, nil
}

type diskBatch struct {
	q       *spool.Queue
	b       *spool.Batch
	entries []Entry
}

func (b *diskBatch) Entries() []Entry          { return b.entries }
func (b *diskBatch) Ack(context.Context) error { return b.q.Ack(b.b) }
func (b *diskBatch) Retry(context.Context, map[string]bool, time.Duration) (bool, error) {
	return true, nil
}
