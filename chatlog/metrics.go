package chatlog

import (
	"errors"

	"github.com/parleychat/parley/chatlog/spool"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	spooled, delivered, failures, dropped *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer, sp *spool.Spool) *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"destination"})
	}
	m := &metrics{
		spooled:   counter("parley_chatlog_records_spooled_total", "Chat log records written to the spool."),
		delivered: counter("parley_chatlog_records_delivered_total", "Chat log records confirmed by their destination."),
		failures:  counter("parley_chatlog_delivery_failures_total", "Failed chat log delivery attempts (each is retried)."),
		dropped:   counter("parley_chatlog_records_dropped_total", "Chat log records lost: spool full or unreadable."),
	}
	if r == nil {
		return m
	}
	m.spooled = register(r, m.spooled)
	m.delivered = register(r, m.delivered)
	m.failures = register(r, m.failures)
	m.dropped = register(r, m.dropped)
	if sp == nil { // a shared spool: its size is the stream's, not this node's
		return m
	}
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_chatlog_spool_bytes",
		Help: "Bytes of chat log records in the spool, delivered or not, until their segment is deleted.",
	}, func() float64 { return float64(sp.Bytes()) })
	r.Unregister(gauge) // a Logger reopened on the same registry reports its own spool
	r.Register(gauge)
	return m
}

// register registers c, or returns the collector already registered under
// the same description.
func register[C prometheus.Collector](r prometheus.Registerer, c C) C {
	if err := r.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
