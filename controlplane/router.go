// Package controlplane serves the Amazon IVS Chat control-plane HTTP API
// (restJson1): rooms, logging configurations, chat tokens, tags, and the
// SendEvent / DeleteMessage / DisconnectUser operations that act on live
// rooms through the Bus.
package controlplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/parleychat/parley"
	"github.com/parleychat/parley/roomevent"
	"github.com/prometheus/client_golang/prometheus"
)

// MaxBodySize is the largest request body accepted, in bytes.
const MaxBodySize = 1 << 20

// Authenticator verifies a request's signature. body is the whole request
// body. Its errors are *parley.Error values with the AWS authentication codes
// (InvalidSignatureException, UnrecognizedClientException, …).
type Authenticator interface {
	Verify(r *http.Request, body []byte) (accessKeyID string, err error)
}

// Authorizer says whether an access key may call an operation, named as in
// the API ("CreateRoom").
type Authorizer interface {
	Allowed(accessKeyID, operation string) bool
}

// TokenSealer turns chat-token claims into the opaque token string.
type TokenSealer interface {
	Seal(t *parley.ChatToken) (string, error)
}

// DestinationChecker checks that a logging destination exists. It returns
// ResourceNotFoundException when the bucket, log group or delivery stream
// does not exist.
type DestinationChecker interface {
	CheckDestination(ctx context.Context, d parley.DestinationConfiguration) error
}

// Quotas are the resource quotas of the account. Zero means the AWS default
// (50,000 rooms, 10 logging configurations); negative means unlimited.
type Quotas struct {
	MaxRooms                 int
	MaxLoggingConfigurations int
}

// Server serves the control-plane API. Set its fields before the first
// request and do not change them afterwards.
type Server struct {
	Store  parley.Store
	Bus    parley.Bus
	Tokens TokenSealer
	// Auth authenticates requests; nil means no authentication (tests only).
	Auth Authenticator
	// Authz authorizes operations; nil lets every key call everything.
	Authz Authorizer
	// Limiter enforces the API rate limits; nil turns them off.
	Limiter parley.Limiter
	// RateLimits are transactions per second per operation; nil means
	// DefaultRateLimits().
	RateLimits map[string]int
	// ChatLog records the events of SendEvent, DeleteMessage and
	// DisconnectUser after they were published; nil means none.
	ChatLog parley.ChatLog
	// Destinations checks logging destinations; nil means unchecked.
	Destinations DestinationChecker
	// Region and AccountID make up ARNs; ARNs with others are not found.
	Region, AccountID string
	// MaxRoomRate is the highest maximumMessageRatePerSecond accepted.
	// Zero means 100.
	MaxRoomRate int
	Quotas      Quotas
	// Logger logs failed requests; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the API metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PaginationKey authenticates pagination tokens. Nil means a random key
	// per process: tokens then do not survive a restart or cross nodes.
	PaginationKey []byte

	initOnce sync.Once
	events   *roomevent.Service
	metrics  *metrics
	pageKey  []byte
}

// DefaultRateLimits returns the documented API rate quotas of IVS Chat in
// transactions per second, by operation.
func DefaultRateLimits() map[string]int {
	m := map[string]int{"CreateChatToken": 200}
	for _, op := range []string{"DeleteMessage", "DisconnectUser", "SendEvent"} {
		m[op] = 100
	}
	for _, op := range []string{"CreateLoggingConfiguration", "DeleteLoggingConfiguration",
		"GetLoggingConfiguration", "ListLoggingConfigurations", "UpdateLoggingConfiguration"} {
		m[op] = 3
	}
	for _, op := range []string{"CreateRoom", "DeleteRoom", "GetRoom", "ListRooms", "UpdateRoom"} {
		m[op] = 5
	}
	for _, op := range []string{"ListTagsForResource", "TagResource", "UntagResource"} {
		m[op] = 10
	}
	return m
}

// request is an HTTP request reduced to what decoding needs.
type request struct {
	body  []byte
	arn   string     // the {resourceArn} label, unescaped
	query url.Values // the query string
}

// operation is one API operation: decode checks the input; run executes it
// and returns the response body (noContent for 204).
type operation struct {
	decode func(s *Server, req *request) (any, error)
	run    func(s *Server, ctx context.Context, in any) (any, error)
}

// noContent is the response of the operations that answer 204.
type noContent struct{}

// resourceScoped is implemented by inputs that name a room or logging
// configuration, so that a ThrottlingException can report its ID.
type resourceScoped interface{ resourceARN() string }

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.events = &roomevent.Service{Store: s.Store, Bus: s.Bus, ChatLog: s.ChatLog, Logger: s.Logger, Now: s.Now}
		s.pageKey = s.PaginationKey
		if len(s.pageKey) == 0 {
			s.pageKey = randomKey()
		}
		if s.Registerer != nil {
			s.metrics = newMetrics(s.Registerer)
		}
	})
}

