package messaging

import (
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/hub"
)

// Close reasons of the messaging side, beyond the hub's.
const (
	closeSessionExpired hub.CloseReason = 100 + iota
	closeShutdown                       // Shutdown or Drain: come back later
	closeByPeer                         // the client sent a close frame
	closeProtocol                       // the client broke RFC 6455
)

// closeSpec is what closing a connection for one reason does.
type closeSpec struct {
	// drop ends the connection at once, without a close frame, so that the
	// SDK reconnects with a new token.
	drop bool
	// last is the ERROR frame sent before the close frame; nil: none.
	last error
	// text is the close frame's reason text.
	text string
}

// closeReasons is the one catalogue of close reasons, the hub's and the
// messaging side's. Every close but a dropped one ends with a close frame
// (1000 for Close; the peer's or the protocol error's code for closeByPeer
// and closeProtocol) and waits for the client's.
var closeReasons = map[hub.CloseReason]closeSpec{
	hub.CloseSlowConsumer: {drop: true},
	hub.CloseDisconnected: {text: "disconnected"},
	hub.CloseRoomDeleted:  {text: "room deleted", last: parley.Errorf(parley.ResourceNotFoundException, "Room deleted")},
	closeSessionExpired:   {text: "session expired", last: parley.Errorf(parley.Unauthorized, "Session expired")},
	closeShutdown:         {text: "server shutting down", last: parley.Errorf(parley.Unauthorized, "Server is shutting down, reconnect")},
	closeByPeer:           {},
	closeProtocol:         {},
}

// closeState is where a connection is in its close sequence, guarded by
// conn.mu. It only moves forward, in the order below, and may skip states:
// a slow consumer goes from open straight to done, a client's close frame
// moves an open or closing connection to hangingUp.
type closeState uint8

const (
	// stateOpen: requests are served and frames delivered.
	stateOpen closeState = iota
	// stateClosing: a close frame (conn.closeCode) is queued behind the
	// frames before it; once it is written the client has closeGrace to
	// answer with its own. Requests and new frames are dropped.
	stateClosing
	// stateHangingUp: as stateClosing, but the connection is dropped as
	// soon as the close frame is written (the client closed first, or
	// broke the protocol).
	stateHangingUp
	// stateCloseSent: the close frame is with the writer; nothing more is
	// written, and the client's close frame ends the connection.
	stateCloseSent
	// stateDone: finished; nothing more is read or written.
	stateDone
)
