# Everyday tasks. Every target is a plain go command you can also run yourself.
GO        ?= go
BIN       ?= bin/orderflow
PG_URL    ?= postgres://root@127.0.0.1:5432/test?sslmode=disable
# The OpenAPI linter, pinned; .ci/run names the same version.
REDOCLY_VERSION ?= 2.77.0

.PHONY: jaeger build run run-postgres test test-unit test-fault migrate lint fmt bench bench-pipeline ci docs-assets proto proto-check proto-baseline

build:
	$(GO) build -o $(BIN) ./cmd/orderflow

run: ## the service on the embedded default (SQLite in ./data)
	$(GO) run ./cmd/orderflow serve

run-postgres: ## the service on Postgres (store, read model and broker)
	$(GO) run ./cmd/orderflow serve --postgres-url '$(PG_URL)'

test: ## the whole suite, as CI runs it (needs the local PostgreSQL)
	$(GO) test -race -count=1 -p 1 -timeout 18m ./...

test-fault: ## the fault tests only (SIGKILL, bad messages, conflicting commands); figures in README.md
	$(GO) test -race -count=1 -timeout 10m -run '^TestFault' -v ./e2e/ | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|FAULT '

test-unit: ## domain, HTTP-mapping and layering tests: no servers needed (app/ use cases run against the stores in `make test`)
	$(GO) test -race -count=1 ./app/domain/... ./app/upcast/ ./internal/archtest/ ./handlers/httpapi/ ./handlers/grpcapi/

migrate: ## apply migrations (embedded store, or Postgres with PG_URL=...)
	$(GO) run ./cmd/orderflow migrate $(if $(POSTGRES),--postgres-url '$(PG_URL)')

lint:
	$(GO) vet ./...
	npx --yes @redocly/cli@$(REDOCLY_VERSION) lint --extends recommended handlers/httpapi/openapi.yaml
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

# The gRPC contract (proto/). buf and the protoc plugins are Go tools pinned in
# tools/go.mod (a module of its own, so their dependencies never move the
# service's); `go tool -modfile=tools/go.mod NAME` runs each.
BUF = $(GO) tool -modfile=tools/go.mod buf

proto: ## regenerate handlers/grpcapi/orderflowv1 from proto/ (buf.gen.yaml)
	$(BUF) generate

proto-check: ## buf lint, and buf breaking against the last release's image
	$(BUF) lint proto
	$(BUF) breaking proto --against proto/baseline/orderflow-v1.binpb

proto-baseline: ## at a release: the contract as released becomes the baseline of buf breaking
	$(BUF) build proto -o proto/baseline/orderflow-v1.binpb

jaeger: ## a local Jaeger v2 for tracing (in-memory; UI :16686, OTLP :4317 gRPC and :4318 HTTP): OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318
	$(GO) tool -modfile=tools/jaeger/go.mod jaeger

fmt:
	gofmt -w $$(git ls-files '*.go')

docs-assets: ## re-fetch the Redoc bundle /docs embeds (pinned in the script; REDOC_VERSION=x.y.z to change) and record its SHA-256
	bash handlers/httpapi/docs/fetch-redoc.sh

bench: ## append and end-to-end POST benchmarks (figures in README.md)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s ./adapters/postgres/ ./e2e/

# The end-to-end pipeline benchmark, the four runs of README.md's "End-to-end benchmark (pipeline)";
# one run is `orderflow bench [flags]`. RATE (orders/s, each run's own below saturation by default)
# and DURATION (the window) override them.
RATE     ?=
DURATION ?= 60s
BENCH     = $(GO) run ./cmd/orderflow bench --log-level error --duration $(DURATION)
bench-pipeline: ## end-to-end: append ceiling, POST rate, confirmed rate, place→confirmed latency (figures in README.md)
	$(BENCH) --postgres-url '$(PG_URL)' --rate $(or $(RATE),200) --out bench-postgres.json
	$(BENCH) --postgres-url '$(PG_URL)' --devkafka --rate $(or $(RATE),200) --out bench-postgres-kafka.json
	$(BENCH) --postgres-url '$(PG_URL)' --hot --rate $(or $(RATE),150) --out bench-postgres-hot.json
	$(BENCH) --rate $(or $(RATE),200) --out bench-embedded.json

ci:
	bash .ci/run
