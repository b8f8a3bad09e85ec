package loadtest

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Sample is one second of the run, for the progress line and the charts.
type Sample struct {
	// T is seconds since the run started, at the end of the second.
	T     float64 `json:"t"`
	Phase string  `json:"phase"`
	Conns uint64  `json:"conns"`
	// SentPerSecond and DeliveriesPerSecond are rates over the second;
	// deliveries count first arrivals at every receiver.
	SentPerSecond       float64 `json:"sentPerSecond"`
	DeliveriesPerSecond float64 `json:"deliveriesPerSecond"`
	// P50Ms, P99Ms and MaxMs are latencies of the deliveries of the second.
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
	// ServerRSSBytes and ServerCPUPercent are zero without a server PID.
	ServerRSSBytes   uint64  `json:"serverRssBytes,omitempty"`
	ServerCPUPercent float64 `json:"serverCpuPercent,omitempty"`
	ClientCPUPercent float64 `json:"clientCpuPercent"`
}

// liveStats is what a monitor samples of the load generator each second.
type liveStats struct {
	hist   *Hist   // latency of first deliveries so far
	sent   uint64  // messages sent so far
	up     uint64  // connections opened so far
	failed int     // connections that failed to open
	errors int     // ERROR frames so far
	cpu    float64 // CPU seconds of the load generator's processes
}

// liveSource is a running benchmark as a monitor sees it: a run in this
// process, or a coordinator adding up its workers.
type liveSource interface {
	live() liveStats
}

// monitor samples the run every second.
type monitor struct {
	src      liveSource
	progress io.Writer
	start    time.Time
	conns    int // connections asked for, for the progress line
	phase    atomic.Value
	stopc    chan struct{}
	done     chan struct{}

	mu         sync.Mutex
	samples    []Sample
	prevHist   *Hist
	prevSent   uint64
	prevT      time.Time
	prevClient float64
	nodes      []*nodeMon // one per server pid
	client     ClientStats
}

// nodeMon follows one server process.
type nodeMon struct {
	st                                              NodeStats
	prev                                            procStat
	cpuStart, cpuSendStart, cpuSendEnd, cpuDrainEnd float64
	err                                             error
}

// newMonitor starts sampling src and the server processes pids every
// second, printing a progress line to progress (if not nil).
func newMonitor(src liveSource, pids []int, conns int, progress io.Writer, start time.Time) *monitor {
	m := &monitor{src: src, progress: progress, start: start, conns: conns,
		stopc: make(chan struct{}), done: make(chan struct{}), prevHist: &Hist{}, prevT: time.Now()}
	m.prevClient = src.live().cpu
	m.phase.Store("setup")
	m.client.cpuStart = m.prevClient
	for _, pid := range pids {
		n := &nodeMon{st: NodeStats{PID: pid}}
		ps, err := readProc(pid)
		n.setErr(err)
		n.prev = ps
		n.st.RSSStartBytes, n.st.RSSPeakBytes = ps.RSS, ps.RSS
		n.cpuStart = ps.CPU
		m.nodes = append(m.nodes, n)
	}
	go m.loop()
	return m
}

func (r *run) startMonitor() *monitor {
	return newMonitor(r, r.cfg.ServerPIDs, r.cfg.Conns, r.progress, r.start)
}

// live samples the run in this process.
func (r *run) live() liveStats {
	return liveStats{hist: r.lat.Snapshot(), sent: r.sentTotal(), up: r.up.Load(),
		failed: r.failedConns(), errors: r.errorFrames(), cpu: selfCPU()}
}

// setPhase names the phase in the samples; a nil monitor (in a worker)
// ignores it, as it ignores the marks below.
func (m *monitor) setPhase(p string) {
	if m != nil {
		m.phase.Store(p)
	}
}

func (m *monitor) loop() {
	defer close(m.done)
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			m.tick()
		case <-m.stopc:
			m.tick()
			m.finish()
			return
		}
	}
}

// stop takes a last sample and ends the loop.
func (m *monitor) stop() {
	close(m.stopc)
	<-m.done
}

// tick takes one sample and prints the progress line.
func (m *monitor) tick() {
	now := time.Now()
	ls := m.src.live()
	m.mu.Lock()
	defer m.mu.Unlock()
	dt := now.Sub(m.prevT).Seconds()
	if dt <= 0 {
		return
	}
	d := ls.hist.Sub(m.prevHist)
	s := Sample{
		T:                   now.Sub(m.start).Seconds(),
		Phase:               m.phase.Load().(string),
		Conns:               ls.up,
		SentPerSecond:       float64(ls.sent-m.prevSent) / dt,
		DeliveriesPerSecond: float64(d.N) / dt,
		P50Ms:               ms(d.Quantile(0.5)),
		P99Ms:               ms(d.Quantile(0.99)),
		MaxMs:               ms(d.Max),
		ClientCPUPercent:    100 * (ls.cpu - m.prevClient) / dt,
	}
	m.prevHist, m.prevSent, m.prevT, m.prevClient = ls.hist, ls.sent, now, ls.cpu
	for _, n := range m.nodes {
		ps, err := readProc(n.st.PID)
		n.setErr(err)
		if err == nil {
			s.ServerRSSBytes += ps.RSS
			s.ServerCPUPercent += 100 * (ps.CPU - n.prev.CPU) / dt
			n.st.RSSPeakBytes = max(n.st.RSSPeakBytes, ps.RSS)
			n.prev = ps
		}
	}
	m.samples = append(m.samples, s)
	m.printLocked(s, ls)
}

