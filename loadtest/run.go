package loadtest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// roomState is one room created for the run.
type roomState struct {
	arn      string
	sent     atomic.Uint64 // messages sent into the room
	rejected atomic.Uint64 // of those, refused with an ERROR frame
	live     atomic.Int64  // connections open in the room
}

// run is the state of one benchmark run.
type run struct {
	cfg      Config
	cp       *controlPlane
	dl       *dialer
	progress io.Writer
	start    time.Time
	session  int // sessionDurationInMinutes of the tokens

	rooms   []*roomState
	clients []*client // by connection index; nil where connecting failed

	lat     shardedHist // end-to-end latency of first deliveries, µs
	dialLat shardedHist // token + handshake time, µs

	up, dups, foreign, others, deadUnique atomic.Uint64
	closing                               atomic.Bool
	readers                               sync.WaitGroup

	mu          sync.Mutex
	connFails   map[string]int
	disconnects map[string]int
	sendFails   map[string]int
	errCodes    map[int]int
	errSamples  map[int]string

	mon *monitor
}

// Run performs one benchmark as cfg describes, writing a progress line every
// second to progress (if not nil), and returns its result. It returns an
// error only when the run could not be carried out (for example, rooms could
// not be created); losses and failures are in the Result.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r, err := newRun(cfg, progress)
	if err != nil {
		return nil, err
	}
	if err := r.createRooms(ctx); err != nil {
		return nil, err
	}
	defer r.deleteRooms()
	r.mon = r.startMonitor()
	res := &Result{}
	r.connectPhase(ctx, res)
	r.mon.setPhase("settle")
	sleepUntil(ctx, time.Now().Add(cfg.Settle))
	r.sendPhase(ctx, res)
	r.drainPhase(ctx, res)
	r.mon.markDrainEnd()
	r.closeAll()
	r.mon.stop()
	r.fill(res)
	return res, nil
}

func newRun(cfg Config, progress io.Writer) (*run, error) {
	addrs, err := sourceAddrs(cfg.Sources)
	if err != nil {
		return nil, err
	}
	urls, err := splitWSURLs(cfg.WSURL)
	if err != nil {
		return nil, err
	}
	total := cfg.Duration + cfg.Drain + time.Duration(float64(cfg.Conns)/max(cfg.Ramp, 1)*float64(time.Second))
	return &run{
		cfg:         cfg,
		cp:          newControlPlane(cfg.URL, cfg.Region, cfg.AccessKey, cfg.SecretKey, cfg.DialConcurrency),
		dl:          newDialer(urls, addrs),
		progress:    progress,
		start:       time.Now(),
		session:     min(180, max(60, int(total.Minutes())+10)),
		clients:     make([]*client, cfg.Conns),
		connFails:   map[string]int{},
		disconnects: map[string]int{},
		sendFails:   map[string]int{},
		errCodes:    map[int]int{},
		errSamples:  map[int]string{},
	}, nil
}

// createRooms creates cfg.Rooms rooms, a few at a time.
func (r *run) createRooms(ctx context.Context) error {
	r.rooms = make([]*roomState, r.cfg.Rooms)
	errs := make([]error, r.cfg.Rooms)
	parallel(r.cfg.Rooms, 8, func(i int) {
		name := fmt.Sprintf("bench-%d-%d", r.start.Unix(), i)
		arn, err := r.cp.createRoom(ctx, name, r.cfg.RoomRate, 500)
		r.rooms[i] = &roomState{arn: arn}
		errs[i] = err
	})
	for _, err := range errs {
		if err != nil {
			r.deleteRooms()
			return fmt.Errorf("create rooms: %w", err)
		}
	}
	return nil
}

