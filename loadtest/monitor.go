package loadtest

import (
	"fmt"
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

// monitor samples the run every second.
type monitor struct {
	r     *run
	pid   int
	phase atomic.Value
	stopc chan struct{}
	done  chan struct{}

	mu         sync.Mutex
	samples    []Sample
	prevHist   *Hist
	prevSent   uint64
	prevT      time.Time
	prevServer procStat
	prevClient float64
	server     ServerStats
	client     ClientStats
	serverErr  error
}

func (r *run) startMonitor() *monitor {
	m := &monitor{r: r, pid: r.cfg.ServerPID, stopc: make(chan struct{}), done: make(chan struct{}),
		prevHist: &Hist{}, prevT: time.Now(), prevClient: selfCPU()}
	m.phase.Store("setup")
	m.client.cpuStart = m.prevClient
	if m.pid > 0 {
		m.server.PID = m.pid
		ps, err := readProc(m.pid)
		m.setServerErr(err)
		m.prevServer = ps
		m.server.RSSStartBytes, m.server.RSSPeakBytes = ps.RSS, ps.RSS
		m.server.cpuStart = ps.CPU
	}
	go m.loop()
	return m
}

func (m *monitor) setPhase(p string) { m.phase.Store(p) }

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
	h := m.r.lat.Snapshot()
	sent := m.r.sentTotal()
	m.mu.Lock()
	defer m.mu.Unlock()
	dt := now.Sub(m.prevT).Seconds()
	if dt <= 0 {
		return
	}
	d := h.Sub(m.prevHist)
	cpu := selfCPU()
	s := Sample{
		T:                   now.Sub(m.r.start).Seconds(),
		Phase:               m.phase.Load().(string),
		Conns:               m.r.up.Load(),
		SentPerSecond:       float64(sent-m.prevSent) / dt,
		DeliveriesPerSecond: float64(d.N) / dt,
		P50Ms:               ms(d.Quantile(0.5)),
		P99Ms:               ms(d.Quantile(0.99)),
		MaxMs:               ms(d.Max),
		ClientCPUPercent:    100 * (cpu - m.prevClient) / dt,
	}
	m.prevHist, m.prevSent, m.prevT, m.prevClient = h, sent, now, cpu
	if m.pid > 0 {
		ps, err := readProc(m.pid)
		m.setServerErr(err)
		if err == nil {
			s.ServerRSSBytes = ps.RSS
			s.ServerCPUPercent = 100 * (ps.CPU - m.prevServer.CPU) / dt
			m.server.RSSPeakBytes = max(m.server.RSSPeakBytes, ps.RSS)
			m.prevServer = ps
		}
	}
	m.samples = append(m.samples, s)
	m.printLocked(s)
}

func (m *monitor) printLocked(s Sample) {
	if m.r.progress == nil {
		return
	}
	line := fmt.Sprintf("[%6.1fs] %-7s conns %d/%d fail %d | sent %.0f/s deliv %.0f/s | p50 %s p99 %s max %s | errors %d | client cpu %.0f%%",
		s.T, s.Phase, s.Conns, m.r.cfg.Conns, m.r.failedConns(), s.SentPerSecond, s.DeliveriesPerSecond,
		fmtMs(s.P50Ms), fmtMs(s.P99Ms), fmtMs(s.MaxMs), m.r.errorFrames(), s.ClientCPUPercent)
	if s.ServerRSSBytes > 0 {
		line += fmt.Sprintf(" | server %s cpu %.0f%%", fmtBytes(s.ServerRSSBytes), s.ServerCPUPercent)
	}
	fmt.Fprintln(m.r.progress, line)
}

func (m *monitor) setServerErr(err error) {
	if err != nil && m.serverErr == nil {
		m.serverErr = err
	}
}

// markConnected records the server's memory once every connection is open.
func (m *monitor) markConnected() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pid > 0 {
		if ps, err := readProc(m.pid); err == nil {
			m.server.RSSConnectedBytes = ps.RSS
			m.server.RSSPeakBytes = max(m.server.RSSPeakBytes, ps.RSS)
		}
	}
}

// markSendStart and markSendEnd bracket the send phase's CPU time.
func (m *monitor) markSendStart() { m.markSend(&m.server.cpuSendStart, &m.client.cpuSendStart) }
func (m *monitor) markSendEnd()   { m.markSend(&m.server.cpuSendEnd, &m.client.cpuSendEnd) }

func (m *monitor) markSend(server, client *float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	*client = selfCPU()
	if m.pid > 0 {
		if ps, err := readProc(m.pid); err == nil {
			*server = ps.CPU
		}
	}
}

// finish computes the totals once the run is over.
func (m *monitor) finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.client.CPUSecondsTotal = selfCPU() - m.client.cpuStart
	m.client.CPUSecondsSend = m.client.cpuSendEnd - m.client.cpuSendStart
	if m.pid <= 0 {
		return
	}
	ps, err := readProc(m.pid)
	m.setServerErr(err)
	if err == nil {
		m.server.RSSEndBytes = ps.RSS
		m.server.CPUSecondsTotal = ps.CPU - m.server.cpuStart
	}
	m.server.CPUSecondsSend = m.server.cpuSendEnd - m.server.cpuSendStart
	if m.serverErr != nil {
		m.server.Error = m.serverErr.Error()
	}
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
