package nats

import (
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
)

// Presence announcements are text, readable with `nats sub parley.nodes`:
// "alive <instance> <name>" every interval (and at once when a node hears
// of a node it did not count, so that a newcomer is counted by everyone
// within a round trip), and "leave <instance> <name>" from a node that
// closes. The instance is random per Bus, so two nodes
// given the same name still count as two.
const (
	presenceAlive = "alive"
	presenceLeave = "leave"
)

// presence announces this node and keeps when every other node was last
// heard from.
type presence struct {
	b        *Bus
	interval time.Duration
	instance string
	in       chan *natsgo.Msg

	mu   sync.Mutex
	seen map[string]time.Time // instance → last announcement
}

func (p *presence) init(b *Bus, interval time.Duration) {
	p.b = b
	p.interval = interval
	p.instance = parley.NewID()
	p.in = make(chan *natsgo.Msg, 256)
	p.seen = make(map[string]time.Time)
}

func (p *presence) subject() string { return p.b.prefix + ".nodes" }

// subscribe subscribes to announcements and makes sure the server has the
// subscription.
func (p *presence) subscribe(b *Bus) error {
	if _, err := b.nc.ChanSubscribe(p.subject(), p.in); err != nil {
		return err
	}
	return b.nc.FlushTimeout(b.flushTO)
}

func (p *presence) announcement(kind string) []byte {
	return []byte(kind + " " + p.instance + " " + p.b.Name)
}

// run announces the node every interval and records the announcements of
// others until Close, then announces that the node leaves.
func (p *presence) run() {
	p.announce(presenceAlive)
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-p.b.stop:
			p.announce(presenceLeave)
			return
		case <-tick.C:
			p.announce(presenceAlive)
			p.prune(time.Now())
		case m := <-p.in:
			if p.record(m.Data, time.Now()) {
				p.announce(presenceAlive) // so the newcomer counts us at once
			}
		}
	}
}

// announce publishes one announcement. While the connection is down it
// fails, and other nodes stop counting this one after the window.
func (p *presence) announce(kind string) {
	if err := p.b.nc.Publish(p.subject(), p.announcement(kind)); err != nil && p.b.nc.IsConnected() {
		p.b.log.Warn("presence announcement", "err", err)
	}
}

// window is how long a node counts after its last announcement.
func (p *presence) window() time.Duration { return 3 * p.interval }

// record notes an announcement received at now, and reports whether it
// came from a node not counted before.
func (p *presence) record(data []byte, now time.Time) (newcomer bool) {
	kind, rest, ok := strings.Cut(string(data), " ")
	instance, _, _ := strings.Cut(rest, " ")
	if !ok || instance == "" || instance == p.instance {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch kind {
	case presenceAlive:
		_, known := p.seen[instance]
		p.seen[instance] = now
		return !known
	case presenceLeave:
		delete(p.seen, instance)
	}
	return false
}

// prune forgets the nodes not heard from within the window.
func (p *presence) prune(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, t := range p.seen {
		if now.Sub(t) > p.window() {
			delete(p.seen, id)
		}
	}
}

// count is the number of nodes heard from within the window, this one
// included.
func (p *presence) count(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 1
	for _, t := range p.seen {
		if now.Sub(t) <= p.window() {
			n++
		}
	}
	return n
}

// Nodes returns the number of nodes of the deployment that announced
// themselves within the last three PresenceIntervals, this one included,
// so it is at least 1. A node that closes is no longer counted as soon as
// its goodbye arrives; one that vanishes, within three intervals. While
// this node is disconnected the others fade from its count, and it from
// theirs.
func (b *Bus) Nodes() int { return b.presence.count(time.Now()) }
