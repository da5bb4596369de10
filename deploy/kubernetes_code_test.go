package deploy_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/internal/telemetry"
	"github.com/orderflow/orderflow/router"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
)

// binaryEnv builds cmd/orderflow once and returns, per subcommand, the
// environment variables its --help names: the variables the binary reads.
var binaryEnv = sync.OnceValues(func() (map[string][]string, error) {
	dir, err := os.MkdirTemp("", "orderflow-deploy-test")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "orderflow")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/orderflow").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w\n%s", err, out)
	}
	envRE := regexp.MustCompile(`\(env (ORDERFLOW_[A-Z0-9_]+)\)`)
	env := map[string][]string{}
	for _, cmd := range []string{"serve", "migrate"} {
		// --help exits 0 and prints the flags on stderr.
		out, err := exec.Command(bin, cmd, "--help").CombinedOutput()
		if err != nil {
			return nil, err
		}
		for _, m := range envRE.FindAllStringSubmatch(string(out), -1) {
			env[cmd] = append(env[cmd], m[1])
		}
	}
	return env, nil
})

// TestKubernetesMatchesTheCode checks each kustomization against the code
// it deploys: the roles, the environment variables, the port, the probes,
// the drain and the migrate step.
func TestKubernetesMatchesTheCode(t *testing.T) {
	env, err := binaryEnv()
	if err != nil {
		t.Fatalf("building cmd/orderflow for its --help: %v", err)
	}
	if len(env["serve"]) < 20 || !slices.Contains(env["serve"], "ORDERFLOW_ROLES") {
		t.Fatalf("serve --help names too few variables: %v", env["serve"])
	}
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			m := buildKustomization(t, dir, nil)
			checkRoles(t, m)
			for _, d := range m.deployments {
				checkPod(t, m, "Deployment "+d.Name, d.Spec.Template.Spec, env)
				// Production traces (a sample); the base and small leave it off.
				vars := containerEnv(t, m, d.Name, d.Spec.Template.Spec.Containers[0])
				tc := telemetry.FromEnv(func(k string) string { return vars[k] })
				if on := strings.HasSuffix(dir, "production"); tc.Enabled() != on {
					t.Errorf("Deployment %s: tracing on %v (OTEL_EXPORTER_OTLP_ENDPOINT=%q), want %v", d.Name, tc.Enabled(), tc.Endpoint, on)
				}
			}
			if len(m.jobs) != 1 {
				t.Fatalf("%d Jobs, want the migrate Job", len(m.jobs))
			}
			checkPod(t, m, "Job "+m.jobs[0].Name, m.jobs[0].Spec.Template.Spec, env)
			checkSelectors(t, m)
			for name, s := range m.secrets {
				for k, v := range s.StringData {
					if !strings.Contains(v, "CHANGE-ME") {
						t.Errorf("Secret %s: %s is not a CHANGE-ME placeholder", name, k)
					}
				}
				if len(s.Data) > 0 {
					t.Errorf("Secret %s has data: the committed Secret holds placeholders in stringData only", name)
				}
			}
		})
	}
}

// checkRoles: one Deployment per role, each running exactly that role.
func checkRoles(t *testing.T, m manifests) {
	t.Helper()
	seen := map[router.Role]string{}
	for _, d := range m.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		value := envValue(c, "ORDERFLOW_ROLES")
		roles, err := router.ParseRoles(value)
		if err != nil || value == "" || value == "all" || len(roles) != 1 {
			t.Errorf("Deployment %s: ORDERFLOW_ROLES=%q, want one role of %s (%v)", d.Name, value, router.AllRoles, err)
			continue
		}
		if other, ok := seen[roles[0]]; ok {
			t.Errorf("role %s runs in Deployments %s and %s", roles[0], other, d.Name)
		}
		seen[roles[0]] = d.Name
		if want := "orderflow-" + string(roles[0]); d.Name != want {
			t.Errorf("Deployment %s runs role %s: name it %s", d.Name, roles[0], want)
		}
	}
	for _, r := range router.AllRoles {
		if _, ok := seen[r]; !ok {
			t.Errorf("no Deployment runs role %s", r)
		}
	}
}

