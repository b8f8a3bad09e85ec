package messaging

import "github.com/parleychat/parley"

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

// errorFrame serialises err as an ERROR frame with a fresh Id, echoing
// requestID. The detail of errors that are not *parley.Error values stays
// out of the frame.
func errorFrame(requestID string, err error) (frame []byte, code int) {
	e := parley.AsError(err)
	code = errorCode(e.Code)
	f := parley.ErrorFrame{ID: parley.NewID(), RequestID: requestID, Code: code, Message: e.Message}
	return f.AppendJSON(make([]byte, 0, 96+len(requestID)+len(e.Message))), code
}
