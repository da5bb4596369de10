package loadtest

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/browsertest"
	"github.com/orderflow/orderflow/internal/loadgen"
)

// sampleResult is a two-step run: the first step sustainable, the second
// not, with a second of failures.
func sampleResult() *Result {
	r := &Result{RunID: "abcd1234", Target: "http://127.0.0.1:8080", Model: "open", Mix: DefaultMix(),
		Accepted: 300, Failed: 3, Confirmed: 280, Cancelled: 15, Unsettled: 5, Sustainable: 50,
		Accept:         loadgen.Latency{Count: 300, P50: 3, P90: 8, P99: 20, P999: 40, Max: 41},
		PlaceToConfirm: loadgen.Latency{Count: 280, P50: 150, P90: 400, P99: 900, P999: 1500, Max: 1600},
		Errors:         map[string]int{"place 503": 3}, Requests: map[string]int{"place": 303}}
	r.Criteria.MinConfirmedShare, r.Criteria.MaxP99Ms = 0.95, 2000
	r.Steps = []StepResult{
		{Rate: 50, Duration: 4, Offered: 200, Accepted: 200, Settled: 198, Sustainable: true},
		{Rate: 100, Duration: 4, Offered: 103, Accepted: 100, Failed: 3, Why: []string{"backlog grew 9.0/s over the second half (want ≤ 5.0/s)"}},
	}
	for i := range 8 {
		s := Sample{T: float64(i + 1), Offered: 50, Accepted: 50, Confirmed: 48, Backlog: 2 + i, AcceptP99: 20, ConfirmP50: 150, ConfirmP99: 900}
		if i >= 4 {
			s.Offered, s.Accepted, s.Confirmed, s.Backlog, s.ConfirmP99 = 100, 99, 90, 10*i, 1900
		}
		if i == 6 {
			s.Failed = 3
		}
		r.Samples = append(r.Samples, s)
	}
	return r
}

var allSeries = []string{"offered", "accepted", "confirmed", "failed", "accept p99", "place→confirmed p50",
	"place→confirmed p99", "backlog", "poll queue"}

// The report is one file that asks for nothing: no src, href or url(), a
// Content-Security-Policy that forbids every request, and every series
// drawn as a polyline of one point a second.
func TestHTMLReportIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := sampleResult().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if m := regexp.MustCompile(`(?i)\b(src|href)\s*=|url\(|<script|<link`).FindString(page); m != "" {
		t.Errorf("the report refers to something outside it: %q", m)
	}
	if !strings.Contains(page, `content="default-src 'none'`) {
		t.Error("no Content-Security-Policy forbidding requests")
	}
	for _, s := range allSeries {
		re := regexp.MustCompile(`<polyline data-series="` + regexp.QuoteMeta(templateEscape(s)) + `" points="([^"]*)"`)
		m := re.FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no polyline for %q", s)
			continue
		}
		if n := len(strings.Fields(m[1])); n != 8 {
			t.Errorf("%s: %d points, want 8 (one a second)", s, n)
		}
	}
	for _, want := range []string{"Highest sustainable rate", "50.0 orders/s", "backlog grew 9.0/s", "place 503", "abcd1234"} {
		if !strings.Contains(page, templateEscape(want)) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if err := (&Result{}).WriteHTMLFile(filepath.Join(t.TempDir(), "no-such-dir", "r.html")); err == nil {
		t.Error("writing into a missing directory: no error")
	}
}

func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// Headless Chromium renders the report's plots: the DOM it builds has the
// three SVG plots and every series, the page asks for nothing (no CSP
// violation, no name lookup), and a screenshot shows the confirmed series'
// green on the page.
func TestHTMLReportRendersInChromium(t *testing.T) {
	browsertest.Chromium(t, "loadtest report")
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := sampleResult().WriteHTMLFile(path); err != nil {
		t.Fatal(err)
	}
	url := "file://" + path
	dom, console := browsertest.Headless(t, "loadtest report", url, "--dump-dom")
	for _, id := range []string{"plot-throughput", "plot-latency", "plot-backlog"} {
		if !regexp.MustCompile(`<svg id="` + id + `"[^>]*>`).MatchString(dom) {
			t.Errorf("the rendered DOM has no <svg id=%q>", id)
		}
	}
	for _, s := range allSeries {
		if !strings.Contains(dom, `data-series="`+templateEscape(s)+`"`) {
			t.Errorf("the rendered DOM has no series %q", s)
		}
	}
	for _, line := range strings.Split(console, "\n") {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "ERR_NAME_NOT_RESOLVED") {
			t.Errorf("chromium: %s", line)
		}
	}

	shot := filepath.Join(dir, "shot.png")
	browsertest.Headless(t, "loadtest report", url, "--screenshot="+shot, "--window-size=1000,1400")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	green := 0 // #2ca02c, the confirmed series
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r>>8, 0x2c) && near(g>>8, 0xa0) && near(b>>8, 0x2c) {
				green++
			}
		}
	}
	t.Logf("%d pixels of the confirmed series' green", green)
	if green < 1000 { // the legend's swatches and green text alone are about 400
		t.Errorf("%d pixels of the confirmed series' green in the screenshot: the plots did not render", green)
	}
	if t.Failed() {
		t.Logf("DOM (%d bytes), first 2000:\n%.2000s\nconsole:\n%s", len(dom), dom, console)
	}
}

func near(v, want uint32) bool { return v+12 >= want && v <= want+12 }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// Writing a report where it cannot go is an error, never a silent loss.
func TestReportWriteErrors(t *testing.T) {
	r := sampleResult()
	if err := r.WriteText(failingWriter{}); err == nil {
		t.Error("WriteText to a failing writer: no error")
	}
	if err := r.WriteHTML(failingWriter{}); err == nil {
		t.Error("WriteHTML to a failing writer: no error")
	}
	missing := filepath.Join(t.TempDir(), "no-such-dir", "r.json")
	if err := r.WriteJSON(missing); err == nil {
		t.Error("WriteJSON into a missing directory: no error")
	}
	ok := filepath.Join(t.TempDir(), "r.json")
	if err := r.WriteJSON(ok); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(ok); err != nil || !strings.Contains(string(data), `"sustainable_per_second": 50`) {
		t.Errorf("JSON result (%v):\n%s", err, data)
	}
}
