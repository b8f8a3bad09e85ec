package loadtest

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stillSource is a liveSource that does not change.
type stillSource struct{}

func (stillSource) live() liveStats { return liveStats{hist: &Hist{}, cpu: selfCPU()} }

// TestMonitorSeveralPIDs samples this process and a child as two server
// nodes and checks the sums, the per-node figures and CPU per million
// deliveries.
func TestMonitorSeveralPIDs(t *testing.T) {
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatalf("start a second process: %v", err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	pids := []int{os.Getpid(), child.Process.Pid}
	m := newMonitor(stillSource{}, pids, 1, nil, time.Now())
	m.markConnected()
	m.markSendStart()
	for t0 := selfCPU(); selfCPU()-t0 < 0.05; {
	} // burn CPU in the "server" that is this process
	m.markSendEnd()
	m.markDrainEnd()
	m.stop()
	s := m.serverStats(2_000_000, 10)
	if diff := cmp.Diff(pids, s.PIDs); diff != "" || len(s.Nodes) != 2 {
		t.Fatalf("pids (-want +got):\n%s nodes=%d", diff, len(s.Nodes))
	}
	a, b := s.Nodes[0], s.Nodes[1]
	if s.RSSPeakBytes != a.RSSPeakBytes+b.RSSPeakBytes || a.RSSPeakBytes == 0 || b.RSSPeakBytes == 0 {
		t.Fatalf("rss peak %d, want %d+%d, both non-zero", s.RSSPeakBytes, a.RSSPeakBytes, b.RSSPeakBytes)
	}
	if a.CPUSecondsDelivery < 0.04 || s.CPUSecondsDelivery != a.CPUSecondsDelivery+b.CPUSecondsDelivery {
		t.Fatalf("delivery cpu %v (nodes %v, %v), want the sum and at least 0.04 s here", s.CPUSecondsDelivery, a.CPUSecondsDelivery, b.CPUSecondsDelivery)
	}
	if got, want := s.CPUSecondsPerMillionDeliveries, s.CPUSecondsDelivery/2; got != want {
		t.Fatalf("cpu per million deliveries=%v, want %v (2 million deliveries)", got, want)
	}
	if s.Error != "" {
		t.Fatalf("sampling error %q", s.Error)
	}
}

func TestResolvePIDs(t *testing.T) {
	got, err := resolvePIDs(" 7, 9,7")
	if diff := cmp.Diff([]int{7, 9}, got); diff != "" || err != nil {
		t.Fatalf("resolvePIDs (-want +got):\n%s err=%v", diff, err)
	}
	for _, bad := range []string{"x", "1,x", "0", "1,,2"} {
		if _, err := resolvePIDs(bad); err == nil {
			t.Errorf("resolvePIDs(%q) succeeded, want an error", bad)
		}
	}
}
