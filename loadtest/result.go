package loadtest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// Result is the outcome of a run. Its JSON form is what --json prints.
type Result struct {
	URL      string  `json:"url"`
	WSURL    string  `json:"wsUrl"`
	Conns    int     `json:"conns"`
	Rooms    int     `json:"rooms"`
	Senders  int     `json:"senders"`
	Rate     float64 `json:"rate"`
	Payload  int     `json:"payload"`
	Window   int     `json:"window"`
	RoomRate int     `json:"roomRate"`

	// Connected counts connections that opened; ConnectFailures counts the
	// others by reason.
	Connected       uint64         `json:"connected"`
	ConnectFailures map[string]int `json:"connectFailures"`
	ConnectSeconds  float64        `json:"connectSeconds"`
	ConnsPerSecond  float64        `json:"connsPerSecond"`
	// ConnectLatency is the time from asking for a token to an open socket.
	ConnectLatency Latency `json:"connectLatency"`
	// ControlPlaneRetries counts control-plane calls repeated after
	// throttling or a server error.
	ControlPlaneRetries uint64 `json:"controlPlaneRetries"`
	// Disconnects counts connections the server ended during the run.
	Disconnects map[string]int `json:"disconnects"`

	ActiveSenders int            `json:"activeSenders"`
	Sent          uint64         `json:"sent"`
	Rejected      uint64         `json:"rejected"`
	SendFailures  map[string]int `json:"sendFailures"`
	SendSeconds   float64        `json:"sendSeconds"`
	SentPerSecond float64        `json:"sentPerSecond"`

	// Expected counts the (message, connection) pairs due: every accepted
	// message once at every connection of its room, the sender's included.
	Expected                uint64  `json:"expected"`
	Delivered               uint64  `json:"delivered"`
	DeliveriesPerSecond     float64 `json:"deliveriesPerSecond"`
	PeakDeliveriesPerSecond float64 `json:"peakDeliveriesPerSecond"`
	Lost                    uint64  `json:"lost"`
	Duplicated              uint64  `json:"duplicated"`
	// Spurious counts deliveries of messages the server refused.
	Spurious       uint64   `json:"spurious"`
	LossyReceivers int      `json:"lossyReceivers"`
	LossSamples    []string `json:"lossSamples,omitempty"`
	// Foreign counts marks from a sender of another room; OtherFrames
	// counts frames without a mark that were not ERROR frames.
	Foreign       uint64  `json:"foreign"`
	OtherFrames   uint64  `json:"otherFrames"`
	DrainSeconds  float64 `json:"drainSeconds"`
	DrainComplete bool    `json:"drainComplete"`

	Latency        Latency  `json:"latency"`
	LatencyBuckets []Bucket `json:"latencyBuckets"`

	// Errors counts ERROR frames by ErrorCode; ErrorMessages holds the first
	// message seen of each code.
	Errors           map[string]int    `json:"errors"`
	ErrorMessages    map[string]string `json:"errorMessages,omitempty"`
	UnexpectedErrors int               `json:"unexpectedErrors"`

	Server   *ServerStats `json:"server,omitempty"`
	Client   ClientStats  `json:"client"`
	Timeline []Sample     `json:"timeline"`

	// Failures lists why the run counts as failed (loss, duplicates,
	// unexpected errors); empty when it passed.
	Failures []string `json:"failures"`
}