// checkPod checks one pod template: its command, that every variable it
// sets is one the command reads, the port, the probes and the drain.
func checkPod(t *testing.T, m manifests, what string, pod corev1.PodSpec, env map[string][]string) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) != 1 || env[c.Args[0]] == nil {
		t.Fatalf("%s: args %q, want [serve] or [migrate]", what, c.Args)
	}
	cmd := c.Args[0]
	vars := containerEnv(t, m, what, c)
	for name := range vars {
		if cmd == "serve" && slices.Contains(telemetry.Variables, name) {
			continue // the standard OTEL_* ones serve reads (telemetry.FromEnv)
		}
		if !slices.Contains(env[cmd], name) {
			t.Errorf("%s sets %s, which `orderflow %s` does not read (its --help does not name it)", what, name, cmd)
		}
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[res]
		limit, okLimit := c.Resources.Limits[res]
		if !okReq || !okLimit || req.Cmp(limit) > 0 {
			t.Errorf("%s: %s request %v and limit %v: want both, request ≤ limit", what, res, req.String(), limit.String())
		}
	}
	if cmd != "serve" {
		return
	}

	// Its traces name their role; where an endpoint is set, serve accepts
	// the tracing settings.
	if want := "orderflow-" + envValue(c, "ORDERFLOW_ROLES"); vars["OTEL_SERVICE_NAME"] != want {
		t.Errorf("%s: OTEL_SERVICE_NAME=%q, want %s", what, vars["OTEL_SERVICE_NAME"], want)
	}
	if err := telemetry.FromEnv(func(k string) string { return vars[k] }).Validate(); err != nil {
		t.Errorf("%s: tracing settings: %v", what, err)
	}

	// The port the binary listens on is the container's http port, which
	// the probes use.
	host, port, err := net.SplitHostPort(vars["ORDERFLOW_HTTP_ADDR"])
	if err != nil || host == "localhost" || net.ParseIP(host).IsLoopback() {
		t.Errorf("%s: ORDERFLOW_HTTP_ADDR=%q: want a non-loopback host:port (%v)", what, vars["ORDERFLOW_HTTP_ADDR"], err)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port {
		t.Errorf("%s: ports %+v, want one named http on %s (ORDERFLOW_HTTP_ADDR)", what, c.Ports, port)
	}
	probes := map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe}
	wantPath := map[string]string{"liveness": "/healthz", "readiness": "/readyz", "startup": "/healthz"}
	for kind, p := range probes {
		if p == nil || p.HTTPGet == nil {
			if kind != "startup" {
				t.Errorf("%s: no HTTP %s probe", what, kind)
			}
			continue
		}
		if p.HTTPGet.Path != wantPath[kind] || (p.HTTPGet.Port.String() != "http" && p.HTTPGet.Port.String() != port) {
			t.Errorf("%s: %s probe GET %s on port %s, want %s on http", what, kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), wantPath[kind])
		}
		checkProbePath(t, p.HTTPGet.Path)
	}

	// The kubelet must wait out the drain: the preStop pause, then
	// --shutdown-timeout, before it kills the process.
	drain, err := time.ParseDuration(vars["ORDERFLOW_SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Errorf("%s: ORDERFLOW_SHUTDOWN_TIMEOUT=%q: set it, so the grace period can be checked against it", what, vars["ORDERFLOW_SHUTDOWN_TIMEOUT"])
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		drain += time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	if pod.TerminationGracePeriodSeconds == nil || time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second <= drain {
		t.Errorf("%s: terminationGracePeriodSeconds must exceed the preStop pause plus the shutdown timeout (%v)", what, drain)
	}
}

// containerEnv is every variable a container gets, by name, with its value
// where the manifests hold it (env values, ConfigMap and Secret keys).
// References to missing ConfigMaps, Secrets or keys fail the test.
func containerEnv(t *testing.T, m manifests, what string, c corev1.Container) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := m.configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Errorf("%s: envFrom ConfigMap %s, which the build does not have", what, from.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.Data {
				vars[from.Prefix+k] = v
			}
		case from.SecretRef != nil:
			s, ok := m.secrets[from.SecretRef.Name]
			if !ok {
				t.Errorf("%s: envFrom Secret %s, which the build does not have", what, from.SecretRef.Name)
				continue
			}
			for k, v := range secretValues(s) {
				vars[from.Prefix+k] = v
			}
		}
	}
	for _, e := range c.Env {
		vars[e.Name] = e.Value
		if e.ValueFrom == nil {
			continue
		}
		switch ref := e.ValueFrom; {
		case ref.ConfigMapKeyRef != nil:
			v, ok := m.configMaps[ref.ConfigMapKeyRef.Name].Data[ref.ConfigMapKeyRef.Key]
			if !ok {
				t.Errorf("%s: %s from ConfigMap %s key %s, which the build does not have", what, e.Name, ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key)
			}
			vars[e.Name] = v
		case ref.SecretKeyRef != nil:
			v, ok := secretValues(m.secrets[ref.SecretKeyRef.Name])[ref.SecretKeyRef.Key]
			if !ok {
				t.Errorf("%s: %s from Secret %s key %s, which the build does not have", what, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
			}
			vars[e.Name] = v
		}
	}
	return vars
}

