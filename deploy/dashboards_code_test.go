package deploy_test

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// PromQL pieces that name no metric: string literals, label matchers,
// range and subquery selectors, and the label lists of by, without, on,
// ignoring, group_left and group_right.
var (
	promStringRE    = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promMatchersRE  = regexp.MustCompile(`\{[^{}]*\}`)
	promRangeRE     = regexp.MustCompile(`\[[^\[\]]*\]`)
	promLabelListRE = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promIdentRE     = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promDurationRE  = regexp.MustCompile(`\b\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*\b`)
	promNumberRE    = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b|\b0x[0-9a-fA-F]+\b`)
	// promKeywords are PromQL's operators and modifiers written as words.
	promKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan", "atan2", "start", "end"}
)

// promMetricNames returns the metric names expr selects: every identifier
// left once strings, matchers, ranges and label lists are removed that is
// neither a function or aggregation (followed by "(") nor a keyword.
func promMetricNames(expr string) []string {
	e := promStringRE.ReplaceAllString(expr, `""`)
	e = promMatchersRE.ReplaceAllString(e, " ")
	e = promRangeRE.ReplaceAllString(e, " ")
	e = promLabelListRE.ReplaceAllString(e, " ")
	e = promDurationRE.ReplaceAllString(e, " ")
	e = promNumberRE.ReplaceAllString(e, " ")
	var names []string
	for _, m := range promIdentRE.FindAllStringSubmatch(e, -1) {
		if m[1] != "" || slices.Contains(promKeywords, strings.ToLower(m[0])) {
			continue
		}
		if !slices.Contains(names, m[0]) {
			names = append(names, m[0])
		}
	}
	sort.Strings(names)
	return names
}

// The extractor finds the metrics of the shapes the dashboards use, and
// nothing else.
func TestPromMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`histogram_quantile(0.95, sum by (le, route) (rate(orderflow_http_request_duration_seconds_bucket{method=~"POST|PUT", code!="5.."}[$__rate_interval])))`: {"orderflow_http_request_duration_seconds_bucket"},
		`sum(rate(a_total{result="hit"}[5m])) / sum(rate(b_total[5m])) - 1e3`:                                                                                    {"a_total", "b_total"},
		`max by (projection) (lag_seconds) > 30 and on (projection) up offset 5m`:                                                                                {"lag_seconds", "up"},
		`sum without (instance) (x{a="by (y)"}) or vector(0)`:                                                                                                    {"x"},
		`rate(c[5m:1m]) * on (job) group_left (role) info`:                                                                                                       {"c", "info"},
	} {
		if got := promMetricNames(expr); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", expr, got, want)
		}
	}
}

// TestDashboardsMatchTheCode checks every query of every provisioned
// dashboard against the metrics the code registers, so that renaming a
// metric fails here instead of leaving a panel empty.
func TestDashboardsMatchTheCode(t *testing.T) {
	registered := registeredMetrics(t)
	// Series Prometheus makes itself.
	registered["up"] = true
	used := map[string]bool{}
	for file, dash := range loadDashboards(t) {
		for _, p := range dash.Panels {
			for _, target := range p.Targets {
				names := promMetricNames(target.Expr)
				if len(names) == 0 {
					t.Errorf("%s: panel %q: query %q names no metric", file, p.Title, target.Expr)
				}
				for _, n := range names {
					used[n] = true
					if !registered[n] {
						t.Errorf("%s: panel %q queries %s, which the code does not register", file, p.Title, n)
					}
				}
			}
		}
	}
	// The overview answers the operators' questions (README,
	// "Metrics and dashboards"): each of these must be on a panel.
	for _, want := range []string{
		"orderflow_http_request_duration_seconds_bucket", "orderflow_http_request_duration_seconds_count",
		"orderflow_events_appended_total", "orderflow_outbox_forwarded_messages_total",
		"orderflow_outbox_oldest_unforwarded_seconds", "orderflow_projection_lag_seconds",
		"orderflow_router_handler_execution_time_seconds_count", "orderflow_router_poisoned_messages_total",
		"orderflow_checkouts_total", "orderflow_order_placed_to_confirmed_seconds_bucket",
		"orderflow_checkout_step_duration_seconds_bucket", "orderflow_payment_circuit_state",
		"orderflow_cache_requests_total",
	} {
		if !used[want] {
			t.Errorf("no dashboard panel queries %s", want)
		}
	}
}
