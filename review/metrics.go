package review

import (
	"errors"

	"github.com/parleychat/parley"
	"github.com/prometheus/client_golang/prometheus"
)

// Outcome label values of parley_review_invocations_total.
const (
	OutcomeAllow         = "allow"
	OutcomeDeny          = "deny"
	OutcomeErrorTimeout  = "error_timeout"
	OutcomeErrorInvoke   = "error_invoke"
	OutcomeErrorFunction = "error_function"
	OutcomeErrorInvalid  = "error_invalid"
)

type metrics struct {
	invocations *prometheus.CounterVec
	duration    prometheus.Histogram
}

func (inv *Invoker) init() {
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_review_invocations_total",
			Help: "Message review handler invocations by outcome.",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_review_duration_seconds",
			Help:    "Time spent waiting for message review handlers.",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .25, .5, 1},
		}),
	}
	if inv.Registerer != nil {
		m.invocations = register(inv.Registerer, m.invocations)
		m.duration = register(inv.Registerer, m.duration)
	}
	inv.metrics = m
}

// register registers c, or returns the collector already registered under
// the same description (two Invokers sharing a registry share metrics).
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

func outcome(resp *parley.ReviewResponse, err error) string {
	switch {
	case errors.Is(err, ErrTimeout):
		return OutcomeErrorTimeout
	case errors.Is(err, ErrFunction):
		return OutcomeErrorFunction
	case errors.Is(err, ErrInvalid):
		return OutcomeErrorInvalid
	case err != nil:
		return OutcomeErrorInvoke
	case resp.ReviewResult == parley.ReviewDeny:
		return OutcomeDeny
	}
	return OutcomeAllow
}
