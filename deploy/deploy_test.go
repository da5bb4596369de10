// Package deploy_test checks the deployment files against the code they
// deploy: docker-compose.yml, Prometheus and Grafana provisioning.
package deploy_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/orderflow/orderflow/router"
	"go.yaml.in/yaml/v3"
)

const composeFile = "../docker-compose.yml"

// TestComposeConfig runs `docker-compose config -q`, which rejects a file
// that Compose cannot load. CI installs docker-compose (.ci/run), so there a
// missing binary fails the test; elsewhere it skips.
func TestComposeConfig(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker-compose is not installed; .ci/run installs it (apt-get install docker-compose)")
		}
		t.Skip("docker-compose is not installed (apt-get install docker-compose); CI runs this check")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-f", composeFile, "config", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, out)
	}
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Ports       []string          `yaml:"ports"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Command     any               `yaml:"command"`
}

func loadCompose(t *testing.T) map[string]composeService {
	t.Helper()
	raw, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return doc.Services
}

// TestComposeMatchesTheCode checks what Compose cannot: every role has a
// service, the services' bind mounts exist, the topics created up front are
// the ones the code uses, and the images are the versions documented.
func TestComposeMatchesTheCode(t *testing.T) {
	services := loadCompose(t)
	for _, role := range router.AllRoles {
		s, ok := services["orderflow-"+string(role)]
		if !ok || s.Environment["ORDERFLOW_ROLES"] != string(role) {
			t.Errorf("no service orderflow-%s with ORDERFLOW_ROLES=%s", role, role)
		}
		if ok && s.Environment["ORDERFLOW_CACHE_REDIS_URL"] == "" {
			t.Errorf("orderflow-%s has no read cache", role)
		}
	}
	for name, s := range services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join("..", src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
	}
	for svc, prefix := range map[string]string{"postgres": "postgres:16", "kafka": "apache/kafka:4.", "redis": "redis:7"} {
		if !strings.HasPrefix(services[svc].Image, prefix) {
			t.Errorf("service %s runs %q, want %s*", svc, services[svc].Image, prefix)
		}
	}
	if env := services["kafka"].Environment; !strings.Contains(env["KAFKA_PROCESS_ROLES"], "controller") {
		t.Errorf("kafka is not in KRaft mode: KAFKA_PROCESS_ROLES=%q", env["KAFKA_PROCESS_ROLES"])
	}
	checkOTel(t, services)
	initCmd, _ := yaml.Marshal(services["kafka-init"].Command)
	for _, topic := range []string{router.EventTopic("order"), router.PoisonTopic} {
		if !strings.Contains(string(initCmd), topic+":") {
			t.Errorf("kafka-init does not create topic %s", topic)
		}
	}
}

// checkOTel: every orderflow container (the services built from this
// repository) exports its traces to the Jaeger service, on the port of the
// OTLP protocol it names, under a service name of its own.
func checkOTel(t *testing.T, services map[string]composeService) {
	t.Helper()
	jaeger, ok := services["jaeger"]
	if !ok || !strings.HasPrefix(jaeger.Image, "jaegertracing/jaeger:2.") {
		t.Errorf("no service jaeger running jaegertracing/jaeger:2.x: %q", jaeger.Image)
	}
	for _, port := range []string{"16686:16686", "4317:4317", "4318:4318"} {
		if !slices.Contains(jaeger.Ports, port) {
			t.Errorf("jaeger does not publish %s (the UI, OTLP gRPC and HTTP)", port)
		}
	}
	names := map[string]string{}
	orderflow := 0
	for name, s := range services {
		if s.Build == nil {
			continue
		}
		orderflow++
		env := s.Environment
		want := map[string]string{"grpc": "http://jaeger:4317", "http/protobuf": "http://jaeger:4318"}[env["OTEL_EXPORTER_OTLP_PROTOCOL"]]
		if want == "" || env["OTEL_EXPORTER_OTLP_ENDPOINT"] != want {
			t.Errorf("service %s: OTEL_EXPORTER_OTLP_ENDPOINT=%q with OTEL_EXPORTER_OTLP_PROTOCOL=%q, want jaeger's port of that protocol",
				name, env["OTEL_EXPORTER_OTLP_ENDPOINT"], env["OTEL_EXPORTER_OTLP_PROTOCOL"])
		}
		if env["OTEL_SERVICE_NAME"] != name {
			t.Errorf("service %s: OTEL_SERVICE_NAME=%q, want its own name", name, env["OTEL_SERVICE_NAME"])
		}
		if other, dup := names[env["OTEL_SERVICE_NAME"]]; dup {
			t.Errorf("services %s and %s trace under one name", name, other)
		}
		names[env["OTEL_SERVICE_NAME"]] = name
	}
	if orderflow < len(router.AllRoles)+1 { // the roles and the migration
		t.Errorf("found %d orderflow services (build: .), want at least %d", orderflow, len(router.AllRoles)+1)
	}
}

// TestMonitoringProvisioning checks that Prometheus scrapes every role's
// service and that Grafana's dashboard uses the provisioned datasource.
func TestMonitoringProvisioning(t *testing.T) {
	raw, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		ScrapeConfigs []struct {
			JobName     string `yaml:"job_name"`
			MetricsPath string `yaml:"metrics_path"`
			DNSSD       []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &prom); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	var scraped []string
	for _, sc := range prom.ScrapeConfigs {
		for _, d := range sc.DNSSD {
			if sc.MetricsPath == "/metrics" && d.Port == 8080 {
				scraped = append(scraped, d.Names...)
			}
		}
	}
	for _, role := range router.AllRoles {
		if !slices.Contains(scraped, "orderflow-"+string(role)) {
			t.Errorf("prometheus does not scrape orderflow-%s", role)
		}
	}

	ds := datasources(t)
	promDS := ds["prometheus"]
	if promDS.Type != "prometheus" || ds["jaeger"].Type != "jaeger" {
		t.Fatalf("the Prometheus and Jaeger datasources are not provisioned: %+v", ds)
	}
	if len(promDS.JSONData.ExemplarTraceIDDestinations) != 1 ||
		promDS.JSONData.ExemplarTraceIDDestinations[0].Name != exemplar.TraceIDLabel ||
		promDS.JSONData.ExemplarTraceIDDestinations[0].DatasourceUID != "jaeger" {
		t.Errorf("Prometheus's exemplars do not link %s to Jaeger: %+v", exemplar.TraceIDLabel, promDS.JSONData)
	}
	dashboards := loadDashboards(t)
	if len(dashboards) < 2 {
		t.Fatalf("want the router and the overview dashboards, got %d", len(dashboards))
	}
	for file, dash := range dashboards {
		if len(dash.Panels) == 0 {
			t.Errorf("%s has no panels", file)
		}
		for _, p := range dash.Panels {
			if p.Type == "row" {
				continue
			}
			if _, ok := ds[p.Datasource.UID]; !ok || len(p.Targets) == 0 {
				t.Errorf("%s: panel %q: datasource %q is not provisioned, or no query", file, p.Title, p.Datasource.UID)
			}
		}
	}
}

type datasource struct {
	UID      string `yaml:"uid"`
	Type     string `yaml:"type"`
	JSONData struct {
		ExemplarTraceIDDestinations []struct {
			Name          string `yaml:"name"`
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"exemplarTraceIdDestinations"`
	} `yaml:"jsonData"`
}

// datasources are Grafana's provisioned datasources by uid.
func datasources(t *testing.T) map[string]datasource {
	t.Helper()
	files, err := filepath.Glob("grafana/provisioning/datasources/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no datasource provisioning: %v", err)
	}
	out := map[string]datasource{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Datasources []datasource `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range doc.Datasources {
			out[d.UID] = d
		}
	}
	return out
}

type dashboard struct {
	Panels []struct {
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// loadDashboards reads every provisioned dashboard, by file name.
func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob("grafana/dashboards/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}