// Latency summarises a histogram in milliseconds.
type Latency struct {
	Count  uint64  `json:"count"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	P999Ms float64 `json:"p999Ms"`
	MaxMs  float64 `json:"maxMs"`
	MeanMs float64 `json:"meanMs"`
}

// Bucket is one non-empty bucket of the latency histogram.
type Bucket struct {
	LowMs  float64 `json:"lowMs"`
	HighMs float64 `json:"highMs"`
	Count  uint64  `json:"count"`
}

// ServerStats describes the server processes during the run: with several
// (-server-pid a,b,c) the byte and second figures are their sums and Nodes
// holds each.
type ServerStats struct {
	PID               int    `json:"pid"`
	PIDs              []int  `json:"pids,omitempty"`
	RSSStartBytes     uint64 `json:"rssStartBytes"`
	RSSConnectedBytes uint64 `json:"rssConnectedBytes"`
	RSSPeakBytes      uint64 `json:"rssPeakBytes"`
	RSSEndBytes       uint64 `json:"rssEndBytes"`
	// RSSPerConnBytes is the growth from start to all connected, divided by
	// the connections opened.
	RSSPerConnBytes float64 `json:"rssPerConnBytes"`
	CPUSecondsSend  float64 `json:"cpuSecondsSend"`
	// CPUSecondsDelivery is the CPU time from the start of sending to the
	// end of the drain: the work of delivering the messages.
	CPUSecondsDelivery float64 `json:"cpuSecondsDelivery"`
	// CPUSecondsPerMillionDeliveries is CPUSecondsDelivery per million
	// deliveries, comparable between one node and several.
	CPUSecondsPerMillionDeliveries float64     `json:"cpuSecondsPerMillionDeliveries"`
	CPUSecondsTotal                float64     `json:"cpuSecondsTotal"`
	Error                          string      `json:"error,omitempty"`
	Nodes                          []NodeStats `json:"nodes,omitempty"`
}

// NodeStats describes one server process of several.
type NodeStats struct {
	PID                int     `json:"pid"`
	RSSStartBytes      uint64  `json:"rssStartBytes"`
	RSSConnectedBytes  uint64  `json:"rssConnectedBytes"`
	RSSPeakBytes       uint64  `json:"rssPeakBytes"`
	RSSEndBytes        uint64  `json:"rssEndBytes"`
	CPUSecondsSend     float64 `json:"cpuSecondsSend"`
	CPUSecondsDelivery float64 `json:"cpuSecondsDelivery"`
	CPUSecondsTotal    float64 `json:"cpuSecondsTotal"`
	Error              string  `json:"error,omitempty"`
}

// ClientStats is this load generator's own CPU use.
type ClientStats struct {
	CPUSecondsSend  float64 `json:"cpuSecondsSend"`
	CPUSecondsTotal float64 `json:"cpuSecondsTotal"`

	cpuStart, cpuSendStart, cpuSendEnd float64
}

func summarize(h *Hist) Latency {
	return Latency{Count: h.N, P50Ms: ms(h.Quantile(0.5)), P90Ms: ms(h.Quantile(0.9)),
		P99Ms: ms(h.Quantile(0.99)), P999Ms: ms(h.Quantile(0.999)), MaxMs: ms(h.Max), MeanMs: h.Mean() / 1000}
}

func buckets(h *Hist) []Bucket {
	var out []Bucket
	for i, c := range h.Counts {
		if c > 0 {
			out = append(out, Bucket{LowMs: ms(bucketLow(i)), HighMs: ms(bucketHigh(i) + 1), Count: c})
		}
	}
	return out
}

// fill completes res once every reader has ended.
func (r *run) fill(res *Result) {
	c := r.cfg
	res.URL, res.WSURL, res.Conns, res.Rooms, res.Senders = c.URL, c.WSURL, c.Conns, c.Rooms, c.Senders
	res.Rate, res.Payload, res.Window, res.RoomRate = c.Rate, c.Payload, c.Window, c.RoomRate
	res.Connected = r.up.Load()
	res.ConnectFailures, res.Disconnects, res.SendFailures = r.connFails, r.disconnects, r.sendFails
	res.ConnsPerSecond = rate(float64(res.Connected), res.ConnectSeconds)
	res.ConnectLatency = summarize(r.dialLat.Snapshot())
	res.ControlPlaneRetries = r.cp.retries.Load()
	for _, rm := range r.rooms {
		res.Sent += rm.sent.Load()
		res.Rejected += rm.rejected.Load()
	}
	res.SentPerSecond = rate(float64(res.Sent), res.SendSeconds)
	h := r.lat.Snapshot()
	res.Latency, res.LatencyBuckets, res.Delivered = summarize(h), buckets(h), h.N
	res.DeliveriesPerSecond = rate(float64(h.N), res.SendSeconds+res.DrainSeconds)
	res.Duplicated, res.Foreign, res.OtherFrames = r.dups.Load(), r.foreign.Load(), r.others.Load()
	t, samples := r.account()
	res.Expected, res.Lost, res.Spurious, res.LossyReceivers, res.LossSamples = t.Expected, t.Lost, t.Spurious, t.LossyReceivers, samples
	res.Errors, res.ErrorMessages = map[string]int{}, map[string]string{}
	for code, n := range r.errCodes {
		k := strconv.Itoa(code)
		res.Errors[k], res.ErrorMessages[k] = n, r.errSamples[code]
		if !slices.Contains(c.ExpectErrors, code) {
			res.UnexpectedErrors += n
		}
	}
	m := r.mon
	res.Timeline, res.Client = m.samples, m.client
	for _, s := range m.samples {
		res.PeakDeliveriesPerSecond = max(res.PeakDeliveriesPerSecond, s.DeliveriesPerSecond)
	}
	res.Server = m.serverStats(res.Delivered, res.Connected)
	res.Failures = failures(res)
}

func rate(n, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return n / secs
}

// account compares what every receiver saw against what was sent.
func (r *run) account() (tally, []string) {
	logs := make([]senderLog, r.cfg.Senders)
	for i := range logs {
		if c := r.clients[i]; c != nil {
			logs[i] = senderLog{sent: c.sent.Load(), rejected: c.rejected}
		}
	}
	var tot tally
	var samples []string
	for _, c := range r.clients {
		if c == nil {
			continue
		}
		var ct tally
		for k := range c.streams {
			sender := c.room + k*r.cfg.Rooms
			t := account(&c.streams[k], &logs[sender])
			if t.Lost > 0 && len(samples) < 10 {
				samples = append(samples, fmt.Sprintf("connection %d (room %d) missed %d of sender %d, first %v",
					c.idx, c.room, t.Lost, sender, missingSample(&c.streams[k], &logs[sender], 5)))
			}
			ct.add(t)
		}
		if ct.Lost > 0 {
			ct.LossyReceivers = 1
		}
		tot.add(ct)
	}
	return tot, samples
}

// failures lists why a result counts as failed.
func failures(res *Result) []string {
	var f []string
	if res.Lost > 0 {
		f = append(f, fmt.Sprintf("%d deliveries lost at %d connections", res.Lost, res.LossyReceivers))
	}
	if res.Duplicated > 0 {
		f = append(f, fmt.Sprintf("%d deliveries duplicated", res.Duplicated))
	}
	if res.Spurious > 0 {
		f = append(f, fmt.Sprintf("%d deliveries of refused messages", res.Spurious))
	}
	if res.Foreign > 0 {
		f = append(f, fmt.Sprintf("%d deliveries of another room's messages", res.Foreign))
	}
	if res.UnexpectedErrors > 0 {
		codes := slices.Sorted(maps.Keys(res.Errors))
		f = append(f, fmt.Sprintf("%d unexpected ERROR frames (codes %v)", res.UnexpectedErrors, codes))
	}
	if res.Sent == 0 {
		f = append(f, "no message was sent")
	}
	return f
}
