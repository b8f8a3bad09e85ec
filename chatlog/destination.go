package chatlog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/parleychat/parley"
)

// queueName names the spool queue of a destination: readable, a valid file
// name, and unique thanks to a hash of kind and name.
func queueName(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name))
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 40 {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return kind + "-" + b.String() + "-" + hex.EncodeToString(sum[:6])
}

// CheckDestination returns ResourceNotFoundException when the bucket, log
// group or delivery stream of d does not exist. Local destinations always
// exist. It implements controlplane.DestinationChecker.
func (l *Logger) CheckDestination(ctx context.Context, d parley.DestinationConfiguration) error {
	dest, err := l.newDestination(d)
	if err != nil {
		return parley.Errorf(parley.ValidationException, "%v", err)
	}
	return dest.Check(ctx)
}

func encodeMeta(c parley.DestinationConfiguration) ([]byte, error) {
	return json.Marshal(c)
}

func decodeMeta(b []byte) (parley.DestinationConfiguration, error) {
	var c parley.DestinationConfiguration
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	_, _, err := kindOf(c)
	return c, err
}