func secretValues(s *corev1.Secret) map[string]string {
	vals := map[string]string{}
	if s == nil {
		return vals
	}
	for k, v := range s.Data {
		vals[k] = string(v)
	}
	for k, v := range s.StringData {
		vals[k] = v
	}
	return vals
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// checkProbePath asks the HTTP handler every role serves (a process without
// the api role serves only the operational endpoints) for the path.
func checkProbePath(t *testing.T, path string) {
	t.Helper()
	h := httpapi.NewHandler(app.Application{}, httpapi.Config{OpsOnly: true})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Errorf("probe path %s answers %d, want 200", path, rec.Code)
	}
}

// checkSelectors: every Service, PodDisruptionBudget and the HPA point at
// pods or a Deployment the build has; Services target the http port.
func checkSelectors(t *testing.T, m manifests) {
	t.Helper()
	selects := func(sel map[string]string) *appsv1.Deployment {
		for _, d := range m.deployments {
			labels := d.Spec.Template.Labels
			match := len(sel) > 0
			for k, v := range sel {
				match = match && labels[k] == v
			}
			if match {
				return d
			}
		}
		return nil
	}
	for _, s := range m.services {
		d := selects(s.Spec.Selector)
		if d == nil {
			t.Errorf("Service %s selects no Deployment's pods", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.String() != "http" {
				t.Errorf("Service %s: targetPort %s, want http", s.Name, p.TargetPort.String())
			}
		}
	}
	for _, pdb := range m.pdbs {
		if pdb.Spec.Selector == nil || selects(pdb.Spec.Selector.MatchLabels) == nil {
			t.Errorf("PodDisruptionBudget %s selects no Deployment's pods", pdb.Name)
		}
	}
	if len(m.pdbs) == 0 {
		t.Error("no PodDisruptionBudget")
	}
	if len(m.hpas) != 1 || m.hpas[0].Spec.ScaleTargetRef.Name != "orderflow-api" {
		t.Fatalf("want one HorizontalPodAutoscaler, of orderflow-api")
	}
	for _, d := range m.deployments {
		if d.Name == "orderflow-api" && d.Spec.Replicas != nil {
			t.Error("Deployment orderflow-api sets replicas, which the HPA owns: each apply would reset them")
		}
	}
	if h := m.hpas[0]; h.Spec.MinReplicas == nil || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
		t.Errorf("HPA: minReplicas %v, maxReplicas %d", h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
}

// TestSecretCanBeReplaced follows README.md, "Deploying on Kubernetes": an
// overlay of one's own replaces the placeholder Secret from an env file,
// and every pod then reads the replaced one.
func TestSecretCanBeReplaced(t *testing.T) {
	small, err := filepath.Abs("kubernetes/overlays/small")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	small, err = filepath.Rel(dir, small) // kustomize refuses absolute paths
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", `resources:
  - `+small+`
secretGenerator:
  - name: orderflow-secrets
    behavior: replace
    envs: [secrets.env]
`)
	write("secrets.env", "ORDERFLOW_POSTGRES_URL=postgres://u:real@db:5432/orderflow\nORDERFLOW_API_KEYS=k1,k2\n")
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone // the base lies outside the temporary directory
	m := buildKustomization(t, dir, opts)

	if len(m.secrets) != 1 {
		t.Fatalf("%d Secrets, want 1", len(m.secrets))
	}
	for name, s := range m.secrets {
		vals := secretValues(s)
		if vals["ORDERFLOW_API_KEYS"] != "k1,k2" || strings.Contains(vals["ORDERFLOW_POSTGRES_URL"], "CHANGE-ME") {
			t.Errorf("Secret %s still holds placeholders: %v", name, vals)
		}
		for _, d := range m.deployments {
			refs := d.Spec.Template.Spec.Containers[0].EnvFrom
			if !slices.ContainsFunc(refs, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name == name }) {
				t.Errorf("Deployment %s does not read Secret %s", d.Name, name)
			}
		}
	}
}
