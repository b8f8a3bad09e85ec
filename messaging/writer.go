package messaging

import (
	"runtime"
	"sync"
)

// Writes go through a small pool of writer goroutines shared by the
// process (see writer_linux.go for the system call). A connection with
// something to write is put on the pool's run queue; a worker takes one
// batch from it and tries one non-blocking write. When that writes
// everything, the connection goes back to the end of the run queue (so a
// busy connection does not hold a worker) and leaves it once its queue is
// empty. When the socket would block or takes only part of the batch, the
// rest is handed to a goroutine of its own that writes it with a deadline
// (writeBlocked), as a slow client needs, and then puts the connection
// back on the run queue. A broadcast to many connections thus starts no
// goroutine per connection.

// writePoolChunk is how many connections a worker takes per lock.
const writePoolChunk = 32

// writePoolWorkers is the number of workers: half the Ps, which leaves
// the rest to the readers, the hub, the goroutines of blocked writes and
// (on a shared box) the kernel's network work. Measured on 2 cores, one
// worker beat two in every fan-out case: the second mostly contended for
// the run queue and the connections' locks.
func writePoolWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// writePool is the run queue of connections with something to write.
type writePool struct {
	mu      sync.Mutex
	cond    sync.Cond
	q       []*conn
	head    int
	waiting int
}

var (
	writePoolOnce sync.Once
	theWritePool  *writePool
)

// getWritePool returns the process's pool, starting its workers on first
// use.
func getWritePool() *writePool {
	writePoolOnce.Do(func() {
		p := &writePool{}
		p.cond.L = &p.mu
		for range writePoolWorkers() {
			go p.work()
		}
		theWritePool = p
	})
	return theWritePool
}

// push queues c, which must not be queued already, for a worker.
func (p *writePool) push(c *conn) {
	p.mu.Lock()
	p.q = append(p.q, c)
	wake := p.waiting > 0
	p.mu.Unlock()
	if wake {
		p.cond.Signal()
	}
}

// take waits for queued connections and moves up to writePoolChunk of
// them to dst.
func (p *writePool) take(dst []*conn) []*conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.head == len(p.q) {
		p.waiting++
		p.cond.Wait()
		p.waiting--
	}
	end := min(len(p.q), p.head+writePoolChunk)
	dst = append(dst, p.q[p.head:end]...)
	clear(p.q[p.head:end])
	p.head = end
	switch {
	case p.head == len(p.q):
		p.q, p.head = p.q[:0], 0
	case p.head >= 1024 && 2*p.head >= len(p.q): // compact
		n := copy(p.q, p.q[p.head:])
		clear(p.q[n:])
		p.q, p.head = p.q[:n], 0
	}
	return dst
}

// work runs queued connections' writes for ever.
func (p *writePool) work() {
	var cs []*conn
	for {
		cs = p.take(cs[:0])
		for i, c := range cs {
			c.writeStep(p)
			cs[i] = nil
		}
		// Let readers and the hub run between chunks rather than at the
		// next preemption: a worker is never idle while a room is busy.
		runtime.Gosched()
	}
}

// writeStep takes one batch of c and tries to write it at once; c holds
// the writer role (c.writing).
func (c *conn) writeStep(p *writePool) {
	b, ok := c.takeBatch(nil)
	if !ok {
		c.srv.wg.Done()
		return
	}
	bp := b.encode()
	n, err := c.wr.Write(*bp)
	switch {
	case err == nil && n == len(*bp):
		putBuf(bp)
		c.wrote(&b)
		p.push(c)
	case err == nil || isRetryable(err):
		go c.writeBlocked(p, b, bp, n)
	default:
		putBuf(bp)
		c.finish()
		c.srv.wg.Done()
	}
}

// writeBlocked writes the rest of bp, from off, with a deadline, then
// gives c back to the pool.
func (c *conn) writeBlocked(p *writePool, b batch, bp *[]byte, off int) {
	err := writeBuf(c.nc, (*bp)[off:], c.writeDeadline())
	putBuf(bp)
	if err != nil {
		c.finish()
		c.srv.wg.Done()
		return
	}
	c.wrote(&b)
	p.push(c)
}

// wrote accounts for the written batch b and recycles its frames slice.
func (c *conn) wrote(b *batch) {
	c.srv.metrics.countDelivered(b.frames)
	if b.closeCode != 0 {
		c.closeWritten(b.hangup)
	}
	clear(b.frames)
	putQueue(b.frames)
}
