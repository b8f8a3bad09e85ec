// Package nats is the networked parley.Bus, on NATS core publish/subscribe
// (github.com/nats-io/nats.go). Every node of a deployment connects to the
// same NATS server or cluster.
//
// Each room has a subject, <Prefix>.room.<roomID>, and a node subscribes
// only to the rooms it has local connections in (the hub subscribes on a
// room's first local connection and unsubscribes after its last).
// Messages cross the wire in the codec of parley.BusMessage. Subscribe
// returns only once the server has the subscription (a flush round trip),
// so whatever any node publishes after Subscribe returns reaches it.
//
// There is no goroutine per subscription: every subscription feeds one of
// a few shared channels, chosen by room, and one dispatcher goroutine per
// channel looks the callback up by subscription and calls it, so the
// messages of one subscription are delivered one at a time, in order.
// A dispatcher that falls QueueSize messages behind loses messages (NATS
// drops them as a slow consumer and the bus logs it), which is why
// callbacks must not block.
//
// NATS core delivers at most once. While the connection is down Publish
// fails at once (nothing is buffered for later), and messages published by
// other nodes meanwhile are lost to this node; after every reconnect
// OnReconnect is called, once the server has every subscription again, so
// the node can re-read the state it holds (hub.RefreshRooms).
//
// Every node also announces itself on <Prefix>.nodes every
// PresenceInterval; Nodes counts the nodes heard recently, for limits that
// are shared out between the nodes.
//
// Goroutines: the NATS client's own, Dispatchers dispatchers, one for
// presence and one that runs OnReconnect; Close waits for all of them.
package nats

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleychat/parley"
)

var _ parley.Bus = (*Bus)(nil)

// Errors returned by Publish and Subscribe.
var (
	ErrClosed       = errors.New("nats bus: closed")
	ErrNotConnected = errors.New("nats bus: not connected to the NATS server")
)

// maxRoomIDLength bounds the room IDs the bus accepts.
const maxRoomIDLength = 128

// Bus is a parley.Bus on NATS. Create it with New, set its fields, then
// Open it; the fields must not change after Open.
type Bus struct {
	// URL is the NATS server to connect to, or several separated by
	// commas. Zero means nats://127.0.0.1:4222.
	URL string

	// Name names this node in presence announcements and in the NATS
	// server's list of connections. Zero means the host name.
	Name string

	// Prefix starts every subject the bus uses. Zero means "parley".
	// Deployments that share a NATS server keep apart by prefix.
	Prefix string

	// OnReconnect, when set, is called after every reconnect, once the
	// server has every subscription of this node again. Messages
	// published while the node was away are lost to it, so OnReconnect
	// should re-read what the node holds (hub.RefreshRooms). It runs on a
	// goroutine of the bus; reconnects that happen while it runs lead to
	// one more call. Close waits for a running call.
	OnReconnect func()

	// Dispatchers is the number of goroutines that deliver messages.
	// Zero means GOMAXPROCS.
	Dispatchers int

	// QueueSize is the number of messages buffered for each dispatcher;
	// NATS drops messages beyond it as a slow consumer. Zero means 8192.
	QueueSize int

	// FlushTimeout bounds the round trip Subscribe waits for. Zero means
	// 5 s.
	FlushTimeout time.Duration

	// ReconnectWait is the pause between attempts to reconnect. Zero
	// means 500 ms.
	ReconnectWait time.Duration

	// PingInterval is how often the client checks that the server
	// answers; after two unanswered pings the connection counts as lost.
	// Zero means 5 s, so a silent network failure is noticed within
	// about 15 s.
	PingInterval time.Duration

	// PresenceInterval is how often the node announces itself; a node not
	// heard from for three intervals is no longer counted. Zero means 1 s.
	PresenceInterval time.Duration

	// Logger receives connection events and dropped messages. Zero means
	// slog.Default().
	Logger *slog.Logger

	// Options are more nats.go options (credentials, TLS, ...), applied
	// after the bus's own. An option that changes the reconnect buffer or
	// the handlers breaks what this package promises.
	Options []natsgo.Option

	nc       *natsgo.Conn
	log      *slog.Logger
	prefix   string
	seed     maphash.Seed
	queues   []chan *natsgo.Msg
	flushTO  time.Duration
	presence presence

	stop        chan struct{} // closed by Close: goroutines return
	connClosed  chan struct{} // closed by the NATS client's closed handler
	reconnected chan struct{} // one pending reconnect, for runOnReconnect
	presenceWG  sync.WaitGroup
	wg          sync.WaitGroup

	mu     sync.RWMutex
	subs   map[*natsgo.Subscription]*subscription
	closed bool
}

