package controlplane

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/parleychat/parley"
)

// errorStatus is the one table from error code to HTTP status. A code not in
// it is answered as InternalServerException.
var errorStatus = map[parley.ErrorCode]int{
	parley.ValidationException:                 http.StatusBadRequest,
	parley.AccessDeniedException:               http.StatusForbidden,
	parley.PendingVerification:                 http.StatusForbidden,
	parley.ResourceNotFoundException:           http.StatusNotFound,
	parley.ConflictException:                   http.StatusConflict,
	parley.ServiceQuotaExceededException:       http.StatusPaymentRequired,
	parley.ThrottlingException:                 http.StatusTooManyRequests,
	parley.InternalServerException:             http.StatusInternalServerError,
	parley.MissingAuthenticationTokenException: http.StatusBadRequest,
	parley.IncompleteSignatureException:        http.StatusBadRequest,
	parley.InvalidSignatureException:           http.StatusForbidden,
	parley.UnrecognizedClientException:         http.StatusForbidden,
}

// errorBody is the JSON body of an error response: message plus the members
// the model defines for the code.
type errorBody struct {
	Message      string           `json:"message"`
	Reason       string           `json:"reason,omitempty"`
	FieldList    []fieldErrorJSON `json:"fieldList,omitempty"`
	ResourceID   *string          `json:"resourceId,omitempty"`
	ResourceType *string          `json:"resourceType,omitempty"`
	Limit        *int             `json:"limit,omitempty"`
}

type fieldErrorJSON struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// publicError returns err as the *parley.Error sent to the client and its
// HTTP status. Errors that are not *parley.Error, and codes outside the
// table, become InternalServerException.
func publicError(err error) (*parley.Error, int) {
	var e *parley.Error
	if !errors.As(err, &e) {
		return parley.AsError(err), http.StatusInternalServerError
	}
	status, ok := errorStatus[e.Code]
	if !ok {
		return &parley.Error{Code: parley.InternalServerException, Message: "internal server error"}, http.StatusInternalServerError
	}
	return e, status
}

// bodyFor builds the body with every modelled member of e's code.
func bodyFor(e *parley.Error) errorBody {
	b := errorBody{Message: e.Message}
	switch e.Code {
	case parley.ValidationException:
		b.Reason = e.Reason
		if b.Reason == "" {
			b.Reason = parley.ReasonOther
		}
		for _, f := range e.Fields {
			b.FieldList = append(b.FieldList, fieldErrorJSON{Name: f.Name, Message: f.Message})
		}
	case parley.ResourceNotFoundException, parley.ConflictException:
		b.ResourceID, b.ResourceType = resourceMembers(e)
	case parley.ServiceQuotaExceededException, parley.ThrottlingException:
		b.ResourceID, b.ResourceType = resourceMembers(e)
		limit := e.Limit
		b.Limit = &limit
	}
	return b
}

func resourceMembers(e *parley.Error) (*string, *string) {
	id, typ := e.ResourceID, e.ResourceType
	if typ == "" {
		typ = parley.ResourceTypeRoom
	}
	return &id, &typ
}

// writeError answers the request with err, logs it once, and returns the
// status and code it answered with.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, op, requestID string, err error) (int, parley.ErrorCode) {
	e, status := publicError(err)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger().Log(r.Context(), level, "request failed",
		"requestId", requestID, "operation", op, "status", status,
		"code", string(e.Code), "err", err)
	w.Header().Set("x-amzn-ErrorType", string(e.Code))
	writeJSON(w, status, bodyFor(e))
	return status, e.Code
}

// jsonAppender is implemented by the responses of hot operations, which
// encode themselves without reflection.
type jsonAppender interface{ appendJSON(b []byte) []byte }

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if a, ok := v.(jsonAppender); ok {
		b = a.appendJSON(make([]byte, 0, 512))
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		b = []byte(`{"message":"internal server error"}`)
		status = http.StatusInternalServerError
	}
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	w.Write(b)
}
