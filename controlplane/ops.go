package controlplane

import (
	"context"
	"strings"
	"time"

	"github.com/parleychat/parley"
)

// operations maps every API operation name to its decoder and handler.
var operations = map[string]operation{
	"CreateChatToken":            op(decodeCreateChatToken, (*Server).createChatToken),
	"CreateRoom":                 op(decodeCreateRoom, (*Server).createRoom),
	"GetRoom":                    op(decodeRoomIdentifier, (*Server).getRoom),
	"UpdateRoom":                 op(decodeUpdateRoom, (*Server).updateRoom),
	"DeleteRoom":                 op(decodeRoomIdentifier, (*Server).deleteRoom),
	"ListRooms":                  op(decodeListRooms, (*Server).listRooms),
	"CreateLoggingConfiguration": op(decodeCreateLogging, (*Server).createLogging),
	"GetLoggingConfiguration":    op(decodeLoggingIdentifier, (*Server).getLogging),
	"UpdateLoggingConfiguration": op(decodeUpdateLogging, (*Server).updateLogging),
	"DeleteLoggingConfiguration": op(decodeLoggingIdentifier, (*Server).deleteLogging),
	"ListLoggingConfigurations":  op(decodeListLogging, (*Server).listLogging),
	"SendEvent":                  op(decodeSendEvent, (*Server).sendEvent),
	"DeleteMessage":              op(decodeDeleteMessage, (*Server).deleteMessage),
	"DisconnectUser":             op(decodeDisconnectUser, (*Server).disconnectUser),
	"ListTagsForResource":        op(decodeListTags, (*Server).listTags),
	"TagResource":                op(decodeTagResource, (*Server).tagResource),
	"UntagResource":              op(decodeUntagResource, (*Server).untagResource),
}

// op adapts typed decode and run functions to an operation.
func op[In any](decode func(*Server, *request) (*In, error), run func(*Server, context.Context, *In) (any, error)) operation {
	return operation{
		decode: func(s *Server, r *request) (any, error) {
			in, err := decode(s, r)
			if err != nil {
				return nil, err
			}
			return in, nil
		},
		run: func(s *Server, ctx context.Context, in any) (any, error) { return run(s, ctx, in.(*In)) },
	}
}

// resolve returns the bare ID of an ARN that names a resource of type
// resource in this server's region and account, and ResourceNotFound
// otherwise.
func (s *Server) resolve(arn, resource string) (string, error) {
	a, err := parley.ParseARN(arn)
	if err != nil || a.Resource != resource || a.Region != s.Region || a.AccountID != s.AccountID || !parley.ValidID(a.ID) {
		id := arn
		if i := strings.LastIndexByte(arn, '/'); i >= 0 {
			id = arn[i+1:]
		}
		return "", parley.NotFound(resourceWord(resource), id)
	}
	return a.ID, nil
}

func resourceWord(resource string) string {
	if resource == parley.ResourceLoggingConfiguration {
		return "logging configuration"
	}
	return "room"
}

// arn returns the ARN of a resource of this server.
func (s *Server) arn(resource, id string) string {
	return parley.ARN{Region: s.Region, AccountID: s.AccountID, Resource: resource, ID: id}.String()
}

// stamp returns the current time cut to milliseconds, so that what is stored
// equals what is shown.
func (s *Server) stamp() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// quota turns a Quotas member into the store's limit: 0 for unlimited.
func quota(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
