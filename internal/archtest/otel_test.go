package archtest

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// otelSDK are the OpenTelemetry packages that are not the API: the SDK, the
// exporters and the instrumentation libraries. The table lets app/ import
// go.opentelemetry.io/otel, a prefix they share with the SDK.
var otelSDK = []string{
	"go.opentelemetry.io/otel/sdk",
	"go.opentelemetry.io/otel/exporters",
	"go.opentelemetry.io/contrib",
}

// TestCoreUsesOnlyTheOpenTelemetryAPI: the use cases, the domain and the
// ports start spans on the API and never choose an exporter or a provider;
// internal/telemetry is the one place the SDK is set up.
func TestCoreUsesOnlyTheOpenTelemetryAPI(t *testing.T) {
	root := moduleRoot(t)
	checked := 0
	for _, dir := range packageDirs(t) {
		core := dir == "app" || strings.HasPrefix(dir, "app/") || dir == "ports" || dir == "internal/tracing" ||
			dir == "router" || dir == "outbox"
		if !core {
			continue
		}
		for _, file := range goFiles(t, filepath.Join(root, dir)) {
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, sdk := range otelSDK {
					if p == sdk || strings.HasPrefix(p, sdk+"/") {
						rel, _ := filepath.Rel(root, file)
						t.Errorf("%s imports %s: only internal/telemetry (and the composition root) may set up the SDK", rel, p)
					}
				}
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d files", checked)
	}
}
