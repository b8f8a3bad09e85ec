package loadtest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/parleychat/parley"
)

// sampleResult is a result as a run with a server PID would produce it.
func sampleResult() *Result {
	var h Hist
	for i := range uint64(5000) {
		h.Record(200 + i%800 + (i%97)*40)
	}
	res := &Result{URL: "http://127.0.0.1:8080", WSURL: "ws://127.0.0.1:8080/", Conns: 100, Rooms: 2, Senders: 4, Rate: 40,
		Connected: 100, Sent: 80, Expected: 4000, Delivered: 3990, Lost: 10, LossyReceivers: 1,
		ConnectFailures: map[string]int{}, Errors: map[string]int{"429": 3}, ErrorMessages: map[string]string{"429": "<slow & down>"},
		Latency: summarize(&h), LatencyBuckets: buckets(&h), Server: &ServerStats{PID: 42, RSSPeakBytes: 50 << 20}}
	for i := range 12 {
		phase := map[bool]string{true: "connect", false: "send"}[i < 3]
		res.Timeline = append(res.Timeline, Sample{T: float64(i + 1), Phase: phase, Conns: 100, SentPerSecond: 40,
			DeliveriesPerSecond: 2000 + float64(i), P50Ms: 0.5 + float64(i)/10, P99Ms: 3, MaxMs: 12,
			ServerRSSBytes: uint64(40+i) << 20, ServerCPUPercent: 30})
	}
	res.Failures = failures(res)
	return res
}

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleResult()); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	page := b.String()
	for _, want := range []string{"Latency over time", "Latency distribution", "<polyline", "<rect", "FAIL", "&lt;slow &amp; down&gt;", "p99"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 4 {
		t.Errorf("report has %d charts, want 4 (latency, throughput, server, distribution)", n)
	}
	for _, bad := range []string{"<script", "src=", "href=", "NaN", "Inf"} {
		if strings.Contains(page, bad) {
			t.Errorf("report contains %q; it must be self-contained and finite", bad)
		}
	}
	// Every chart is well-formed XML.
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1) {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chart is not well-formed: %v", err)
			}
		}
	}
}

func TestWriteHTMLEmpty(t *testing.T) {
	var b bytes.Buffer
	res := &Result{Failures: []string{"no message was sent"}}
	if err := WriteHTML(&b, res); err != nil {
		t.Fatalf("WriteHTML of an empty result: %v", err)
	}
	if strings.Contains(b.String(), "NaN") {
		t.Fatal("empty report contains NaN")
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	WriteTable(&b, sampleResult())
	out := b.String()
	for _, want := range []string{"lost", "10 (at 1 connections)", "p99", "429: 3", "server RSS", "per million deliveries", "FAIL: 10 deliveries lost"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFailures(t *testing.T) {
	ok := &Result{Sent: 10, Errors: map[string]int{}}
	if f := failures(ok); len(f) != 0 {
		t.Fatalf("failures of a clean run: %v", f)
	}
	bad := &Result{Sent: 10, Duplicated: 1, UnexpectedErrors: 2, Errors: map[string]int{"500": 2}}
	if f := failures(bad); len(f) != 2 {
		t.Fatalf("failures=%v, want duplicates and unexpected errors", f)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&handshakeError{status: 401}, "HTTP 401"},
		{errNoEcho, "subprotocol not echoed"},
		{&websocket.CloseError{Code: 1008}, "close 1008"},
		{fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "connection refused"},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("bind", syscall.EADDRNOTAVAIL)}, "no source port"},
		{fmt.Errorf("CreateChatToken: %w", parley.Errorf(parley.ResourceNotFoundException, "x")), "ResourceNotFoundException"},
		{io.ErrUnexpectedEOF, "EOF"},
		{errors.New("boom"), "other: boom"},
	}
	for _, tt := range tests {
		if got := reason(tt.err); got != tt.want {
			t.Errorf("reason(%v)=%q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestProc(t *testing.T) {
	cpu, err := parseStatCPU([]byte("123 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 1 0"))
	if err != nil || cpu != 4 {
		t.Fatalf("parseStatCPU=%v, %v; want 4 s (400 ticks)", cpu, err)
	}
	if kb := parseStatusKB([]byte("Name:\tx\nVmRSS:\t  1234 kB\n"), "VmRSS:"); kb != 1234 {
		t.Fatalf("VmRSS=%d, want 1234", kb)
	}
	ps, err := readProc(os.Getpid())
	if err != nil || ps.RSS == 0 {
		t.Fatalf("readProc(self)=%+v, %v", ps, err)
	}
	if _, err := readProc(1 << 30); err == nil {
		t.Fatal("readProc of a missing process succeeded")
	}
}
