// Package spool is an on-disk, append-only queue of chat log records, one
// queue per destination, so that records survive a destination outage, a
// restart and a process crash.
//
// A queue is a directory of segment files (<seq>.seg, 16 hex digits) and a
// cursor file naming the first record not yet confirmed by the
// destination. Append writes the record to the active segment with one
// write(2): when it returns the record is in the operating system's page
// cache, so a crash of the process loses nothing; Sync (called every few
// milliseconds by the owner: group commit) makes it survive a machine
// crash. Ack advances the cursor, persists it and deletes the segments it
// has passed; a fully confirmed active segment is replaced by an empty one.
//
// Each entry is [uint32 length][uint32 CRC-32C][payload], payload =
// [uint16 len(room)][room][record]. On Open a torn or corrupt tail (a crash
// in the middle of a write) is cut off.
//
// The total size of all segments is bounded by MaxBytes. When an Append
// would exceed it, the oldest segment of the queue with the largest
// backlog is deleted, its unconfirmed records are reported to OnDrop, and
// the Append goes ahead: a destination that stays down loses its oldest
// records first and cannot block logging to the others.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
)

// Errors returned by Spool and Queue.
var (
	ErrClosed = errors.New("spool closed")
	// ErrTooLarge: the record alone is larger than the spool bound.
	ErrTooLarge = errors.New("record larger than the spool bound")
)

const (
	headerSize = 8
	maxEntry   = 64 << 20
	lockFile   = "LOCK"
	metaFile   = "meta"
	cursorFile = "cursor"
)

var (
	crcTable  = crc32.MakeTable(crc32.Castagnoli)
	validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// Options configure a Spool.
type Options struct {
	// MaxBytes bounds the total size of all segments. Zero means 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size at which a segment is sealed and a new one
	// started. Zero means 4 MiB.
	SegmentBytes int64
	// OnDrop is told how many unconfirmed records of a queue were deleted
	// to respect MaxBytes. It is called with the spool locked: it must not
	// call the spool.
	OnDrop func(queue string, records int)
}

// Spool is a set of queues under one directory, which it locks against
// other processes.
type Spool struct {
	dir  string
	opt  Options
	lock *os.File

	mu     sync.Mutex
	queues map[string]*Queue
	bytes  int64
	closed bool
}

// pos is a position in a queue: segment, byte offset and the number of
// entries before it in that segment.
type pos struct {
	seq  uint64
	off  int64
	recs int
}

func (p pos) after(q pos) bool {
	return p.seq > q.seq || p.seq == q.seq && p.off > q.off
}

type segment struct {
	seq  uint64
	size int64
	recs int
}

// Open opens or creates the spool in dir and recovers its queues.
func Open(dir string, opt Options) (*Spool, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 1 << 30
	}
	if opt.SegmentBytes <= 0 {
		opt.SegmentBytes = 4 << 20
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open spool lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock spool %s (in use by another process?): %w", dir, err)
	}
	s := &Spool{dir: dir, opt: opt, lock: lock, queues: map[string]*Queue{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("read spool dir: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() || !validName.MatchString(e.Name()) {
			continue
		}
		q, err := openQueue(s, e.Name())
		if err != nil {
			s.Close()
			return nil, err
		}
		s.queues[q.name] = q
		for _, seg := range q.segs {
			s.bytes += seg.size
		}
	}
	return s, nil
}

// Queues returns the queues found on disk or created since Open.
func (s *Spool) Queues() []*Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	qs := make([]*Queue, 0, len(s.queues))
	for _, q := range s.queues {
		qs = append(qs, q)
	}
	return qs
}

// Queue returns the queue name, creating it with meta (opaque data kept
// beside it, such as where it delivers) when it does not exist. name must
// be a plain file name: letters, digits, '.', '_' and '-'.
func (s *Spool) Queue(name string, meta []byte) (*Queue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if q := s.queues[name]; q != nil {
		return q, nil
	}
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("invalid queue name %q", name)
	}
	dir := filepath.Join(s.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create queue: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, metaFile), meta); err != nil {
		return nil, fmt.Errorf("write queue meta: %w", err)
	}
	q, err := openQueue(s, name)
	if err != nil {
		return nil, err
	}
	s.queues[name] = q
	return q, nil
}

// Bytes returns the total size of the segments.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Sync flushes every queue's appended records to stable storage. It does
// not hold the lock while syncing, so Append is never delayed by it.
func (s *Spool) Sync() error {
	s.mu.Lock()
	var files []*os.File
	for _, q := range s.queues {
		if q.dirty {
			files = append(files, q.active)
			q.dirty = false
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, f := range files {
		// A concurrent rotation closes f after syncing it itself.
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("sync spool: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Close syncs and closes every queue and releases the directory lock.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, q := range s.queues {
		if err := q.active.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync spool: %w", err))
		}
		q.active.Close()
	}
	s.lock.Close() // releases the flock
	return errors.Join(errs...)
}

// Abandon closes every file without syncing and releases the lock, leaving
// the directory as a killed process would. It is meant for crash tests.
func (s *Spool) Abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, q := range s.queues {
		q.active.Close()
	}
	s.lock.Close()
}

// makeRoomLocked deletes the oldest segments of the largest backlogs until
// need more bytes fit under MaxBytes, or nothing is left to delete.
func (s *Spool) makeRoomLocked(need int64) {
	for s.bytes+need > s.opt.MaxBytes {
		var victim *Queue
		var most int64
		for _, q := range s.queues {
			if p := q.pendingLocked(); p > most {
				victim, most = q, p
			}
		}
		if victim == nil {
			return
		}
		n, err := victim.dropHeadLocked()
		if s.opt.OnDrop != nil && n > 0 {
			s.opt.OnDrop(victim.name, n)
		}
		if err != nil {
			return
		}
	}
}

func writeFileSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func segName(seq uint64) string { return fmt.Sprintf("%016x.seg", seq) }

func encodeEntry(room string, rec []byte) []byte {
	n := 2 + len(room) + len(rec)
	b := make([]byte, headerSize+n)
	binary.LittleEndian.PutUint32(b[0:], uint32(n))
	binary.LittleEndian.PutUint16(b[headerSize:], uint16(len(room)))
	copy(b[headerSize+2:], room)
	copy(b[headerSize+2+len(room):], rec)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[headerSize:], crcTable))
	return b
}

// decodePayload splits a checked payload into room and record.
func decodePayload(p []byte) (room string, rec []byte, ok bool) {
	if len(p) < 2 {
		return "", nil, false
	}
	n := int(binary.LittleEndian.Uint16(p))
	if len(p) < 2+n {
		return "", nil, false
	}
	return string(p[2 : 2+n]), p[2+n:], true
}
