package loadtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
)

// fakeChat is a minimal IVS Chat server for tests: CreateRoom,
// CreateChatToken and DeleteRoom on the control plane, and a WebSocket that
// broadcasts SEND_MESSAGE as MESSAGE frames to every connection of the room.
// Its knobs misbehave on purpose so that tests can check detection.
type fakeChat struct {
	srv *httptest.Server

	// DropEvery, if > 0, skips one recipient of every DropEvery-th message.
	DropEvery int64
	// DupEvery, if > 0, sends every DupEvery-th message twice to one
	// recipient.
	DupEvery int64
	// RejectEvery, if > 0, refuses every RejectEvery-th message with an
	// ERROR 429 to the sender and broadcasts nothing.
	RejectEvery int64
	// ThrottleEvery, if > 0, answers every ThrottleEvery-th control-plane
	// request with ThrottlingException.
	ThrottleEvery int64

	requests atomic.Int64
	msgs     atomic.Int64
	deleted  atomic.Int64
	badSigs  atomic.Int64
	upgrader websocket.Upgrader

	mu     sync.Mutex
	rooms  map[string]*fakeRoom // by ARN
	tokens map[string]fakeToken
	hosts  map[string]string // user id → Host header of its WebSocket
	nextID int
}

type fakeRoom struct {
	mu    sync.Mutex
	conns []*fakeConn
}

type fakeToken struct {
	room *fakeRoom
	send bool
	user string
}

type fakeConn struct {
	out chan []byte
}

func newFakeChat(t *testing.T) *fakeChat {
	f := &fakeChat{rooms: map[string]*fakeRoom{}, tokens: map[string]fakeToken{}, hosts: map[string]string{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// listen adds another listener that serves the same rooms, as another node
// of a cluster would, and returns its WebSocket URL.
func (f *fakeChat) listen(t *testing.T) string {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "" {
		f.serveWS(w, r)
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "/us-east-1/ivschat/aws4_request") {
		f.badSigs.Add(1)
		w.Header().Set("X-Amzn-Errortype", "UnrecognizedClientException")
		http.Error(w, `{"message":"unsigned"}`, http.StatusForbidden)
		return
	}
	if n := f.requests.Add(1); f.ThrottleEvery > 0 && n%f.ThrottleEvery == 0 {
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
		http.Error(w, `{"message":"slow down"}`, http.StatusTooManyRequests)
		return
	}
	var in struct {
		Identifier, RoomIdentifier, UserID string
		Capabilities                       []string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	switch r.URL.Path {
	case "/CreateRoom":
		arn := "arn:aws:ivschat:us-east-1:000000000000:room/r" + strconv.Itoa(f.nextID)
		f.rooms[arn] = &fakeRoom{}
		writeJSON(w, map[string]string{"arn": arn})
	case "/CreateChatToken":
		room := f.rooms[in.RoomIdentifier]
		if room == nil {
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			http.Error(w, `{"message":"no room"}`, http.StatusNotFound)
			return
		}
		tok := "tok" + strconv.Itoa(f.nextID)
		f.tokens[tok] = fakeToken{room: room, send: len(in.Capabilities) > 0, user: in.UserID}
		writeJSON(w, map[string]string{"token": tok})
	case "/DeleteRoom":
		delete(f.rooms, in.Identifier)
		f.deleted.Add(1)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // a failed write shows up in the client
}

func (f *fakeChat) serveWS(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get("Sec-WebSocket-Protocol")
	f.mu.Lock()
	ft, ok := f.tokens[tok]
	delete(f.tokens, tok)
	if ok {
		f.hosts[ft.user] = r.Host
	}
	f.mu.Unlock()
	if !ok {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	ws, err := f.upgrader.Upgrade(w, r, http.Header{"Sec-Websocket-Protocol": {tok}})
	if err != nil {
		return
	}
	c := &fakeConn{out: make(chan []byte, 1<<14)}
	ft.room.mu.Lock()
	ft.room.conns = append(ft.room.conns, c)
	ft.room.mu.Unlock()
	go func() {
		for b := range c.out {
			if ws.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		}
	}()
	defer func() {
		ft.room.mu.Lock()
		for i, x := range ft.room.conns {
			if x == c {
				ft.room.conns = append(ft.room.conns[:i], ft.room.conns[i+1:]...)
				break
			}
		}
		ft.room.mu.Unlock()
		close(c.out)
		ws.Close()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		f.onFrame(ft, c, data)
	}
}

// onFrame handles one client request.
func (f *fakeChat) onFrame(ft fakeToken, c *fakeConn, data []byte) {
	var req struct{ Action, RequestId, Content string }
	if err := json.Unmarshal(data, &req); err != nil || req.Action != "SEND_MESSAGE" {
		c.out <- (&parley.ErrorFrame{ID: parley.NewID(), RequestID: req.RequestId, Code: 400, Message: "bad request"}).AppendJSON(nil)
		return
	}
	if !ft.send {
		c.out <- (&parley.ErrorFrame{ID: parley.NewID(), RequestID: req.RequestId, Code: 403, Message: "no capability"}).AppendJSON(nil)
		return
	}
	n := f.msgs.Add(1)
	if f.RejectEvery > 0 && n%f.RejectEvery == 0 {
		c.out <- (&parley.ErrorFrame{ID: parley.NewID(), RequestID: req.RequestId, Code: 429, Message: "slow down"}).AppendJSON(nil)
		return
	}
	m := parley.Message{ID: parley.NewID(), RequestID: req.RequestId, Content: req.Content,
		SendTime: time.Now(), Sender: parley.Sender{UserID: ft.user}}
	frame := m.AppendJSON(nil)
	ft.room.mu.Lock()
	defer ft.room.mu.Unlock()
	for i, rc := range ft.room.conns {
		if i == len(ft.room.conns)-1 && f.DropEvery > 0 && n%f.DropEvery == 0 {
			continue
		}
		rc.out <- frame
		if i == 0 && f.DupEvery > 0 && n%f.DupEvery == 0 {
			rc.out <- frame
		}
	}
}
