// Package inmem is the in-process parley.Bus: every subscriber lives in the
// same process as the publisher. It behaves like a networked bus would:
// each published message is encoded with the wire codec of
// parley.BusMessage and decoded once, exactly as it would cross the wire,
// and the copy is shared, read-only, by every subscriber. So no subscriber
// can rely on the publisher's pointers, a field the codec lost would be
// lost here too, and a message the codec refuses fails Publish on both
// buses alike. Delivery to a room is totally ordered.
package inmem

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/parleychat/parley"
)

var _ parley.Bus = (*Bus)(nil)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("inmem bus: closed")

// Bus is an in-process parley.Bus. The zero value is not usable; call New.
//
// Lock order: Bus.mu, then topic.deliverMu, then topic.subsMu. fn runs with
// only topic.deliverMu held, so fn may call Publish for another room or
// unsubscribe from any room, but must not Publish to its own room.
type Bus struct {
	mu     sync.Mutex
	topics map[string]*topic
	closed bool
}

// topic is one room's subscriptions.
type topic struct {
	// deliverMu serialises delivery so every subscriber sees the room's
	// messages one at a time in one global order.
	deliverMu sync.Mutex

	subsMu sync.Mutex
	subs   []*subscription // copy-on-write: replaced, never modified
}

type subscription struct {
	fn     func(*parley.BusMessage)
	closed atomic.Bool
}

// New returns an empty Bus.
func New() *Bus {
	return &Bus{topics: make(map[string]*topic)}
}

// Publish delivers a copy of m synchronously to every subscription of
// m.RoomID, in subscription order, before it returns. Concurrent publishers
// to one room are serialised.
func (b *Bus) Publish(ctx context.Context, m *parley.BusMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	t := b.topics[m.RoomID]
	b.mu.Unlock()
	c, err := roundTrip(m)
	if err != nil || t == nil {
		return err
	}
	t.deliverMu.Lock()
	defer t.deliverMu.Unlock()
	t.subsMu.Lock()
	subs := t.subs
	t.subsMu.Unlock()
	for _, s := range subs {
		if !s.closed.Load() {
			s.fn(c)
		}
	}
	return nil
}

// Subscribe calls fn for every message published to roomID until the
// returned function is called. After unsubscribe returns, fn is not called
// for messages published later; a delivery already under way may still be
// running.
func (b *Bus) Subscribe(roomID string, fn func(*parley.BusMessage)) (func(), error) {
	s := &subscription{fn: fn}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	t := b.topics[roomID]
	if t == nil {
		t = &topic{}
		b.topics[roomID] = t
	}
	t.subsMu.Lock()
	subs := make([]*subscription, len(t.subs), len(t.subs)+1)
	copy(subs, t.subs)
	t.subs = append(subs, s)
	t.subsMu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(roomID, t, s) }) }, nil
}

func (b *Bus) unsubscribe(roomID string, t *topic, s *subscription) {
	s.closed.Store(true)
	b.mu.Lock()
	defer b.mu.Unlock()
	t.subsMu.Lock()
	defer t.subsMu.Unlock()
	subs := make([]*subscription, 0, len(t.subs))
	for _, x := range t.subs {
		if x != s {
			subs = append(subs, x)
		}
	}
	t.subs = subs
	if len(subs) == 0 && b.topics[roomID] == t {
		delete(b.topics, roomID)
	}
}

// Close stops delivery: later Publish and Subscribe calls fail.
func (b *Bus) Close(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.topics = make(map[string]*topic)
	return nil
}

// roundTrip copies m through the wire codec, as the network would: nothing
// of the result aliases the publisher's memory.
func roundTrip(m *parley.BusMessage) (*parley.BusMessage, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("inmem bus: %w", err)
	}
	c := new(parley.BusMessage)
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("inmem bus: %w", err)
	}
	return c, nil
}
