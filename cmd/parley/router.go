package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleychat/parley/messaging"
)

// router puts everything on one port: WebSocket upgrades on any path go to
// messaging; /metrics, /healthz and /readyz are served here; every other
// request is the control plane's.
func (m *Main) router(controlPlane http.Handler) http.Handler {
	metrics := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if messaging.IsUpgrade(r) {
			m.messaging.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet {
			switch r.URL.Path {
			case "/metrics":
				metrics.ServeHTTP(w, r)
				return
			case "/healthz":
				w.Write([]byte("ok\n"))
				return
			case "/readyz":
				if err := m.notReady(r.Context()); err != nil {
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
					return
				}
				w.Write([]byte("ready\n"))
				return
			}
		}
		controlPlane.ServeHTTP(w, r)
	})
}