func (m *monitor) printLocked(s Sample, ls liveStats) {
	if m.progress == nil {
		return
	}
	line := fmt.Sprintf("[%6.1fs] %-7s conns %d/%d fail %d | sent %.0f/s deliv %.0f/s | p50 %s p99 %s max %s | errors %d | client cpu %.0f%%",
		s.T, s.Phase, s.Conns, m.conns, ls.failed, s.SentPerSecond, s.DeliveriesPerSecond,
		fmtMs(s.P50Ms), fmtMs(s.P99Ms), fmtMs(s.MaxMs), ls.errors, s.ClientCPUPercent)
	if s.ServerRSSBytes > 0 {
		line += fmt.Sprintf(" | server %s cpu %.0f%%", fmtBytes(s.ServerRSSBytes), s.ServerCPUPercent)
	}
	fmt.Fprintln(m.progress, line)
}

func (n *nodeMon) setErr(err error) {
	if err != nil && n.err == nil {
		n.err = err
	}
}

// markConnected records the server's memory once every connection is open.
func (m *monitor) markConnected() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if ps, err := readProc(n.st.PID); err == nil {
			n.st.RSSConnectedBytes = ps.RSS
			n.st.RSSPeakBytes = max(n.st.RSSPeakBytes, ps.RSS)
		}
	}
}

// markSendStart, markSendEnd and markDrainEnd bracket the send phase's and
// the delivery's CPU time.
func (m *monitor) markSendStart() {
	m.mark(&m.client.cpuSendStart, func(n *nodeMon) *float64 { return &n.cpuSendStart })
}
func (m *monitor) markSendEnd() {
	m.mark(&m.client.cpuSendEnd, func(n *nodeMon) *float64 { return &n.cpuSendEnd })
}
func (m *monitor) markDrainEnd() { m.mark(nil, func(n *nodeMon) *float64 { return &n.cpuDrainEnd }) }

// mark stores the client's CPU time in client (if not nil) and each
// server's in the field that field returns.
func (m *monitor) mark(client *float64, field func(*nodeMon) *float64) {
	if m == nil {
		return
	}
	cpu := m.src.live().cpu
	m.mu.Lock()
	defer m.mu.Unlock()
	if client != nil {
		*client = cpu
	}
	for _, n := range m.nodes {
		if ps, err := readProc(n.st.PID); err == nil {
			*field(n) = ps.CPU
		}
	}
}

// finish computes the totals once the run is over.
func (m *monitor) finish() {
	cpu := m.src.live().cpu
	m.mu.Lock()
	defer m.mu.Unlock()
	m.client.CPUSecondsTotal = cpu - m.client.cpuStart
	m.client.CPUSecondsSend = m.client.cpuSendEnd - m.client.cpuSendStart
	for _, n := range m.nodes {
		ps, err := readProc(n.st.PID)
		n.setErr(err)
		if err == nil {
			n.st.RSSEndBytes = ps.RSS
			n.st.CPUSecondsTotal = ps.CPU - n.cpuStart
		}
		n.st.CPUSecondsSend = n.cpuSendEnd - n.cpuSendStart
		n.st.CPUSecondsDelivery = n.cpuDrainEnd - n.cpuSendStart
		if n.err != nil {
			n.st.Error = n.err.Error()
		}
	}
}

// serverStats sums the server processes; nil without any. delivered is
// the number of deliveries of the run, connected its connections.
func (m *monitor) serverStats(delivered, connected uint64) *ServerStats {
	if len(m.nodes) == 0 {
		return nil
	}
	s := &ServerStats{PID: m.nodes[0].st.PID}
	for _, n := range m.nodes {
		st := n.st
		s.RSSStartBytes += st.RSSStartBytes
		s.RSSConnectedBytes += st.RSSConnectedBytes
		s.RSSPeakBytes += st.RSSPeakBytes
		s.RSSEndBytes += st.RSSEndBytes
		s.CPUSecondsSend += st.CPUSecondsSend
		s.CPUSecondsDelivery += st.CPUSecondsDelivery
		s.CPUSecondsTotal += st.CPUSecondsTotal
		if st.Error != "" && s.Error == "" {
			s.Error = fmt.Sprintf("pid %d: %s", st.PID, st.Error)
		}
		if len(m.nodes) > 1 {
			s.PIDs = append(s.PIDs, st.PID)
			s.Nodes = append(s.Nodes, st)
		}
	}
	if connected > 0 && s.RSSConnectedBytes > s.RSSStartBytes {
		s.RSSPerConnBytes = float64(s.RSSConnectedBytes-s.RSSStartBytes) / float64(connected)
	}
	if delivered > 0 {
		s.CPUSecondsPerMillionDeliveries = s.CPUSecondsDelivery / float64(delivered) * 1e6
	}
	return s
}

// sentTotal returns the messages sent so far in all rooms.
func (r *run) sentTotal() uint64 {
	var n uint64
	for _, rm := range r.rooms {
		n += rm.sent.Load()
	}
	return n
}

func (r *run) failedConns() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.connFails {
		n += v
	}
	return n
}

func (r *run) errorFrames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.errCodes {
		n += v
	}
	return n
}

// ms converts microseconds to milliseconds.
func ms(us uint64) float64 { return float64(us) / 1000 }

func fmtMs(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

func fmtBytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2fGiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0fKiB", float64(b)/(1<<10))
}
