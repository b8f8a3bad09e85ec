package messaging

import (
	"errors"
	"net/http"

	"github.com/parleychat/parley"
)

// errorCode is the one translation of a parley.ErrorCode into the ErrorCode
// number of an ERROR frame. Anything not listed is 500.
func errorCode(c parley.ErrorCode) int {
	switch c {
	case parley.ValidationException:
		return 400
	case parley.Unauthorized:
		return 401
	case parley.AccessDeniedException:
		return 403
	case parley.ResourceNotFoundException:
		return 404
	case parley.MessageRejected:
		return 406
	case parley.PayloadTooLarge:
		return 413
	case parley.ThrottlingException:
		return 429
	default:
		return 500
	}
}

// errDraining refuses a handshake while the server drains.
var errDraining = errors.New("server is shutting down")

// handshakeError is the translation of a refused handshake into the HTTP
// status and plain-text body sent before the upgrade (the SDK cannot read
// them; it retries with a new token). The status is the ERROR frame code of
// errorCode, which follows HTTP: 401 for a bad, expired or used token, 404
// for a missing room; 503 while draining; anything else is 500 and its
// detail stays in the log.
func handshakeError(err error) (status int, body string) {
	if errors.Is(err, errDraining) {
		return http.StatusServiceUnavailable, err.Error()
	}
	switch code := errorCode(parley.ErrorCodeOf(err)); code {
	case http.StatusUnauthorized:
		return code, parley.ErrorMessage(err)
	case http.StatusNotFound:
		return code, "chat room not found"
	}
	return http.StatusInternalServerError, "internal server error"
}

// errorFrame serialises err as an ERROR frame with a fresh Id, echoing
// requestID. The detail of errors that are not *parley.Error values stays
// out of the frame.
func errorFrame(requestID string, err error) (frame []byte, code int) {
	e := parley.AsError(err)
	code = errorCode(e.Code)
	f := parley.ErrorFrame{ID: parley.NewID(), RequestID: requestID, Code: code, Message: e.Message}
	return f.AppendJSON(make([]byte, 0, 96+len(requestID)+len(e.Message))), code
}
