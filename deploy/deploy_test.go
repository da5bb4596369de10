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
	initCmd, _ := yaml.Marshal(services["kafka-init"].Command)
	for _, topic := range []string{router.EventTopic("order"), router.PoisonTopic} {
		if !strings.Contains(string(initCmd), topic+":") {
			t.Errorf("kafka-init does not create topic %s", topic)
		}
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

	raw, err = os.ReadFile("grafana/dashboards/orderflow-router.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	ds, err := os.ReadFile("grafana/provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	for _, p := range dash.Panels {
		if !strings.Contains(string(ds), "uid: "+p.Datasource.UID) || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q is not provisioned, or no query", p.Title, p.Datasource.UID)
		}
	}
}
