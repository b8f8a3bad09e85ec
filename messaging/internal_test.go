package messaging

import (
	"testing"

	"github.com/parleychat/parley"
)

func TestRoomRate(t *testing.T) {
	for _, tc := range []struct {
		room, ceiling, want int
	}{
		{10, 0, 10},
		{100, 0, 100},
		{100, 1000, 1000}, // operator raised the ceiling: rooms at the model maximum follow it
		{50, 1000, 50},
		{50, 20, 20}, // operator lowered the ceiling
		{0, 0, parley.DefaultMaximumMessageRatePerSecond},
	} {
		if got := roomRate(&parley.Room{MaximumMessageRatePerSecond: tc.room}, tc.ceiling); got != tc.want {
			t.Errorf("roomRate(room=%d, MaxRoomRate=%d)=%d, want %d", tc.room, tc.ceiling, got, tc.want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for code, want := range map[parley.ErrorCode]int{
		parley.ValidationException:       400,
		parley.Unauthorized:              401,
		parley.AccessDeniedException:     403,
		parley.ResourceNotFoundException: 404,
		parley.MessageRejected:           406,
		parley.PayloadTooLarge:           413,
		parley.ThrottlingException:       429,
		parley.InternalServerException:   500,
		parley.ConflictException:         500,
	} {
		if got := errorCode(code); got != want {
			t.Errorf("errorCode(%s)=%d, want %d", code, got, want)
		}
	}
}
