package deploy_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizations are the directories `kubectl apply -k` is given: the base
// and every overlay.
var kustomizations = []string{
	"kubernetes/base",
	"kubernetes/overlays/small",
	"kubernetes/overlays/production",
}

// kinds are the kinds the manifests may hold, each with the Kubernetes API
// type it must decode into. A kind not listed here fails the build check:
// add it together with its type.
var kinds = map[string]func() any{
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// manifests is what one kustomization builds, decoded into the API types.
type manifests struct {
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	services    []*corev1.Service
	deployments []*appsv1.Deployment
	jobs        []*batchv1.Job
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	namespaces  []*corev1.Namespace
}

// buildKustomization runs `kustomize build dir` in process, on the files on
// disk, and decodes every object strictly: a field the API type does not
// have (a typo, a field at the wrong level) fails the test, where kubectl
// would reject or silently drop it.
func buildKustomization(t *testing.T, dir string, opts *krusty.Options) manifests {
	t.Helper()
	if opts == nil {
		opts = krusty.MakeDefaultOptions()
	}
	resMap, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	m := manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, r := range resMap.Resources() {
		raw, err := r.AsYAML()
		if err != nil {
			t.Fatalf("%s: %s: %v", dir, r.CurId(), err)
		}
		obj, err := decodeStrict(raw)
		if err != nil {
			t.Errorf("%s: %s: %v", dir, r.CurId(), err)
			continue
		}
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.Secret:
			m.secrets[o.Name] = o
		case *corev1.Service:
			m.services = append(m.services, o)
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		case *batchv1.Job:
			m.jobs = append(m.jobs, o)
		case *policyv1.PodDisruptionBudget:
			m.pdbs = append(m.pdbs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpas = append(m.hpas, o)
		case *corev1.Namespace:
			m.namespaces = append(m.namespaces, o)
		}
	}
	return m
}

// decodeStrict decodes one object into the API type of its apiVersion and
// kind, refusing unknown and duplicate fields.
func decodeStrict(raw []byte) (any, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	newObj, ok := kinds[head.APIVersion+"/"+head.Kind]
	if !ok {
		return nil, fmt.Errorf("kind %s/%s has no API type in the test's kinds", head.APIVersion, head.Kind)
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// TestKustomizeBuild builds the base and every overlay; each object must
// decode strictly into its Kubernetes API type.
func TestKustomizeBuild(t *testing.T) {
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			m := buildKustomization(t, dir, nil)
			if len(m.deployments) == 0 {
				t.Fatal("the build has no Deployment")
			}
		})
	}
}

// TestDecodeStrictRefusesUnknownFields keeps the strict check honest: a
// misplaced field fails, where a lenient decoder would drop it.
func TestDecodeStrictRefusesUnknownFields(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  replica: 2
`,
		"field at the wrong level": `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers:
        - name: x
          livenessProbe: {path: /healthz}
`,
		"unknown kind": `apiVersion: v1
kind: Pdo
metadata: {name: x}
`,
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}
