package parley

import (
	"errors"
	"fmt"
)

// ErrorCode names an error by its IVS exception name. The two edges translate
// it: controlplane to an HTTP status and x-amzn-ErrorType, messaging to an
// ERROR frame's ErrorCode.
type ErrorCode string

// Codes of the IVS Chat API model.
const (
	ValidationException           ErrorCode = "ValidationException"
	AccessDeniedException         ErrorCode = "AccessDeniedException"
	PendingVerification           ErrorCode = "PendingVerification"
	ResourceNotFoundException     ErrorCode = "ResourceNotFoundException"
	ConflictException             ErrorCode = "ConflictException"
	ServiceQuotaExceededException ErrorCode = "ServiceQuotaExceededException"
	ThrottlingException           ErrorCode = "ThrottlingException"
	InternalServerException       ErrorCode = "InternalServerException"
)

// Codes of AWS request authentication, common to all services.
const (
	InvalidSignatureException           ErrorCode = "InvalidSignatureException"
	UnrecognizedClientException         ErrorCode = "UnrecognizedClientException"
	IncompleteSignatureException        ErrorCode = "IncompleteSignatureException"
	MissingAuthenticationTokenException ErrorCode = "MissingAuthenticationTokenException"
)

// Codes that exist only on the messaging WebSocket (ERROR frames).
const (
	// Unauthorized is ERROR 401: the session has expired or the token is
	// missing. The JS SDK reconnects with a new token when it sees it.
	Unauthorized ErrorCode = "Unauthorized"
	// MessageRejected is ERROR 406: the review handler denied the message.
	MessageRejected ErrorCode = "MessageRejected"
	// PayloadTooLarge is ERROR 413: a field or the frame is too large.
	PayloadTooLarge ErrorCode = "PayloadTooLarge"
)

// ValidationExceptionReason values.
const (
	ReasonUnknownOperation      = "UNKNOWN_OPERATION"
	ReasonFieldValidationFailed = "FIELD_VALIDATION_FAILED"
	ReasonOther                 = "OTHER"
)

// ResourceTypeRoom is the only ResourceType of the model. Parley uses it for
// logging configurations too (see docs/compatibility.md).
const ResourceTypeRoom = "ROOM"

// Error is the one error type of Parley. Its Code is an IVS exception name;
// the other members are those the model defines for some codes.
type Error struct {
	Code    ErrorCode
	Message string

	// Reason and Fields belong to ValidationException.
	Reason string
	Fields []FieldError

	// ResourceID and ResourceType belong to ResourceNotFound, Conflict,
	// ServiceQuotaExceeded and Throttling. ResourceID is a bare ID.
	ResourceID   string
	ResourceType string

	// Limit belongs to ServiceQuotaExceeded and Throttling.
	Limit int
}

// FieldError names one member that failed validation.
type FieldError struct {
	Name    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns a ValidationException with reason
// FIELD_VALIDATION_FAILED naming one member.
func FieldErrorf(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{
		Code:    ValidationException,
		Message: field + ": " + msg,
		Reason:  ReasonFieldValidationFailed,
		Fields:  []FieldError{{Name: field, Message: msg}},
	}
}

// NotFound returns a ResourceNotFoundException for the bare ID id.
func NotFound(what, id string) *Error {
	return &Error{
		Code:         ResourceNotFoundException,
		Message:      fmt.Sprintf("%s %s not found", what, id),
		ResourceID:   id,
		ResourceType: ResourceTypeRoom,
	}
}

// ErrorCodeOf returns the code of err: "" for nil, the code of an *Error found
// with errors.As, and InternalServerException for anything else.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return InternalServerException
}

// ErrorMessage returns the message of an *Error, or a generic text for other
// errors, whose detail belongs in the log only.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal server error"
}

// AsError returns err as an *Error, turning any other error into an
// InternalServerException that hides its detail.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: InternalServerException, Message: "internal server error"}
}
