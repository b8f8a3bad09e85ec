package clustertest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

var sigterm = syscall.SIGTERM

// NATS is a NATS server with JetStream, embedded in this process, that can
// be stopped and started again on the same port with the same store.
type NATS struct {
	URL string

	mu   sync.Mutex
	opts server.Options
	srv  *server.Server
}

// StartNATS starts a server on a free loopback port with JetStream stored
// under dir.
func StartNATS(dir string) (*NATS, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	n := &NATS{
		URL:  "nats://" + addr,
		opts: server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true},
	}
	return n, n.Start()
}

// Start starts the server if it is stopped.
func (n *NATS) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return nil
	}
	opts := n.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		return fmt.Errorf("nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return errors.New("nats server did not become ready")
	}
	n.srv = srv
	return nil
}

// Stop shuts the server down; clients see their connection drop.
func (n *NATS) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv == nil {
		return
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	n.srv = nil
}
