package loadtest

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH                     = 760, 320
	padL, padR, padT, padB             = 64, 16, 44, 40
	plotW, plotH                       = chartW - padL - padR, chartH - padT - padB
	colorP50, colorP99, colorMax, grey = "#1f77b4", "#ff7f0e", "#d62728", "#999"
)

// series is one line of a line chart.
type series struct {
	name  string
	color string
	y     []float64
}

// axis maps values to pixels, linearly or logarithmically.
type axis struct {
	lo, hi float64
	log    bool
	px     float64 // length in pixels
}

func (a axis) pos(v float64) float64 {
	if a.log {
		v = math.Log10(math.Max(v, a.lo))
		return (v - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo)) * a.px
	}
	return (v - a.lo) / (a.hi - a.lo) * a.px
}

// ticks returns tick values: powers of ten (and 2, 5 between) on a log axis,
// about five round numbers on a linear one.
func (a axis) ticks() []float64 {
	var out []float64
	if a.log {
		for e := math.Floor(math.Log10(a.lo)); e <= math.Ceil(math.Log10(a.hi)); e++ {
			for _, m := range []float64{1, 2, 5} {
				if v := m * math.Pow(10, e); v >= a.lo && v <= a.hi {
					out = append(out, v)
				}
			}
		}
		return out
	}
	step := niceStep((a.hi - a.lo) / 5)
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step/1e6; v += step {
		out = append(out, v)
	}
	return out
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// fmtTick prints a tick label compactly.
func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case math.Abs(v) >= 1e4:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

// svgFrame writes the opening tag, title, axes and grid of a chart.
func svgFrame(b *strings.Builder, title, xLabel, yLabel string, x, y axis) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif" font-size="11">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(b, `<text x="%d" y="16" font-size="13" font-weight="bold">%s</text>`, padL, html.EscapeString(title))
	fmt.Fprintf(b, `<g transform="translate(%d,%d)">`, padL, padT)
	for _, t := range y.ticks() {
		py := float64(plotH) - y.pos(t)
		fmt.Fprintf(b, `<line x1="0" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>`, plotW, py, py)
		fmt.Fprintf(b, `<text x="-6" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, py, fmtTick(t))
	}
	for _, t := range x.ticks() {
		px := x.pos(t)
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#ccc"/>`, px, px, plotH, plotH+4)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, px, plotH+16, fmtTick(t))
	}
	fmt.Fprintf(b, `<rect x="0" y="0" width="%d" height="%d" fill="none" stroke="%s"/>`, plotW, plotH, grey)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, plotW/2, plotH+32, html.EscapeString(xLabel))
	fmt.Fprintf(b, `<text transform="translate(-48,%d) rotate(-90)" text-anchor="middle">%s</text>`, plotH/2, html.EscapeString(yLabel))
}

// lineChart draws series against xs. With logY, values ≤ 0 are left out.
func lineChart(title, yLabel string, xs []float64, ss []series, logY bool, phases []phaseSpan) string {
	var b strings.Builder
	if len(xs) == 0 {
		return ""
	}
	x := axis{lo: 0, hi: math.Max(xs[len(xs)-1], 1), px: plotW}
	y := yAxis(ss, logY)
	svgFrame(&b, title, "seconds since start", yLabel, x, y)
	for _, p := range phases {
		x0, x1 := x.pos(p.from), x.pos(p.to)
		fmt.Fprintf(&b, `<text x="%.1f" y="-6" text-anchor="middle" fill="%s">%s</text>`, (x0+x1)/2, grey, html.EscapeString(p.name))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="0" y2="%d" stroke="#ddd" stroke-dasharray="3,3"/>`, x1, x1, plotH)
	}
	lx := plotW - 110*len(ss)
	for i, s := range ss {
		var pts []string
		for j, v := range s.y {
			if j >= len(xs) || (logY && v <= 0) {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x.pos(xs[j]), float64(plotH)-y.pos(v)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, s.color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="3" fill="%s"/><text x="%d" y="%d" dominant-baseline="middle">%s</text>`,
			lx+i*110, -30, s.color, lx+14+i*110, -28, html.EscapeString(s.name))
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// yAxis fits an axis to every value of ss.
func yAxis(ss []series, logY bool) axis {
	lo, hi := math.Inf(1), 0.0
	for _, s := range ss {
		for _, v := range s.y {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 1
	}
	if logY {
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if hi <= lo {
			hi = lo * 10
		}
		return axis{lo: lo, hi: hi, log: true, px: plotH}
	}
	return axis{lo: 0, hi: niceStep(hi*1.05/5) * 5, px: plotH}
}

// phaseSpan is the time range of one phase of the run.
type phaseSpan struct {
	name     string
	from, to float64
}

// phasesOf finds the phases in a timeline.
func phasesOf(tl []Sample) []phaseSpan {
	var out []phaseSpan
	prev := 0.0
	for _, s := range tl {
		if len(out) == 0 || out[len(out)-1].name != s.Phase {
			out = append(out, phaseSpan{name: s.Phase, from: prev})
		}
		out[len(out)-1].to = s.T
		prev = s.T
	}
	return out
}

// histChart draws the latency distribution: the share of deliveries per
// bin, bins spaced logarithmically, with percentile markers.
func histChart(bs []Bucket, l Latency) string {
	if len(bs) == 0 {
		return ""
	}
	const perDecade = 20
	lo := math.Pow(10, math.Floor(math.Log10(math.Max(bs[0].LowMs, 0.001))))
	hi := math.Pow(10, math.Ceil(math.Log10(math.Max(bs[len(bs)-1].HighMs, lo*10))))
	bins := make([]float64, int(math.Round(math.Log10(hi/lo)*perDecade)))
	var total float64
	for _, bk := range bs {
		mid := math.Max((bk.LowMs+bk.HighMs)/2, lo)
		i := min(int(math.Log10(mid/lo)*perDecade), len(bins)-1)
		bins[i] += float64(bk.Count)
		total += float64(bk.Count)
	}
	peak := 0.0
	for i := range bins {
		bins[i] = 100 * bins[i] / total
		peak = math.Max(peak, bins[i])
	}
	x := axis{lo: lo, hi: hi, log: true, px: plotW}
	y := axis{lo: 0, hi: niceStep(peak*1.05/5) * 5, px: plotH}
	var b strings.Builder
	svgFrame(&b, "Latency distribution", "end-to-end latency (ms, log scale)", "% of deliveries", x, y)
	for i, v := range bins {
		if v == 0 {
			continue
		}
		x0 := x.pos(lo * math.Pow(10, float64(i)/perDecade))
		x1 := x.pos(lo * math.Pow(10, float64(i+1)/perDecade))
		h := y.pos(v)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x0, float64(plotH)-h, math.Max(x1-x0-1, 1), h, colorP50)
	}
	marks := []struct {
		name  string
		v     float64
		color string
	}{{"p50", l.P50Ms, colorP50}, {"p99", l.P99Ms, colorP99}, {"max", l.MaxMs, colorMax}}
	for i, m := range marks {
		px := x.pos(math.Max(m.v, lo))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="0" y2="%d" stroke="%s" stroke-dasharray="4,2"/>`, px, px, plotH, m.color)
		tx, anchor := px+3, "start"
		if px > plotW-90 {
			tx, anchor = px-3, "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s" text-anchor="%s">%s %s</text>`, tx, 12+i*12, m.color, anchor, m.name, fmtMs(m.v))
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}
