// Package clustertest starts a Parley cluster the way an operator runs one:
// several `parley serve` processes on loopback sharing a PostgreSQL schema
// and a NATS server, behind a real nginx with a generated configuration.
// The Go end-to-end tests use it directly; the JavaScript suite drives it
// through the test/cluster command.
//
// NATS runs in this process (nats-server's own package) so that a test can
// stop it and start it again on the same port. PostgreSQL is the server at
// the given URL; the cluster gets a fresh schema of its own, dropped by
// Close.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Test credentials every node accepts.
const (
	AccessKeyID     = "PKCLUSTERTESTCLUSTER"
	SecretAccessKey = "cluster-test-secret-cluster-test-secret0"
)

// Options say what to start.
type Options struct {
	// Bin is the parley binary.
	Bin string
	// Nodes is the number of nodes. Zero means 3.
	Nodes int
	// DatabaseURL is the PostgreSQL server; the cluster uses a new schema
	// in its database.
	DatabaseURL string
	// Args are more `parley serve` flags for every node.
	Args []string
	// Env is more environment for every node.
	Env []string
	// Log receives the nodes' and nginx's output. Nil discards it.
	Log io.Writer
	// Dir holds the data dirs, the NATS store and nginx's files. Empty
	// means a new temporary directory, removed by Close.
	Dir string
}

// Cluster is a running cluster.
type Cluster struct {
	// URL is the balancer's address, http://127.0.0.1:port: control plane
	// and messaging go through it.
	URL string
	// DatabaseURL is the cluster's schema, reached directly.
	DatabaseURL string
	// Database stands between the nodes and PostgreSQL: Cut takes the
	// database away from every node.
	Database *Proxy
	Nodes    []*Node
	NATS     *NATS
	Nginx    *Nginx

	nodeDatabaseURL string // through the proxy

	opts    Options
	dir     string
	ownDir  bool
	dropSQL func(context.Context) error
}

// Start starts NATS, the nodes (each waited for until /readyz answers) and
// nginx in front of them. On failure everything started is stopped again.
func Start(ctx context.Context, o Options) (c *Cluster, err error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	c = &Cluster{opts: o, dir: o.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "parley-cluster-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	defer func() {
		if err != nil {
			c.Close()
			c = nil
		}
	}()
	if c.DatabaseURL, c.dropSQL, err = newSchema(ctx, o.DatabaseURL); err != nil {
		return c, err
	}
	if c.Database, c.nodeDatabaseURL, err = proxyDatabase(c.DatabaseURL); err != nil {
		return c, err
	}
	if c.NATS, err = StartNATS(filepath.Join(c.dir, "nats")); err != nil {
		return c, err
	}
	for i := range o.Nodes {
		n, err := c.newNode(i)
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, n)
		if err := n.Start(ctx); err != nil {
			return c, err
		}
	}
	if c.Nginx, err = StartNginx(ctx, filepath.Join(c.dir, "nginx"), c.Nodes, o.Log); err != nil {
		return c, err
	}
	c.URL = "http://" + c.Nginx.Addr
	return c, nil
}

// Close stops nginx, the nodes and NATS, drops the schema and removes the
// directory it made.
func (c *Cluster) Close() error {
	var errs []error
	if c.Nginx != nil {
		errs = append(errs, c.Nginx.Stop())
	}
	for _, n := range c.Nodes {
		n.Kill()
	}
	if c.NATS != nil {
		c.NATS.Stop()
	}
	if c.Database != nil {
		c.Database.Close()
	}
	if c.dropSQL != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, c.dropSQL(ctx))
		cancel()
	}
	if c.ownDir {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}

// Node is one `parley serve` process. Its address stays the same across
// restarts, so nginx's configuration holds.
type Node struct {
	Name    string
	Addr    string // 127.0.0.1:port
	DataDir string

	cluster *Cluster
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
}

func (c *Cluster) newNode(i int) (*Node, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &Node{
		Name:    fmt.Sprintf("node%d", i+1),
		Addr:    addr,
		DataDir: filepath.Join(c.dir, fmt.Sprintf("node%d", i+1)),
		cluster: c,
	}, nil
}

// Start runs the node and waits until its /readyz answers 200.
func (n *Node) Start(ctx context.Context) error {
	c := n.cluster
	args := append([]string{"serve", "--listen", n.Addr, "--node-name", n.Name, "--data-dir", n.DataDir,
		"--log-level", "warn"}, c.opts.Args...)
	cmd := exec.Command(c.opts.Bin, args...)
	cmd.Env = append(os.Environ(),
		"PARLEY_DATABASE_URL="+c.nodeDatabaseURL,
		"PARLEY_NATS_URL="+c.NATS.URL,
		"PARLEY_ACCESS_KEY_ID="+AccessKeyID,
		"PARLEY_SECRET_ACCESS_KEY="+SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	cmd.Env = append(cmd.Env, c.opts.Env...)
	prefix := &prefixWriter{w: c.opts.Log, prefix: n.Name + ": "}
	cmd.Stdout, cmd.Stderr = prefix, prefix
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	if err := waitReady(ctx, "http://"+n.Addr+"/readyz", exited); err != nil {
		n.Kill()
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	return nil
}

// Kill ends the node with SIGKILL and waits for it to exit.
func (n *Node) Kill() { n.signal(os.Kill) }

// Stop sends SIGTERM and waits for the node to exit (its graceful
// shutdown).
func (n *Node) Stop() { n.signal(sigterm) }

// Signal sends sig without waiting.
func (n *Node) Signal(sig os.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return errors.New(n.Name + " is not running")
	}
	return n.cmd.Process.Signal(sig)
}

// Exited is closed when the running process has exited.
func (n *Node) Exited() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exited
}

func (n *Node) signal(sig os.Signal) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	<-exited
	n.mu.Lock()
	if n.cmd == cmd {
		n.cmd = nil
	}
	n.mu.Unlock()
}

// waitReady polls url until it answers 200, the process exits or 30 s pass.
func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// prefixWriter prefixes every line written to w.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}
