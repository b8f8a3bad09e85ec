package messaging

// SetGoroutineReader makes connections accepted from now on read with a
// goroutine each (true) or through the poller where there is one (false).
func SetGoroutineReader(on bool) { pollDisabled.Store(on) }

// ClientFrame builds a masked client frame (see clientFrame).
var ClientFrame = clientFrame

// LengthOnly builds a frame header that declares n payload bytes.
var LengthOnly = lengthOnly

// RaceEnabled reports whether the race detector is on.
const RaceEnabled = raceEnabled
