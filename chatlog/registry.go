package chatlog

import (
	"errors"
	"fmt"
	"sync"

	"github.com/parleychat/parley"
)

// Kind is one kind of destination configuration, one member of
// parley.DestinationConfiguration. The package that delivers it registers
// it in init (chatlog/s3 registers "s3", chatlog/cloudwatch "cloudwatch",
// chatlog/firehose "firehose"), so that chatlog itself knows no kind.
type Kind struct {
	// Name names the kind in spool queue names, metric labels
	// ("s3:<bucket>") and Config.Destinations. It never changes: spooled
	// records find their destination by it after a restart.
	Name string
	// Target returns the bucket, log group or delivery stream that c
	// names, and false when c is of another kind.
	Target func(c parley.DestinationConfiguration) (target string, ok bool)
}

// Opener returns the destination of the configuration c, whose bucket, log
// group or delivery stream is target. Each destination package has one
// (s3.Opener(client), local.Opener(dir)); Config.Destinations says which
// serves each kind.
type Opener func(c parley.DestinationConfiguration, target string) parley.LogDestination

// kinds is vocabulary filled in by init functions, not shared state: it is
// the same on every node.
var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
)

// Register makes a kind of destination known. It panics when the name is
// empty or already registered, or Target is nil: that is a programming
// error, found at start-up.
func Register(k Kind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if k.Name == "" || k.Target == nil {
		panic("chatlog: Register of a kind without a name or Target")
	}
	if _, dup := kinds[k.Name]; dup {
		panic("chatlog: kind " + k.Name + " registered twice")
	}
	kinds[k.Name] = k
}

// Kinds returns the names of the registered kinds.
func Kinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	return names
}

// kindOf returns the name of c's kind and its target.
func kindOf(c parley.DestinationConfiguration) (kind, target string, err error) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	for name, k := range kinds {
		if t, ok := k.Target(c); ok {
			return name, t, nil
		}
	}
	if c == (parley.DestinationConfiguration{}) {
		return "", "", errors.New("empty destination configuration")
	}
	return "", "", errors.New("destination configuration of no registered kind (is its chatlog package imported?)")
}

// newDestination returns the destination of c, opened by the Opener of its
// kind.
func (l *Logger) newDestination(c parley.DestinationConfiguration) (parley.LogDestination, error) {
	kind, target, err := kindOf(c)
	if err != nil {
		return nil, err
	}
	open := l.cfg.Destinations[kind]
	if open == nil {
		return nil, fmt.Errorf("no %s destinations configured", kind)
	}
	return open(c, target), nil
}
