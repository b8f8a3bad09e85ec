package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// NginxBin is where Debian's nginx package puts the binary.
const NginxBin = "/usr/sbin/nginx"

// Nginx is an nginx process balancing over the nodes.
type Nginx struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// nginxConf is the configuration docs/deploy.md recommends, with paths
// under the test's directory: WebSocket upgrades passed through, least_conn,
// a node that refuses connections or answers 502/503 (lame duck) skipped
// for the next one, the Host header kept whole (SigV4 signs it), and the
// client's address in X-Forwarded-For.
var nginxConf = template.Must(template.New("nginx").Parse(`
daemon off;
master_process off;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path {{.Dir}}/body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    upstream parley {
        least_conn;
{{- range .Nodes}}
        server {{.}} max_fails=1 fail_timeout=2s;
{{- end}}
    }
    server {
        listen {{.Addr}};
        location / {
            proxy_pass http://parley;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
        }
    }
}
`))

// StartNginx writes a configuration for nodes into dir, starts nginx in
// the foreground and waits until it accepts connections.
func StartNginx(ctx context.Context, dir string, nodes []*Node, log io.Writer) (*Nginx, error) {
	if _, err := os.Stat(NginxBin); err != nil {
		return nil, fmt.Errorf("nginx: %w (apt-get install nginx)", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	var conf strings.Builder
	if err := nginxConf.Execute(&conf, map[string]any{"Dir": dir, "Addr": addr, "Nodes": addrs}); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(NginxBin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	pw := &prefixWriter{w: log, prefix: "nginx: "}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	g := &Nginx{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(g.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return g, nil
		}
		select {
		case <-g.done:
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("nginx exited: %s", b)
		case <-ctx.Done():
			g.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			g.Stop()
			return nil, errors.New("nginx did not start listening")
		}
	}
}

// Stop ends nginx and waits for it.
func (g *Nginx) Stop() error {
	g.cmd.Process.Signal(sigterm)
	select {
	case <-g.done:
	case <-time.After(5 * time.Second):
		g.cmd.Process.Kill()
		<-g.done
	}
	return nil
}
