package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
)

// startPprof serves net/http/pprof on --pprof-listen, a listener of its own
// so that profiles are never reachable on the public one.
func (m *Main) startPprof() error {
	if m.Config.PprofListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.PprofListen)
	if err != nil {
		return fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	m.pprof = srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Warn("pprof listener", "err", err)
		}
	}()
	m.Logger.Info("profiling on", "addr", ln.Addr().String())
	return nil
}

func (m *Main) stopPprof() {
	if m.pprof != nil {
		m.pprof.Close()
		m.pprof = nil
	}
}
