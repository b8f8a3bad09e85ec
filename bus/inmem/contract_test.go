package inmem_test

import (
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/bus/bustest"
	"github.com/parleychat/parley/bus/inmem"
)

// TestContract runs the Bus contract suite. The process is the deployment,
// so every node is the same Bus.
func TestContract(t *testing.T) {
	bustest.Run(t, func(t *testing.T) func() parley.Bus {
		b := inmem.New()
		return func() parley.Bus { return b }
	})
}
