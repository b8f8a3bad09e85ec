// Command cluster starts a Parley cluster for the JavaScript end-to-end
// suite: three `parley serve` nodes sharing PostgreSQL and an embedded NATS
// server, behind nginx (see internal/clustertest). It prints one JSON line
// describing the cluster, then takes commands on standard input, one a
// line, answering each with "ok" or "error: …":
//
//	kill N        SIGKILL node N (1-based)
//	start N       start node N again and wait until it is ready
//	term N        SIGTERM node N (lame-duck drain) without waiting
//	wait N        wait until node N has exited
//	stop-nats     stop the NATS server
//	start-nats    start it again on the same port
//
// It stops everything when standard input closes.
//
//	go run ./test/cluster -bin bin/parley
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/parleychat/parley/internal/clustertest"
)

func main() {
	bin := flag.String("bin", "bin/parley", "the parley binary")
	nodes := flag.Int("nodes", 3, "number of nodes")
	db := flag.String("database-url", envOr("PARLEY_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server")
	args := flag.String("args", "", "more serve flags for every node, space-separated")
	flag.Parse()
	ctx := context.Background()
	c, err := clustertest.Start(ctx, clustertest.Options{
		Bin: *bin, Nodes: *nodes, DatabaseURL: *db, Args: strings.Fields(*args), Log: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
	defer c.Close()
	type node struct {
		Name string `json:"name"`
		Addr string `json:"addr"`
	}
	desc := struct {
		URL             string `json:"url"`
		NATSURL         string `json:"natsUrl"`
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		Nodes           []node `json:"nodes"`
	}{URL: c.URL, NATSURL: c.NATS.URL, AccessKeyID: clustertest.AccessKeyID, SecretAccessKey: clustertest.SecretAccessKey}
	for _, n := range c.Nodes {
		desc.Nodes = append(desc.Nodes, node{n.Name, n.Addr})
	}
	json.NewEncoder(os.Stdout).Encode(desc)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if err := do(ctx, c, strings.Fields(sc.Text())); err != nil {
			fmt.Println("error:", err)
		} else {
			fmt.Println("ok")
		}
	}
}

func do(ctx context.Context, c *clustertest.Cluster, cmd []string) error {
	if len(cmd) == 0 {
		return fmt.Errorf("empty command")
	}
	var n *clustertest.Node
	if len(cmd) == 2 {
		i, err := strconv.Atoi(cmd[1])
		if err != nil || i < 1 || i > len(c.Nodes) {
			return fmt.Errorf("no node %q", cmd[1])
		}
		n = c.Nodes[i-1]
	}
	switch {
	case cmd[0] == "stop-nats" && n == nil:
		c.NATS.Stop()
	case cmd[0] == "start-nats" && n == nil:
		return c.NATS.Start()
	case cmd[0] == "kill" && n != nil:
		n.Kill()
	case cmd[0] == "start" && n != nil:
		return n.Start(ctx)
	case cmd[0] == "term" && n != nil:
		return n.Signal(syscall.SIGTERM)
	case cmd[0] == "wait" && n != nil:
		if ch := n.Exited(); ch != nil {
			<-ch
		}
	default:
		return fmt.Errorf("unknown command %q", strings.Join(cmd, " "))
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
