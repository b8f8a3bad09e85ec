package controlplane

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleychat/parley"
)

// metrics are the control-plane's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// series caches the children of the vectors by operation and status,
	// so that a request does not hash its label values.
	mu     sync.RWMutex
	series map[opStatus]opSeries
}

type opStatus struct {
	op     string
	status int
	code   parley.ErrorCode
}

type opSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		series: make(map[opStatus]opSeries),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_api_requests_total",
			Help: "Control-plane API requests by operation, HTTP status and error code (the x-amzn-ErrorType; empty on success).",
		}, []string{"operation", "status", "error"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_api_request_duration_seconds",
			Help:    "Control-plane API request duration by operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
	}
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	return m
}

// register registers c, or returns the collector already registered under
// the same description (several Servers may share a Registerer).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}

// observe counts one request; m may be nil.
func (m *metrics) observe(op string, status int, code parley.ErrorCode, start, end time.Time) {
	if m == nil {
		return
	}
	se := m.seriesOf(op, status, code)
	se.requests.Inc()
	se.duration.Observe(end.Sub(start).Seconds())
}

// seriesOf returns the cached series of op, status and code, creating them
// on first use. op is an operation name or "unknown" and code one of the
// error table's, so the cache is small.
func (m *metrics) seriesOf(op string, status int, code parley.ErrorCode) opSeries {
	k := opStatus{op, status, code}
	m.mu.RLock()
	se, ok := m.series[k]
	m.mu.RUnlock()
	if ok {
		return se
	}
	se = opSeries{
		requests: m.requests.WithLabelValues(op, strconv.Itoa(status), string(code)),
		duration: m.duration.WithLabelValues(op),
	}
	m.mu.Lock()
	m.series[k] = se
	m.mu.Unlock()
	return se
}
