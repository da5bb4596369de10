package loadtest

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"strings"
)

// The HTML report is one file with nothing to fetch: the plots are inline
// SVG drawn here, the style inline, no script, and its
// Content-Security-Policy forbids every request, so opening it offline or
// from an archive shows the same thing.

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"f1":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"inc":  func(i int) int { return i + 1 },
	"join": strings.Join,
}).Parse(reportHTML))

// WriteHTML writes the self-contained HTML report to w.
func (r *Result) WriteHTML(w io.Writer) error {
	xs := make([]float64, len(r.Samples))
	col := func(f func(Sample) float64) []float64 {
		ys := make([]float64, len(r.Samples))
		for i, s := range r.Samples {
			xs[i] = s.T
			ys[i] = f(s)
		}
		return ys
	}
	var bounds []float64
	at := 0.0
	for _, s := range r.Steps[:max(len(r.Steps)-1, 0)] {
		at += s.Duration
		bounds = append(bounds, at)
	}
	throughput := plot{ID: "throughput", Title: "Throughput", Unit: "orders/s", Bounds: bounds, Series: []series{
		{"offered", "#7f7f7f", col(func(s Sample) float64 { return float64(s.Offered) })},
		{"accepted", "#1f77b4", col(func(s Sample) float64 { return float64(s.Accepted) })},
		{"confirmed", "#2ca02c", col(func(s Sample) float64 { return float64(s.Confirmed) })},
		{"failed", "#d62728", col(func(s Sample) float64 { return float64(s.Failed) })},
	}}
	latency := plot{ID: "latency", Title: "Latency of the second's orders", Unit: "ms", Bounds: bounds, Series: []series{
		{"accept p99", "#1f77b4", col(func(s Sample) float64 { return s.AcceptP99 })},
		{"place→confirmed p50", "#98df8a", col(func(s Sample) float64 { return s.ConfirmP50 })},
		{"place→confirmed p99", "#2ca02c", col(func(s Sample) float64 { return s.ConfirmP99 })},
	}}
	backlog := plot{ID: "backlog", Title: "Backlog (accepted, not yet settled) and poll queue", Unit: "orders", Bounds: bounds, Series: []series{
		{"backlog", "#ff7f0e", col(func(s Sample) float64 { return float64(s.Backlog) })},
		{"poll queue", "#9467bd", col(func(s Sample) float64 { return float64(s.PollQueue) })},
	}}
	return reportTmpl.Execute(w, struct {
		*Result
		Plots []template.HTML
	}{r, []template.HTML{throughput.svg(xs), latency.svg(xs), backlog.svg(xs)}})
}

// WriteHTMLFile writes the HTML report to the file at path.
func (r *Result) WriteHTMLFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteHTML(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

type series struct {
	Name, Color string
	Y           []float64
}

// plot is one line chart over the run's seconds; Bounds are the step
// boundaries (seconds), drawn as dashed lines.
type plot struct {
	ID, Title, Unit string
	Bounds          []float64
	Series          []series
}

const (
	plotW, plotH             = 860.0, 260.0
	padL, padR, padT, padB   = 60.0, 20.0, 30.0, 40.0
	innerW, innerH           = plotW - padL - padR, plotH - padT - padB
	legendGap, legendSwatchW = 16.0, 18.0
)

// svg draws p over xs. Every number is formatted here, so the markup is
// safe to embed.
func (p plot) svg(xs []float64) template.HTML {
	maxX, maxY := 1.0, 0.0
	for _, x := range xs {
		maxX = max(maxX, x)
	}
	for _, s := range p.Series {
		for _, y := range s.Y {
			maxY = max(maxY, y)
		}
	}
	maxY = niceCeil(maxY)
	px := func(x float64) float64 { return padL + x/maxX*innerW }
	py := func(y float64) float64 { return padT + innerH - y/maxY*innerH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="plot-%s" class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`,
		p.ID, plotW, plotH, plotW, plotH, template.HTMLEscapeString(p.Title))
	fmt.Fprintf(&b, `<text x="%.0f" y="18" class="title">%s (%s)</text>`, padL, template.HTMLEscapeString(p.Title), template.HTMLEscapeString(p.Unit))
	for i := 0; i <= 4; i++ {
		y := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.1f" y="%.1f" class="axis" text-anchor="end">%s</text>`,
			padL, padL+innerW, py(y), py(y), padL-6, py(y)+4, short(y))
	}
	for i := 0; i <= 5; i++ {
		x := maxX * float64(i) / 5
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis" text-anchor="middle">%.0fs</text>`, px(x), padT+innerH+16, x)
	}
	for _, x := range p.Bounds {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="step"/>`, px(x), px(x), padT, padT+innerH)
	}
	lx := padL
	for _, s := range p.Series {
		var pts strings.Builder
		for i, y := range s.Y {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(xs[i]), py(y))
		}
		name := template.HTMLEscapeString(s.Name)
		fmt.Fprintf(&b, `<polyline data-series="%s" points="%s" fill="none" stroke="%s" stroke-width="2"/>`, name, strings.TrimSpace(pts.String()), s.Color)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="4" fill="%s"/><text x="%.1f" y="%.1f" class="legend">%s</text>`,
			lx, plotH-10, legendSwatchW, s.Color, lx+legendSwatchW+4, plotH-5, name)
		lx += legendSwatchW + 4 + 7*float64(len([]rune(s.Name))) + legendGap
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built above from numbers and escaped names
}

// niceCeil rounds y up to 1, 2 or 5 times a power of ten (1 for 0).
func niceCeil(y float64) float64 {
	if y <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(y)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= y {
			return m * p
		}
	}
	return 10 * p
}

func short(y float64) string {
	switch {
	case y >= 10000:
		return fmt.Sprintf("%.0fk", y/1000)
	case y == math.Trunc(y):
		return fmt.Sprintf("%.0f", y)
	default:
		return fmt.Sprintf("%.1f", y)
	}
}