// route finds the operation of r: POST /<Operation> or /tags/{resourceArn}.
func route(r *http.Request) (name, arn string, ok bool) {
	p := r.URL.EscapedPath()
	if rest, isTags := strings.CutPrefix(p, "/tags/"); isTags {
		arn, err := url.PathUnescape(rest)
		if err != nil {
			return "", "", false
		}
		switch r.Method {
		case http.MethodGet:
			return "ListTagsForResource", arn, true
		case http.MethodPost:
			return "TagResource", arn, true
		case http.MethodDelete:
			return "UntagResource", arn, true
		}
		return "", "", false
	}
	name = strings.TrimPrefix(p, "/")
	if _, ok := operations[name]; !ok || r.Method != http.MethodPost || tagOperations[name] {
		return "", "", false
	}
	return name, "", true
}

// tagOperations are served on /tags/{resourceArn} only.
var tagOperations = map[string]bool{"ListTagsForResource": true, "TagResource": true, "UntagResource": true}

// ServeHTTP serves one control-plane request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	start := time.Now()
	requestID := uuid.NewString()
	w.Header()[headerRequestID] = []string{requestID}
	name, arn, ok := route(r)
	label := name
	if !ok {
		label = "unknown"
	}
	status, code := http.StatusOK, parley.ErrorCode("")
	defer func() { s.metrics.observe(label, status, code, start, time.Now()) }()
	if !ok {
		err := &parley.Error{Code: parley.ValidationException, Reason: parley.ReasonUnknownOperation,
			Message: "unknown operation " + r.Method + " " + r.URL.EscapedPath()}
		status, code = s.writeError(w, r, label, requestID, err)
		return
	}
	resp, err := s.handle(w, r, name, arn)
	if err != nil {
		status, code = s.writeError(w, r, name, requestID, err)
		return
	}
	if _, empty := resp.(noContent); empty {
		status = http.StatusNoContent
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, resp)
}

// handle reads, authenticates, authorizes, decodes, throttles and runs one
// request.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, name, arn string) (any, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	akid := ""
	if s.Auth != nil {
		if akid, err = s.Auth.Verify(r, body); err != nil {
			return nil, err
		}
	}
	if s.Authz != nil && !s.Authz.Allowed(akid, name) {
		return nil, parley.Errorf(parley.AccessDeniedException,
			"access key %s is not allowed to call ivschat:%s", akid, name)
	}
	op := operations[name]
	in, err := op.decode(s, &request{body: body, arn: arn, query: r.URL.Query()})
	if err != nil {
		return nil, err
	}
	if err := s.throttle(name, in); err != nil {
		return nil, err
	}
	return op.run(s, r.Context(), in)
}

// headerRequestID is x-amzn-RequestId in the canonical form of http.Header,
// so that setting it does not canonicalize the name on every request.
const headerRequestID = "X-Amzn-Requestid"

// readBody reads at most MaxBodySize bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := &parley.Error{Code: parley.ValidationException, Reason: parley.ReasonOther,
		Message: "request body is larger than 1 MiB"}
	if r.ContentLength > MaxBodySize {
		return nil, tooLarge
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, MaxBodySize), r.ContentLength)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &parley.Error{Code: parley.ValidationException, Reason: parley.ReasonOther,
			Message: "cannot read request body: " + err.Error()}
	}
	return body, nil
}

// readAll is io.ReadAll with a first buffer sized for a body of the given
// length (when known), so that a whole body is read without regrowing.
func readAll(rd io.Reader, length int64) ([]byte, error) {
	n := 512
	if length > 0 && length < MaxBodySize {
		n = int(length) + 1 // room to read EOF without growing
	}
	b := make([]byte, 0, n)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// throttle applies the operation's API rate limit.
func (s *Server) throttle(name string, in any) error {
	if s.Limiter == nil {
		return nil
	}
	limits := s.RateLimits
	if limits == nil {
		limits = defaultRateLimits
	}
	limit, ok := limits[name]
	if !ok || limit <= 0 || s.Limiter.Allow("api:"+name, limit) {
		return nil
	}
	id := ""
	if rs, ok := in.(resourceScoped); ok {
		if a, err := parley.ParseARN(rs.resourceARN()); err == nil {
			id = a.ID
		}
	}
	return &parley.Error{Code: parley.ThrottlingException, Limit: limit,
		ResourceID: id, ResourceType: parley.ResourceTypeRoom,
		Message: "rate of " + name + " requests exceeded"}
}

var defaultRateLimits = DefaultRateLimits()

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
