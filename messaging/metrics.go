package messaging

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/hub"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the messaging side's Prometheus collectors. They exist even
// when no Registerer is set, so code can use them unconditionally.
type metrics struct {
	conns     *connsCollector
	delivered *prometheus.CounterVec
	errors    *prometheus.CounterVec
	slow      prometheus.CounterFunc
	fallbacks *prometheus.CounterVec

	// Children resolved once: counting a delivery costs no label lookup.
	deliveredMessage, deliveredEvent, deliveredError prometheus.Counter
}

func newMetrics(h *hub.Hub, perRoom bool) *metrics {
	m := &metrics{
		conns: newConnsCollector(h, perRoom),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_ws_frames_delivered_total",
			Help: "Frames written to messaging clients, by frame type.",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_ws_errors_total",
			Help: "ERROR frames sent to messaging clients, by ErrorCode.",
		}, []string{"code"}),
		slow: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "parley_ws_slow_consumer_closes_total",
			Help: "Connections closed because their send queue was full.",
		}, func() float64 { return float64(h.SlowConsumerCloses()) }),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_review_fallbacks_total",
			Help: "Messages whose review failed and got the room's fallbackResult, by result.",
		}, []string{"result"}),
	}
	m.deliveredMessage = m.delivered.WithLabelValues(parley.TypeMessage)
	m.deliveredEvent = m.delivered.WithLabelValues(parley.TypeEvent)
	m.deliveredError = m.delivered.WithLabelValues(parley.TypeError)
	return m
}

func (m *metrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.conns, m.delivered, m.errors, m.slow, m.fallbacks} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

var (
	prefixMessage = []byte(`{"Type":"MESSAGE"`)
	prefixEvent   = []byte(`{"Type":"EVENT"`)
)

// countDelivered counts a written batch by frame type.
func (m *metrics) countDelivered(frames [][]byte) {
	var msg, ev, er int
	for _, f := range frames {
		switch {
		case bytes.HasPrefix(f, prefixMessage):
			msg++
		case bytes.HasPrefix(f, prefixEvent):
			ev++
		default:
			er++
		}
	}
	if msg > 0 {
		m.deliveredMessage.Add(float64(msg))
	}
	if ev > 0 {
		m.deliveredEvent.Add(float64(ev))
	}
	if er > 0 {
		m.deliveredError.Add(float64(er))
	}
}

// countFallback counts one message that got its room's fallbackResult
// after a failed review: DENY when deny, ALLOW otherwise.
func (m *metrics) countFallback(deny bool) {
	result := "allow"
	if deny {
		result = "deny"
	}
	m.fallbacks.WithLabelValues(result).Inc()
}

func codeLabel(code int) string { return strconv.Itoa(code) }

// connsCollector reports the hub's connections when scraped: their total,
// or with perRoom one series per room, which disappears when the room's
// last local connection ends.
type connsCollector struct {
	hub     *hub.Hub
	perRoom bool
	desc    *prometheus.Desc
}

func newConnsCollector(h *hub.Hub, perRoom bool) *connsCollector {
	const name = "parley_ws_connections"
	c := &connsCollector{hub: h, perRoom: perRoom}
	if perRoom {
		c.desc = prometheus.NewDesc(name, "Open messaging WebSocket connections on this node, per room.", []string{"room"}, nil)
	} else {
		c.desc = prometheus.NewDesc(name, "Open messaging WebSocket connections on this node.", nil, nil)
	}
	return c
}

func (c *connsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *connsCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.perRoom {
		total := 0
		c.hub.Rooms(func(_ string, n int) { total += n })
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(total))
		return
	}
	type row struct {
		room string
		n    int
	}
	var rows []row
	c.hub.Rooms(func(id string, n int) { rows = append(rows, row{id, n}) })
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(r.n), r.room)
	}
}
