package spool

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Queue is the append-only log of one destination. Append may be called
// concurrently; Read and Ack by one consumer at a time.
type Queue struct {
	s    *Spool
	name string
	dir  string
	meta []byte

	// Guarded by s.mu.
	segs   []*segment // ascending; the last one is active
	active *os.File
	dirty  bool
	cursor pos

	// cursorMu orders cursor file writes, which happen outside s.mu.
	cursorMu sync.Mutex
}

// Entry is one spooled record.
type Entry struct {
	Room   string
	Record []byte
}

// Batch is a run of consecutive entries returned by Read, confirmed with
// Ack.
type Batch struct {
	Entries []Entry
	Bytes   int // sum of the record lengths
	end     pos
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Meta returns the data given when the queue was created.
func (q *Queue) Meta() []byte { return q.meta }

func openQueue(s *Spool, name string) (*Queue, error) {
	q := &Queue{s: s, name: name, dir: filepath.Join(s.dir, name)}
	meta, err := os.ReadFile(filepath.Join(q.dir, metaFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read queue meta: %w", err)
	}
	q.meta = meta
	if err := q.loadSegments(); err != nil {
		return nil, err
	}
	if err := q.loadCursor(); err != nil {
		return nil, err
	}
	last := q.segs[len(q.segs)-1]
	f, err := os.OpenFile(filepath.Join(q.dir, segName(last.seq)), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	q.active = f
	return q, nil
}

// loadSegments lists and checks the segment files, cutting off a torn or
// corrupt tail.
func (q *Queue) loadSegments() error {
	ents, err := os.ReadDir(q.dir)
	if err != nil {
		return fmt.Errorf("read queue dir: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		seq, err := strconv.ParseUint(name, 16, 64)
		if !ok || err != nil {
			continue
		}
		seg := &segment{seq: seq}
		if err := scanSegment(filepath.Join(q.dir, e.Name()), seg); err != nil {
			return err
		}
		q.segs = append(q.segs, seg)
	}
	sort.Slice(q.segs, func(i, j int) bool { return q.segs[i].seq < q.segs[j].seq })
	if len(q.segs) == 0 {
		q.segs = []*segment{{seq: 1}}
	}
	return nil
}

// scanSegment counts the valid entries of a segment and truncates the file
// after the last one.
func scanSegment(path string, seg *segment) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		_, n, err := readEntry(r)
		if err != nil {
			break
		}
		seg.size += int64(n)
		seg.recs++
	}
	if seg.size < fi.Size() {
		if err := f.Truncate(seg.size); err != nil {
			return fmt.Errorf("truncate torn segment: %w", err)
		}
	}
	return nil
}

// readEntry reads one entry and checks its CRC, returning the payload and
// the entry's length on disk.
func readEntry(r io.Reader) ([]byte, int, error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, err
	}
	n := binary.LittleEndian.Uint32(h[0:])
	if n < 2 || n > maxEntry {
		return nil, 0, errors.New("bad entry length")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, 0, errors.New("bad entry checksum")
	}
	return p, headerSize + int(n), nil
}

func (q *Queue) loadCursor() error {
	first := q.segs[0]
	q.cursor = pos{seq: first.seq}
	b, err := os.ReadFile(filepath.Join(q.dir, cursorFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read cursor: %w", err)
	}
	var c pos
	if _, err := fmt.Sscanf(string(b), "%d %d %d", &c.seq, &c.off, &c.recs); err != nil {
		return nil // unreadable: deliver everything again
	}
	for i, seg := range q.segs {
		if seg.seq != c.seq {
			continue
		}
		if c.off > seg.size { // the tail was cut off
			c.off, c.recs = seg.size, seg.recs
		}
		q.cursor = c
		for _, old := range q.segs[:i] {
			os.Remove(filepath.Join(q.dir, segName(old.seq)))
		}
		q.segs = q.segs[i:]
		return nil
	}
	return nil // the cursor's segment is gone: start at the first one
}

// Append adds a record for room and returns the bytes of the queue not yet
// confirmed. When it returns, the record is in the page cache: it survives
// a crash of the process, and a crash of the machine once Sync has run.
func (q *Queue) Append(room string, rec []byte) (pending int64, err error) {
	b := encodeEntry(room, rec)
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if int64(len(b)) > s.opt.MaxBytes || len(b) > maxEntry {
		return 0, ErrTooLarge
	}
	if s.bytes+int64(len(b)) > s.opt.MaxBytes {
		s.makeRoomLocked(int64(len(b)))
	}
	seg := q.segs[len(q.segs)-1]
	if seg.size > 0 && seg.size+int64(len(b)) > s.opt.SegmentBytes {
		if err := q.rotateLocked(true); err != nil {
			return 0, err
		}
		seg = q.segs[len(q.segs)-1]
	}
	if _, err := q.active.Write(b); err != nil {
		q.active.Truncate(seg.size) // do not leave a torn entry before the next one
		return 0, fmt.Errorf("append to spool: %w", err)
	}
	seg.size += int64(len(b))
	seg.recs++
	s.bytes += int64(len(b))
	q.dirty = true
	return q.pendingLocked(), nil
}

// Pending returns the bytes appended and not yet confirmed.
func (q *Queue) Pending() int64 {
	q.s.mu.Lock()
	defer q.s.mu.Unlock()
	return q.pendingLocked()
}

func (q *Queue) pendingLocked() int64 {
	var n int64
	for _, seg := range q.segs {
		n += seg.size
	}
	return n - q.cursor.off
}

// rotateLocked seals the active segment (syncing it when sync is set) and
// starts an empty one.
func (q *Queue) rotateLocked(sync bool) error {
	last := q.segs[len(q.segs)-1]
	if sync {
		if err := q.active.Sync(); err != nil {
			return fmt.Errorf("sync segment: %w", err)
		}
	}
	next := &segment{seq: last.seq + 1}
	f, err := os.OpenFile(filepath.Join(q.dir, segName(next.seq)), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	q.active.Close()
	q.active = f
	q.dirty = false
	q.segs = append(q.segs, next)
	return nil
}

// dropHeadLocked deletes the oldest segment and returns how many
// unconfirmed records it held.
func (q *Queue) dropHeadLocked() (int, error) {
	if len(q.segs) == 1 {
		if err := q.rotateLocked(false); err != nil {
			return 0, err
		}
	}
	head := q.segs[0]
	n := head.recs
	if q.cursor.seq == head.seq {
		n -= q.cursor.recs
	}
	q.segs = q.segs[1:]
	q.s.bytes -= head.size
	q.cursor = pos{seq: q.segs[0].seq}
	err := q.persistCursor(q.cursor)
	os.Remove(filepath.Join(q.dir, segName(head.seq)))
	return n, err
}

// Read returns the entries after the cursor, at most maxRecords of them and
// at most maxBytes of records (but always one when any is pending), or nil
// when none is pending. Reading happens without the spool lock.
func (q *Queue) Read(maxRecords, maxBytes int) (*Batch, error) {
	q.s.mu.Lock()
	p := q.cursor
	var segs []segment
	for _, seg := range q.segs {
		segs = append(segs, *seg)
	}
	q.s.mu.Unlock()

	b := &Batch{end: p}
	for _, seg := range segs {
		if seg.seq < p.seq {
			continue
		}
		if seg.seq > p.seq {
			p = pos{seq: seg.seq}
		}
		full, err := q.readSegment(b, seg, p, maxRecords, maxBytes)
		if err != nil {
			return nil, err
		}
		if full {
			break
		}
	}
	if len(b.Entries) == 0 {
		return nil, nil
	}
	return b, nil
}

// readSegment appends the entries of seg from p to b and reports whether b
// is full.
func (q *Queue) readSegment(b *Batch, seg segment, p pos, maxRecords, maxBytes int) (bool, error) {
	if p.off >= seg.size {
		b.end = pos{seq: seg.seq, off: seg.size, recs: seg.recs}
		return false, nil
	}
	f, err := os.Open(filepath.Join(q.dir, segName(seg.seq)))
	if err != nil {
		return false, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, p.off, seg.size-p.off), 64<<10)
	for p.off < seg.size {
		if len(b.Entries) >= maxRecords {
			return true, nil
		}
		payload, n, err := readEntry(r)
		if err != nil {
			return false, fmt.Errorf("read segment %s at %d: %w", segName(seg.seq), p.off, err)
		}
		room, rec, ok := decodePayload(payload)
		if !ok {
			return false, fmt.Errorf("read segment %s at %d: bad payload", segName(seg.seq), p.off)
		}
		if len(b.Entries) > 0 && b.Bytes+len(rec) > maxBytes {
			return true, nil
		}
		b.Entries = append(b.Entries, Entry{Room: room, Record: rec})
		b.Bytes += len(rec)
		p.off += int64(n)
		p.recs++
		b.end = p
	}
	return false, nil
}

// Ack confirms every entry of b: the cursor moves past them and is
// persisted, and the segments it passed are deleted. A batch whose entries
// were dropped meanwhile is ignored.
func (q *Queue) Ack(b *Batch) error {
	q.cursorMu.Lock()
	defer q.cursorMu.Unlock()
	s := q.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if !b.end.after(q.cursor) {
		s.mu.Unlock()
		return nil
	}
	q.cursor = b.end
	for i, seg := range q.segs[:len(q.segs)-1] {
		if q.cursor.seq == seg.seq && q.cursor.off == seg.size {
			q.cursor = pos{seq: q.segs[i+1].seq}
		}
	}
	last := q.segs[len(q.segs)-1]
	if q.cursor.seq == last.seq && q.cursor.off == last.size {
		// Everything is confirmed: start afresh so the old file can go.
		if err := q.rotateLocked(false); err != nil {
			s.mu.Unlock()
			return err
		}
		q.cursor = pos{seq: last.seq + 1}
	}
	var gone []uint64
	for len(q.segs) > 1 && q.segs[0].seq < q.cursor.seq {
		gone = append(gone, q.segs[0].seq)
		s.bytes -= q.segs[0].size
		q.segs = q.segs[1:]
	}
	c := q.cursor
	s.mu.Unlock()

	if err := q.persistCursor(c); err != nil {
		return err
	}
	for _, seq := range gone {
		if err := os.Remove(filepath.Join(q.dir, segName(seq))); err != nil {
			return fmt.Errorf("delete segment: %w", err)
		}
	}
	return nil
}

// persistCursor writes c to the cursor file before any segment it passed
// is deleted, so a crash never makes the queue start in a deleted segment.
func (q *Queue) persistCursor(c pos) error {
	data := fmt.Sprintf("%d %d %d\n", c.seq, c.off, c.recs)
	if err := writeFileSync(filepath.Join(q.dir, cursorFile), []byte(data)); err != nil {
		return fmt.Errorf("persist spool cursor: %w", err)
	}
	return nil
}
