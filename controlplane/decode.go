package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleychat/parley"
)

// fields reads the members of one JSON object strictly. Type errors and
// constraint violations are collected into errs, named by their dotted path
// on the wire. Unknown members are ignored and null means absent, as in AWS.
type fields struct {
	raw    map[string]json.RawMessage
	prefix string
	errs   *[]parley.FieldError
}

// parseBody parses a request body that must be a JSON object. An empty body
// is read as {}.
func parseBody(body []byte) (*fields, error) {
	f := &fields{raw: map[string]json.RawMessage{}, errs: new([]parley.FieldError)}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil
	}
	if json.Valid(body) {
		if raw, ok := splitObject(body); ok {
			f.raw = raw
			return f, nil
		}
	}
	if err := json.Unmarshal(body, &f.raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) || bytes.HasPrefix(bytes.TrimSpace(body), []byte("null")) {
			return nil, &parley.Error{Code: parley.ValidationException, Reason: parley.ReasonOther,
				Message: "request body must be a JSON object"}
		}
		return nil, &parley.Error{Code: parley.ValidationException, Reason: parley.ReasonOther,
			Message: "malformed JSON request body: " + err.Error()}
	}
	if f.raw == nil { // the body was null
		return nil, &parley.Error{Code: parley.ValidationException, Reason: parley.ReasonOther,
			Message: "request body must be a JSON object"}
	}
	return f, nil
}

// err returns the collected violations as one ValidationException, or nil.
func (f *fields) err() error {
	errs := *f.errs
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Name + ": " + e.Message
	}
	return &parley.Error{
		Code:    parley.ValidationException,
		Message: strings.Join(msgs, "; "),
		Reason:  parley.ReasonFieldValidationFailed,
		Fields:  errs,
	}
}

func (f *fields) path(name string) string { return f.prefix + name }

// fail records a violation of member name.
func (f *fields) fail(name, format string, args ...any) {
	*f.errs = append(*f.errs, parley.FieldError{Name: f.path(name), Message: fmt.Sprintf(format, args...)})
}

// get returns the raw value of member name; false when absent or null.
func (f *fields) get(name string) (json.RawMessage, bool) {
	v, ok := f.raw[name]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// required records a violation when member name is absent or null.
func (f *fields) required(name string) {
	if _, ok := f.get(name); !ok {
		f.fail(name, "is required")
	}
}

// str decodes a string member; nil when absent or not a string.
func (f *fields) str(name string) *string {
	v, ok := f.get(name)
	if !ok {
		return nil
	}
	s, ok := decodeString(v)
	if !ok {
		f.fail(name, "must be a string")
		return nil
	}
	return &s
}

func decodeString(v json.RawMessage) (string, bool) {
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	if s, ok := plainString(v); ok {
		return s, true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// integer decodes an integer member; nil when absent or not an integer.
// Values beyond ±2^31 are reported as out of range.
func (f *fields) integer(name string) *int {
	v, ok := f.get(name)
	if !ok {
		return nil
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		f.fail(name, "must be an integer")
		return nil
	}
	n, err := strconv.ParseInt(string(v), 10, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			f.fail(name, "is out of range")
		} else {
			f.fail(name, "must be an integer")
		}
		return nil
	}
	i := int(n)
	return &i
}

// object decodes a structure member; nil when absent or not an object.
func (f *fields) object(name string) *fields {
	v, ok := f.get(name)
	if !ok {
		return nil
	}
	sub := &fields{prefix: f.path(name) + ".", errs: f.errs}
	if v[0] == '{' {
		sub.raw, _ = splitObject(v)
	}
	if sub.raw == nil && (v[0] != '{' || json.Unmarshal(v, &sub.raw) != nil) {
		f.fail(name, "must be an object")
		return nil
	}
	return sub
}

// strList decodes a list of strings; nil when absent, a pointer to an empty
// slice for [].
func (f *fields) strList(name string) *[]string {
	v, ok := f.get(name)
	if !ok {
		return nil
	}
	raws, ok := splitArray(v)
	if !ok && (v[0] != '[' || json.Unmarshal(v, &raws) != nil) {
		f.fail(name, "must be a list")
		return nil
	}
	out := make([]string, 0, len(raws))
	for _, r := range raws {
		s, ok := decodeString(r)
		if !ok {
			f.fail(name, "must be a list of strings")
			return nil
		}
		out = append(out, s)
	}
	return &out
}

// strMap decodes a map of strings; nil when absent, an empty non-nil map
// for {}.
func (f *fields) strMap(name string) map[string]string {
	v, ok := f.get(name)
	if !ok {
		return nil
	}
	raws, ok := splitObject(v)
	if !ok && (v[0] != '{' || json.Unmarshal(v, &raws) != nil) {
		f.fail(name, "must be a map of strings")
		return nil
	}
	out := make(map[string]string, len(raws))
	for k, r := range raws {
		s, ok := decodeString(r)
		if !ok {
			f.fail(name, "must be a map of strings")
			return nil
		}
		out[k] = s
	}
	return out
}
