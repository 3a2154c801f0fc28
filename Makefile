# Factoring API. `make help` lists the targets.

GO      ?= go
BIN     := bin/factoring
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo desconocido)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: build ## Serve on :8080 over the embedded SQLite database (./data), migrated and seeded on first start; authentication off, webhooks to http://localhost allowed (demo)
	FACTORING_AUTH=disabled FACTORING_WEBHOOK_ALLOW_INSECURE=true $(BIN) serve --seed

# The packages `make test` runs (make test PKG=./internal/seed/... for one).
PKG ?= ./...

# go test shows a skipped test only with -v, so the PostgreSQL tests skipped
# for want of a server would go unnoticed: internal/testdb writes its loud
# line to FACTORING_TEST_SKIP_REPORT, printed here after the run. The exit
# status is go test's.
.PHONY: test
test: ## Run the whole test suite; says loudly at the end when PostgreSQL tests were skipped
	@report=$$(mktemp "$${TMPDIR:-/tmp}/factoring-omitidas.XXXXXX") || exit 1; \
	echo "$(GO) test -count=1 -timeout 15m $(PKG)"; \
	FACTORING_TEST_SKIP_REPORT="$$report" $(GO) test -count=1 -timeout 15m $(PKG); status=$$?; \
	if [ -s "$$report" ]; then \
		echo; \
		echo "!!! ATENCIÓN: se OMITIERON pruebas; la suite no está completa:"; \
		sort -u "$$report" | sed 's/^/!!!   /'; \
		echo "!!! Levante PostgreSQL (o defina FACTORING_TEST_DATABASE_URL) e instale chromium; con FACTORING_REQUIRE_POSTGRES=1 y FACTORING_REQUIRE_BROWSER=1 fallan en vez de omitirse."; \
	fi; \
	rm -f "$$report"; \
	exit $$status

.PHONY: build
build: ## Build the static binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/factoring

.PHONY: generate
generate: ## Regenerate ent, entgql and gqlgen code from ent/schema and schema.graphqls (the root generate.go)
	$(GO) generate .

.PHONY: migration
migration: ## Write the next migration for both dialects from the ent schema: make migration name=agrega_algo
	@test -n "$(name)" || (echo "uso: make migration name=descripcion_corta" >&2; exit 2)
	$(GO) run ./internal/database/migrationgen -name $(name)

.PHONY: vet
vet: ## go vet and gofmt check
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

BENCH_CLIENTS  ?= 16
BENCH_DURATION ?= 10s
BENCH_WARMUP   ?= 3s

.PHONY: explain
explain: ## EXPLAIN the SQL of the README's queries and Q1-Q3 on the benchmark dataset; fails on a sequential scan of a large table
	FACTORING_BENCH_EXPLAIN=1 FACTORING_REQUIRE_POSTGRES=1 $(GO) test -count=1 -run '^TestExplain$$' ./cmd/benchmark/internal/bench/

.PHONY: bench
bench: build explain ## Benchmark the API against hand-written SQL on a fresh PostgreSQL database, after make explain (BENCHMARKS.md; BENCH_FLAGS=... for more)
	$(GO) run ./cmd/benchmark -server-bin $(BIN) -clients $(BENCH_CLIENTS) -duration $(BENCH_DURATION) -warmup $(BENCH_WARMUP) $(BENCH_FLAGS)

.PHONY: bench-10x
bench-10x: build ## make bench over 10x the data (-clientes 20000: 1,000,000 facturas), without make explain; needs about 8 GB of RAM (BENCHMARKS.md)
	$(GO) run ./cmd/benchmark -server-bin $(BIN) -clients $(BENCH_CLIENTS) -duration $(BENCH_DURATION) -warmup $(BENCH_WARMUP) -clientes 20000 $(BENCH_FLAGS)
