// Command parley is the Parley chat server: `parley serve` runs it,
// `parley bench` drives a running server with load, `parley version` prints
// the release.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/loadtest"
)

const usage = `Usage: parley <command> [flags]

Commands:
  serve     run the server (parley serve -h lists every setting)
  bench     drive a running server with WebSocket clients (parley bench -h)
  version   print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
		}
		os.Exit(1)
	}
}

// run dispatches a command. It returns when the command is done or ctx is
// cancelled (SIGINT/SIGTERM), after a graceful shutdown.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		m := NewMain()
		if err := m.Config.parse("parley serve", args[1:], getenv); err != nil {
			return err
		}
		m.Stdout = stdout
		return m.Run(ctx)
	case "bench":
		return loadtest.Main(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "parley", parley.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