// subscription is one Subscribe call.
type subscription struct {
	room string
	fn   func(*parley.BusMessage)
}

// New returns a Bus for the NATS server at url (see Bus.URL).
func New(url string) *Bus {
	return &Bus{URL: url}
}

// Open connects to the server, subscribes to presence and starts the
// bus's goroutines. It fails when the server cannot be reached before ctx
// is done (or the connect timeout, 2 s, passes); once open, the bus
// reconnects by itself for as long as it lives.
func (b *Bus) Open(ctx context.Context) error {
	b.init()
	nc, err := natsgo.Connect(b.URL, b.natsOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("nats bus: connect to %s: %w", b.URL, err)
	}
	b.nc = nc
	if err := b.presence.subscribe(b); err != nil {
		nc.Close()
		return fmt.Errorf("nats bus: subscribe to presence: %w", err)
	}
	if err := ctx.Err(); err != nil {
		nc.Close()
		return err
	}
	for _, q := range b.queues {
		b.wg.Go(func() { b.dispatch(q) })
	}
	b.presenceWG.Go(b.presence.run)
	b.wg.Go(b.runOnReconnect)
	return nil
}

func (b *Bus) init() {
	b.URL = or(b.URL, natsgo.DefaultURL)
	if b.Name == "" {
		b.Name, _ = os.Hostname()
	}
	b.prefix = or(b.Prefix, "parley")
	b.log = b.Logger
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("component", "nats-bus")
	b.seed = maphash.MakeSeed()
	n := b.Dispatchers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	size := b.QueueSize
	if size <= 0 {
		size = 8192
	}
	b.queues = make([]chan *natsgo.Msg, n)
	for i := range b.queues {
		b.queues[i] = make(chan *natsgo.Msg, size)
	}
	b.flushTO = or(b.FlushTimeout, 5*time.Second)
	b.stop = make(chan struct{})
	b.connClosed = make(chan struct{})
	b.reconnected = make(chan struct{}, 1)
	b.subs = make(map[*natsgo.Subscription]*subscription)
	b.presence.init(b, or(b.PresenceInterval, time.Second))
}

func or[T comparable](v, zero T) T {
	var z T
	if v == z {
		return zero
	}
	return v
}

func (b *Bus) natsOptions(ctx context.Context) []natsgo.Option {
	opts := []natsgo.Option{
		natsgo.Name("parley " + b.Name),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(or(b.ReconnectWait, 500*time.Millisecond)),
		// Nothing is buffered while disconnected: Publish fails instead.
		natsgo.ReconnectBufSize(-1),
		natsgo.PingInterval(or(b.PingInterval, 5*time.Second)),
		natsgo.MaxPingsOutstanding(2),
		natsgo.DisconnectErrHandler(func(nc *natsgo.Conn, err error) {
			if !nc.IsClosed() && !nc.IsDraining() {
				b.log.Warn("disconnected from NATS", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			b.log.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted())
			select {
			case b.reconnected <- struct{}{}:
			default: // one is pending already
			}
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { close(b.connClosed) }),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, s *natsgo.Subscription, err error) {
			subject := ""
			if s != nil {
				subject = s.Subject
			}
			b.log.Warn("NATS error", "subject", subject, "err", err)
		}),
	}
	if d, ok := ctx.Deadline(); ok {
		opts = append(opts, natsgo.Timeout(time.Until(d)))
	}
	return append(opts, b.Options...)
}

// Connected reports whether the bus is connected to the server now, for
// readiness checks.
func (b *Bus) Connected() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return !b.closed && b.nc != nil && b.nc.IsConnected()
}

func (b *Bus) roomSubject(roomID string) string { return b.prefix + ".room." + roomID }

