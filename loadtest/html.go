package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// reportPage is the HTML report: one self-contained file, inline SVG, no
// scripts.
var reportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>parley bench — {{.Title}}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:820px}
table{border-collapse:collapse;margin:12px 0}
td{padding:3px 10px;border-bottom:1px solid #eee;vertical-align:top}
td:first-child{color:#555;white-space:nowrap}
.pass{color:#080;font-weight:bold}.fail{color:#c00;font-weight:bold}
svg{display:block;margin:16px 0;border:1px solid #eee}
</style></head><body>
<h1>parley bench</h1>
<p>{{.Title}} — {{.When}} — <span class="{{if .Pass}}pass{{else}}fail{{end}}">{{if .Pass}}PASS{{else}}FAIL{{end}}</span></p>
<table>{{range .Rows}}{{if .Label}}<tr><td>{{.Label}}</td><td>{{.Value}}</td></tr>{{else}}<tr><td colspan="2">&nbsp;</td></tr>{{end}}{{end}}</table>
<h2>Latency over time</h2>
{{.LatencyChart}}
<h2>Throughput over time</h2>
{{.ThroughputChart}}
{{if .ServerChart}}<h2>Server</h2>
{{.ServerChart}}{{end}}
<h2>Latency distribution</h2>
{{.HistChart}}
<p style="color:#777;font-size:12px">Latency is measured from the sender's clock before writing to the receiver's clock after reading; both run in this process, so it includes the client's own scheduling delays.</p>
</body></html>
`))

type reportRow struct{ Label, Value string }

// WriteHTML writes res as a self-contained HTML page with a latency-over-time
// chart, a throughput chart, a server chart (with a server PID) and a
// latency-distribution chart, all as inline SVG.
func WriteHTML(w io.Writer, res *Result) error {
	var rows []reportRow
	for _, r := range tableRows(res) {
		rows = append(rows, reportRow{r[0], r[1]})
	}
	tl := res.Timeline
	xs := make([]float64, len(tl))
	p50, p99, mx := make([]float64, len(tl)), make([]float64, len(tl)), make([]float64, len(tl))
	deliv, sent, conns := make([]float64, len(tl)), make([]float64, len(tl)), make([]float64, len(tl))
	rss, cpu := make([]float64, len(tl)), make([]float64, len(tl))
	for i, s := range tl {
		xs[i] = s.T
		p50[i], p99[i], mx[i] = s.P50Ms, s.P99Ms, s.MaxMs
		deliv[i], sent[i], conns[i] = s.DeliveriesPerSecond, s.SentPerSecond, float64(s.Conns)
		rss[i], cpu[i] = float64(s.ServerRSSBytes)/(1<<20), s.ServerCPUPercent
	}
	phases := phasesOf(tl)
	data := map[string]any{
		"Title": fmt.Sprintf("%d conns, %d rooms, %d senders, rate %s against %s",
			res.Conns, res.Rooms, res.Senders, rateText(res.Rate), res.URL),
		"When": time.Now().Format(time.RFC3339),
		"Pass": len(res.Failures) == 0,
		"Rows": rows,
		"LatencyChart": template.HTML(lineChart("End-to-end latency per second", "ms (log scale)", xs,
			[]series{{"p50", colorP50, p50}, {"p99", colorP99, p99}, {"max", colorMax, mx}}, true, phases)),
		"ThroughputChart": template.HTML(lineChart("Deliveries, messages sent and connections", "per second / count", xs,
			[]series{{"deliveries/s", colorP50, deliv}, {"sent/s", colorP99, sent}, {"connections", grey, conns}}, true, phases)),
		"HistChart": template.HTML(histChart(res.LatencyBuckets, res.Latency)),
	}
	if res.Server != nil {
		data["ServerChart"] = template.HTML(lineChart("Server RSS and CPU", "MiB / %", xs,
			[]series{{"RSS MiB", colorP50, rss}, {"CPU %", colorMax, cpu}}, false, phases))
	}
	if err := reportPage.Execute(w, data); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}
