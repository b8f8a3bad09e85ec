package parley_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parleychat/parley"
)

func TestSystemEventAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  map[string]string
		want map[string]string
	}{
		{"DeleteMessage", parley.DeleteMessageAttributes("M2YcHkgffEvU", "spam"),
			map[string]string{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU", "Reason": "spam"}},
		{"DeleteMessageNoReason", parley.DeleteMessageAttributes("M2YcHkgffEvU", ""),
			map[string]string{"MessageID": "M2YcHkgffEvU", "MessageId": "M2YcHkgffEvU"}},
		{"DisconnectUser", parley.DisconnectUserAttributes("u1", "bye"), map[string]string{"UserId": "u1", "Reason": "bye"}},
		{"DisconnectUserNoReason", parley.DisconnectUserAttributes("u1", ""), map[string]string{"UserId": "u1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got); diff != "" {
				t.Fatalf("Attributes (-want +got):\n%s", diff)
			}
		})
	}
}
