package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable writes res as a readable table.
func WriteTable(w io.Writer, res *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range tableRows(res) {
		if row[0] == "" {
			fmt.Fprintln(tw)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	tw.Flush()
}

// rows collects (label, value) pairs; a pair whose label is empty is a
// section break.
type rows [][2]string

func (r *rows) add(k, format string, a ...any) {
	*r = append(*r, [2]string{k, fmt.Sprintf(format, a...)})
}
func (r *rows) brk() { *r = append(*r, [2]string{"", ""}) }

// tableRows returns the report as rows. The HTML report uses the same rows.
func tableRows(res *Result) rows {
	var r rows
	r.add("target", "%s (ws %s)", res.URL, res.WSURL)
	r.add("load", "%d conns, %d rooms, %d senders, rate %s, payload %d B, window %d",
		res.Conns, res.Rooms, res.Senders, rateText(res.Rate), res.Payload, res.Window)
	r.brk()
	r.add("connected", "%d of %d in %.2fs (%.0f conns/s)", res.Connected, res.Conns, res.ConnectSeconds, res.ConnsPerSecond)
	r.add("connect time", "p50 %s  p99 %s  max %s", fmtMs(res.ConnectLatency.P50Ms), fmtMs(res.ConnectLatency.P99Ms), fmtMs(res.ConnectLatency.MaxMs))
	r.add("connect failures", "%s", countsText(res.ConnectFailures))
	if res.ControlPlaneRetries > 0 {
		r.add("control-plane retries", "%d (throttling or server errors)", res.ControlPlaneRetries)
	}
	r.add("disconnects", "%s", countsText(res.Disconnects))
	r.brk()
	messageRows(&r, res)
	r.brk()
	resourceRows(&r, res)
	r.brk()
	if len(res.Failures) == 0 {
		r.add("result", "PASS")
	} else {
		r.add("result", "FAIL: %s", strings.Join(res.Failures, "; "))
	}
	return r
}

// messageRows describes what was sent and delivered.
func messageRows(r *rows, res *Result) {
	r.add("sent", "%d by %d senders in %.2fs (%.0f msg/s), %d refused", res.Sent, res.ActiveSenders, res.SendSeconds, res.SentPerSecond, res.Rejected)
	if len(res.SendFailures) > 0 {
		r.add("send failures", "%s", countsText(res.SendFailures))
	}
	r.add("delivered", "%d of %d expected (%.0f/s, peak %.0f/s)", res.Delivered, res.Expected, res.DeliveriesPerSecond, res.PeakDeliveriesPerSecond)
	r.add("drain", "%.2fs, %s", res.DrainSeconds, map[bool]string{true: "complete", false: "timed out"}[res.DrainComplete])
	r.add("lost", "%d (at %d connections)", res.Lost, res.LossyReceivers)
	r.add("duplicated", "%d", res.Duplicated)
	if res.Spurious > 0 || res.Foreign > 0 {
		r.add("misdelivered", "%d refused, %d from another room", res.Spurious, res.Foreign)
	}
	for _, s := range res.LossSamples {
		r.add("  loss", "%s", s)
	}
	l := res.Latency
	r.add("latency", "p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s",
		fmtMs(l.P50Ms), fmtMs(l.P90Ms), fmtMs(l.P99Ms), fmtMs(l.P999Ms), fmtMs(l.MaxMs), fmtMs(l.MeanMs))
	r.add("ERROR frames", "%s (%d unexpected)", countsText(res.Errors), res.UnexpectedErrors)
	for _, code := range slices.Sorted(maps.Keys(res.ErrorMessages)) {
		r.add("  "+code, "%s", res.ErrorMessages[code])
	}
}

// resourceRows describes the server's and the client's memory and CPU.
func resourceRows(r *rows, res *Result) {
	if s := res.Server; s != nil {
		if len(s.PIDs) > 1 {
			r.add("server pids", "%s (figures are sums)", intsText(s.PIDs))
		} else {
			r.add("server pid", "%d", s.PID)
		}
		r.add("server RSS", "start %s  connected %s  peak %s  end %s  (%.1f KiB/conn)",
			fmtBytes(s.RSSStartBytes), fmtBytes(s.RSSConnectedBytes), fmtBytes(s.RSSPeakBytes), fmtBytes(s.RSSEndBytes), s.RSSPerConnBytes/1024)
		r.add("server CPU", "%.2fs while sending (%.0f%%), %.2fs in all", s.CPUSecondsSend, 100*rate(s.CPUSecondsSend, res.SendSeconds), s.CPUSecondsTotal)
		r.add("server CPU/delivery", "%.2fs per million deliveries (%.2fs from first send to end of drain)",
			s.CPUSecondsPerMillionDeliveries, s.CPUSecondsDelivery)
		for _, n := range s.Nodes {
			r.add(fmt.Sprintf("  pid %d", n.PID), "RSS peak %s end %s, CPU %.2fs while sending, %.2fs delivering, %.2fs in all",
				fmtBytes(n.RSSPeakBytes), fmtBytes(n.RSSEndBytes), n.CPUSecondsSend, n.CPUSecondsDelivery, n.CPUSecondsTotal)
		}
		if s.Error != "" {
			r.add("server sampling", "%s", s.Error)
		}
	}
	r.add("client CPU", "%.2fs while sending (%.0f%%), %.2fs in all", res.Client.CPUSecondsSend, 100*rate(res.Client.CPUSecondsSend, res.SendSeconds), res.Client.CPUSecondsTotal)
}

func rateText(r float64) string {
	if r == 0 {
		return "max"
	}
	return fmt.Sprintf("%g msg/s", r)
}

// countsText renders a reason→count map, largest first.
func countsText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func intsText(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
