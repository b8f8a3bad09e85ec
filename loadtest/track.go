package loadtest

import "sort"

// stream records which sequence numbers of one sender one receiver has seen.
// Senders number their messages 0, 1, 2, …; a server that keeps per-sender
// order delivers them in that order, so the state is usually just next. The
// set of seen numbers is exactly [0, next) minus missing.
type stream struct {
	next    uint32
	missing map[uint32]struct{} // skipped numbers below next, nil if none
}

// Outcome of one delivery.
const (
	deliveryNew = iota
	deliveryLate
	deliveryDup
)

// see records the delivery of seq and says whether it was new (in order),
// new but late (reordered), or a duplicate.
func (s *stream) see(seq uint32) int {
	switch {
	case seq == s.next:
		s.next++
		return deliveryNew
	case seq > s.next:
		if s.missing == nil {
			s.missing = make(map[uint32]struct{})
		}
		for m := s.next; m < seq; m++ {
			s.missing[m] = struct{}{}
		}
		s.next = seq + 1
		return deliveryNew
	}
	if _, ok := s.missing[seq]; ok {
		delete(s.missing, seq)
		return deliveryLate
	}
	return deliveryDup
}

// seen reports whether seq has been delivered.
func (s *stream) seen(seq uint32) bool {
	if seq >= s.next {
		return false
	}
	_, skipped := s.missing[seq]
	return !skipped
}

// senderLog is what a sender did: how many numbers it used and which of them
// the server refused with an ERROR frame (those are expected nowhere).
type senderLog struct {
	sent     uint32
	rejected map[uint32]struct{}
}

// tally is the loss accounting of one or more receivers.
type tally struct {
	// Expected is the number of (message, receiver) pairs that should have
	// been delivered.
	Expected uint64
	// Lost counts expected pairs that never arrived.
	Lost uint64
	// Spurious counts deliveries of messages the server had refused.
	Spurious uint64
	// LossyReceivers counts receivers that missed at least one message.
	LossyReceivers int
}

// account compares what a receiver saw of one sender against what the sender
// sent. Duplicates are counted as they arrive, not here.
func account(s *stream, l *senderLog) tally {
	var t tally
	if l.sent > 0 {
		t.Expected = uint64(l.sent) - uint64(len(l.rejected))
	}
	// Numbers the receiver never saw: those skipped below next and all from
	// next up to the last one sent.
	lost := uint64(len(s.missing))
	for m := range s.missing {
		if _, ok := l.rejected[m]; ok {
			lost--
		}
	}
	if s.next < l.sent {
		lost += uint64(l.sent - s.next)
		for m := range l.rejected {
			if m >= s.next {
				lost--
			}
		}
	}
	t.Lost = lost
	for m := range l.rejected {
		if s.seen(m) {
			t.Spurious++
		}
	}
	return t
}

// add folds o into t.
func (t *tally) add(o tally) {
	t.Expected += o.Expected
	t.Lost += o.Lost
	t.Spurious += o.Spurious
	t.LossyReceivers += o.LossyReceivers
}

// missingSample returns up to n of the numbers a receiver lost of a sender,
// smallest first, for the report.
func missingSample(s *stream, l *senderLog, n int) []uint32 {
	var out []uint32
	for m := range s.missing {
		if _, ok := l.rejected[m]; !ok {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	for m := s.next; m < l.sent && len(out) < n; m++ {
		if _, ok := l.rejected[m]; !ok {
			out = append(out, m)
		}
	}
	return out[:min(len(out), n)]
}