// deleteRooms deletes the rooms created, unless cfg.KeepRooms.
func (r *run) deleteRooms() {
	if r.cfg.KeepRooms {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	parallel(len(r.rooms), 8, func(i int) {
		if r.rooms[i] != nil && r.rooms[i].arn != "" {
			_ = r.cp.deleteRoom(ctx, r.rooms[i].arn) // best effort: the run is over
		}
	})
}

// parallel calls f(0..n-1) with at most width calls at once.
func parallel(n, width int, f func(i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// connectPhase opens cfg.Conns connections at cfg.Ramp per second with at
// most cfg.DialConcurrency in progress.
func (r *run) connectPhase(ctx context.Context, res *Result) {
	r.mon.setPhase("connect")
	start := time.Now()
	sem := make(chan struct{}, r.cfg.DialConcurrency)
	var wg sync.WaitGroup
	for i := 0; i < r.cfg.Conns && ctx.Err() == nil; i++ {
		if r.cfg.Ramp > 0 && !sleepUntil(ctx, start.Add(time.Duration(float64(i)/r.cfg.Ramp*1e9))) {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.open(ctx, i)
		}()
	}
	wg.Wait()
	res.ConnectSeconds = time.Since(start).Seconds()
	r.mon.markConnected()
}

// sleepUntil waits until t and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// open gets a token for connection i, connects and starts its reader.
func (r *run) open(ctx context.Context, i int) {
	room, sender := i%r.cfg.Rooms, -1
	if i < r.cfg.Senders {
		sender = i
	}
	t0 := time.Now()
	token, err := r.cp.createChatToken(ctx, r.rooms[room].arn, "bench-"+strconv.Itoa(i), sender >= 0, r.session)
	if err != nil {
		r.count(r.connFails, "token: "+reason(err))
		return
	}
	ws, err := r.dl.dial(ctx, i, token)
	if err != nil {
		r.count(r.connFails, reason(err))
		return
	}
	r.dialLat.Record(i, uint64(time.Since(t0).Microseconds()))
	c := &client{idx: i, room: room, sender: sender, ws: ws,
		streams: make([]stream, sendersIn(room, r.cfg.Rooms, r.cfg.Senders))}
	if sender >= 0 {
		c.win = make(chan struct{}, r.cfg.Window)
	}
	r.clients[i] = c
	r.rooms[room].live.Add(1)
	r.up.Add(1)
	r.readers.Add(1)
	go func() {
		defer r.readers.Done()
		err := r.read(c)
		if !r.closing.Load() {
			r.count(r.disconnects, reason(err))
			r.rooms[room].live.Add(-1)
			r.deadUnique.Add(c.unique)
		}
	}()
}

// sendersIn returns how many of the senders are in room (sender k is in room
// k mod rooms).
func sendersIn(room, rooms, senders int) int {
	if room >= senders {
		return 0
	}
	return (senders-room-1)/rooms + 1
}

// count adds one to m[key] under the lock.
func (r *run) count(m map[string]int, key string) {
	r.mu.Lock()
	m[key]++
	r.mu.Unlock()
}

// countError records an ERROR frame.
func (r *run) countError(code int, msg string) {
	r.mu.Lock()
	r.errCodes[code]++
	if _, ok := r.errSamples[code]; !ok {
		r.errSamples[code] = msg
	}
	r.mu.Unlock()
}

// sendPhase runs the senders for cfg.Duration.
func (r *run) sendPhase(ctx context.Context, res *Result) {
	var active []*client
	for _, c := range r.clients[:r.cfg.Senders] {
		if c != nil {
			active = append(active, c)
		}
	}
	res.ActiveSenders = len(active)
	r.mon.setPhase("send")
	r.mon.markSendStart()
	perSender := 0.0
	if r.cfg.Rate > 0 && len(active) > 0 {
		perSender = r.cfg.Rate / float64(len(active))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range active {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.sendLoop(c, perSender, stop)
		}()
	}
	sleepUntil(ctx, start.Add(r.cfg.Duration))
	close(stop)
	wg.Wait()
	res.SendSeconds = time.Since(start).Seconds()
	r.mon.markSendEnd()
}

// sendLoop sends numbered messages from c, perSec per second (0: as fast as
// the window allows), until stop is closed.
func (r *run) sendLoop(c *client, perSec float64, stop <-chan struct{}) {
	buf := make([]byte, 0, 160+r.cfg.Payload)
	start := time.Now()
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for seq := uint32(0); ; seq++ {
		if perSec > 0 {
			if d := time.Until(start.Add(time.Duration(float64(seq) / perSec * 1e9))); d > 0 {
				tm.Reset(d)
				select {
				case <-tm.C:
				case <-stop:
					return
				}
			}
		}
		select {
		case c.win <- struct{}{}:
		case <-stop:
			return
		}
		buf = appendSend(buf[:0], c.sender, seq, time.Now().UnixNano(), r.cfg.Payload)
		_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second)) // only fails on a closed conn, which WriteMessage reports
		if err := c.ws.WriteMessage(websocket.TextMessage, buf); err != nil {
			r.count(r.sendFails, reason(err))
			return
		}
		c.sent.Store(seq + 1)
		r.rooms[c.room].sent.Add(1)
	}
}

// pending returns how many deliveries to open connections are still due.
func (r *run) pending() int64 {
	var want int64
	for _, rm := range r.rooms {
		want += rm.live.Load() * int64(rm.sent.Load()-rm.rejected.Load())
	}
	got := int64(r.lat.Count()) - int64(r.deadUnique.Load())
	return want - got
}

// drainPhase waits until every message has reached every open connection,
// or cfg.Drain has passed.
func (r *run) drainPhase(ctx context.Context, res *Result) {
	r.mon.setPhase("drain")
	start := time.Now()
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for r.pending() > 0 && time.Since(start) < r.cfg.Drain {
		select {
		case <-tk.C:
		case <-ctx.Done():
			res.DrainSeconds = time.Since(start).Seconds()
			return
		}
	}
	res.DrainSeconds = time.Since(start).Seconds()
	res.DrainComplete = r.pending() <= 0
}

// closeAll closes every connection with a close frame and waits for the
// readers to end.
func (r *run) closeAll() {
	r.mon.setPhase("close")
	r.closing.Store(true)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bench done")
	for _, c := range r.clients {
		if c != nil {
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)) // a dead conn is closed below anyway
		}
	}
	done := make(chan struct{})
	go func() { r.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	for _, c := range r.clients {
		if c != nil {
			c.ws.Close()
		}
	}
	<-done
}
