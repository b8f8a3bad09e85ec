// Package chatlogtest holds fakes of the AWS services that Parley calls, for
// tests of any package: S3 (gofakes3), CloudWatch Logs and Firehose (the
// awsJson1.1 calls aws-sdk-go-v2 makes), and the Lambda Invoke API (plus an
// http webhook) for message review handlers. Each fake records what it got
// and can be switched down (503, or connections refused) and up again.
//
// It is imported only by tests.
package chatlogtest

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Region and Account are the region and account of the fakes' ARNs.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// Mode is how a fake Server answers.
type Mode int

const (
	// Up serves requests.
	Up Mode = iota
	// Unavailable answers every request with 503 Service Unavailable.
	Unavailable
	// Refuse closes the listener and open connections: connections are
	// refused until the mode changes again.
	Refuse
)

// Server is an HTTP server on a fixed loopback address whose Mode can be
// changed while it runs. The fakes embed it.
type Server struct {
	// URL is http://127.0.0.1:<port>, the same in every mode.
	URL string

	handler     http.Handler
	unavailable http.HandlerFunc
	addr        string

	mu   sync.Mutex
	mode Mode
	srv  *http.Server
}

// newServer serves h on a random loopback port until the test ends;
// unavailable answers in the Unavailable mode.
func newServer(tb testing.TB, h http.Handler, unavailable http.HandlerFunc) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	s := &Server{handler: h, unavailable: unavailable, addr: ln.Addr().String()}
	s.URL = "http://" + s.addr
	s.serve(ln)
	tb.Cleanup(func() { s.SetMode(Refuse) })
	return s
}

func (s *Server) serve(ln net.Listener) {
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
}

// Mode returns the current mode.
func (s *Server) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// SetMode switches the server to m. Leaving Refuse listens again on the
// same address.
func (s *Server) SetMode(m Mode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case m == Refuse && s.srv != nil:
		s.srv.Close()
		s.srv = nil
	case m != Refuse && s.srv == nil:
		ln, err := listenAgain(s.addr)
		if err != nil {
			return err
		}
		s.serve(ln)
	}
	s.mode = m
	return nil
}

// listenAgain listens on addr, retrying briefly while the port is being
// released.
func listenAgain(addr string) (net.Listener, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("listen again on %s: %w", addr, err)
			}
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Mode() == Unavailable {
		s.unavailable(w, r)
		return
	}
	s.handler.ServeHTTP(w, r)
}