// validRoomID checks that id is safe as one token of a subject.
func validRoomID(id string) error {
	if id == "" || len(id) > maxRoomIDLength {
		return fmt.Errorf("nats bus: room ID of length %d", len(id))
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return fmt.Errorf("nats bus: room ID %q is not alphanumeric", id)
		}
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// Publish sends m to every node subscribed to m.RoomID. It fails with
// ErrNotConnected while the connection to the server is down (nothing is
// kept for later), with ErrClosed after Close, and when m cannot be
// encoded. A nil error means the message was handed to the client for
// sending, not that anyone received it.
func (b *Bus) Publish(ctx context.Context, m *parley.BusMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validRoomID(m.RoomID); err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := m.AppendBinary((*bp)[:0])
	if err != nil {
		return fmt.Errorf("nats bus: %w", err)
	}
	*bp = data
	if err := b.usable(); err != nil {
		return err
	}
	err = b.nc.Publish(b.roomSubject(m.RoomID), data)
	if errors.Is(err, natsgo.ErrReconnectBufExceeded) {
		err = ErrNotConnected // the connection went down since usable
	}
	if err != nil {
		return fmt.Errorf("nats bus: publish to room %s: %w", m.RoomID, err)
	}
	return nil
}

// usable returns the error for a bus that is closed or disconnected.
func (b *Bus) usable() error {
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case b.nc == nil || !b.nc.IsConnected():
		return ErrNotConnected
	}
	return nil
}

// Subscribe calls fn for every message published to roomID until the
// returned function is called. It returns once the server has the
// subscription, or fails: ErrNotConnected while disconnected, ErrClosed
// after Close, or the round trip's error after FlushTimeout. After
// unsubscribe returns, fn is not called for messages published later; a
// delivery already under way may still be running.
func (b *Bus) Subscribe(roomID string, fn func(*parley.BusMessage)) (func(), error) {
	if err := validRoomID(roomID); err != nil {
		return nil, err
	}
	if err := b.usable(); err != nil {
		return nil, err
	}
	q := b.queues[maphash.String(b.seed, roomID)%uint64(len(b.queues))]
	s := &subscription{room: roomID, fn: fn}
	// Registered under the lock, so that no message of the new
	// subscription reaches a dispatcher before it can be looked up.
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	ns, err := b.nc.ChanSubscribe(b.roomSubject(roomID), q)
	if err == nil {
		b.subs[ns] = s
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("nats bus: subscribe to room %s: %w", roomID, err)
	}
	unsub := sync.OnceFunc(func() { b.unsubscribe(ns) })
	if err := b.nc.FlushTimeout(b.flushTO); err != nil {
		unsub()
		return nil, fmt.Errorf("nats bus: subscribe to room %s: %w", roomID, err)
	}
	return unsub, nil
}

func (b *Bus) unsubscribe(ns *natsgo.Subscription) {
	b.mu.Lock()
	delete(b.subs, ns)
	b.mu.Unlock()
	if err := ns.Unsubscribe(); err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) && !errors.Is(err, natsgo.ErrBadSubscription) {
		b.log.Warn("unsubscribe", "subject", ns.Subject, "err", err)
	}
}

// dispatch delivers the messages of queue q until Close.
func (b *Bus) dispatch(q chan *natsgo.Msg) {
	for {
		select {
		case <-b.stop:
			return
		case m := <-q:
			b.deliver(m)
		}
	}
}

func (b *Bus) deliver(nm *natsgo.Msg) {
	b.mu.RLock()
	s := b.subs[nm.Sub]
	b.mu.RUnlock()
	if s == nil {
		return // unsubscribed
	}
	m := new(parley.BusMessage)
	err := m.UnmarshalBinary(nm.Data)
	if err == nil && m.RoomID != s.room {
		err = fmt.Errorf("message for room %q", m.RoomID)
	}
	if err != nil {
		b.log.Warn("dropped a malformed message", "subject", nm.Subject, "err", err)
		return
	}
	s.fn(m)
}

// runOnReconnect calls OnReconnect after each reconnect, once a round
// trip has made sure the server has every subscription again (the client
// sends them before it reports the reconnect, but the server may not have
// processed them yet).
func (b *Bus) runOnReconnect() {
	for {
		select {
		case <-b.stop:
			return
		case <-b.reconnected:
		}
		if err := b.nc.FlushTimeout(b.flushTO); err != nil {
			b.log.Warn("round trip after reconnect", "err", err)
			continue // disconnected again: the next reconnect calls back
		}
		if b.OnReconnect != nil {
			b.OnReconnect()
		}
	}
}

// Close stops delivery, announces that the node leaves, then drains the
// connection: the server drops this node's subscriptions and everything
// published before Close is sent. It waits for the bus's goroutines
// until ctx is done, and then closes the connection at once and returns
// ctx's error. Closing twice is harmless.
func (b *Bus) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed || b.nc == nil {
		b.closed = true
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	b.presenceWG.Wait() // its goodbye goes out before the drain
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
	}
	done := make(chan struct{})
	go func() {
		<-b.connClosed
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		b.nc.Close()
		return fmt.Errorf("nats bus: close: %w", ctx.Err())
	}
}
