# Warren: run `make` or `make help` for the list of targets.
GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
LISTEN        ?= 127.0.0.1:5672
DATA_DIR      ?= ./data
FUZZTIME      ?= 20s
BENCHTIME     ?= 1s
export GOTRACEBACK := all

.PHONY: help build run test lint unit bench fuzz conformance conformance-rabbitmq gen check-gen clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

build: ## build every command into ./bin
	$(GO) build -o bin/ ./cmd/...

run: build ## run the broker on $(LISTEN) with its data in $(DATA_DIR)
	./bin/warren --listen $(LISTEN) --data-dir $(DATA_DIR) --log-format console

test: lint unit ## gofmt, go vet, staticcheck and the race-enabled tests (the CI command)

lint: ## gofmt check, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit: ## go test -race on every package, at GOMAXPROCS 1 and 2
	$(GO) test -race -cpu 1,2 -timeout 10m ./...

bench: ## run the benchmarks with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fuzz: ## run every fuzz target for $(FUZZTIME) each
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

conformance: ## run the conformance suite against AMQP_URL, or an in-process Warren
	$(GO) test -count 1 -v -run TestConformance ./conformance

conformance-rabbitmq: ## start a private RabbitMQ node and run the suite against it
	scripts/conformance-rabbitmq.sh

# CONFORMANCE_FLAGS passes more flags, e.g. CONFORMANCE_FLAGS='--run ^basic/ -v'.
AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/
.PHONY: conformance-report
conformance-report: ## build cmd/warren-conformance and print its report by section for $(AMQP_URL)
	$(GO) build -o bin/ ./cmd/warren-conformance
	@./bin/warren-conformance --url '$(AMQP_URL)' $(CONFORMANCE_FLAGS)

gen: ## regenerate the AMQP method codecs from the spec XML
	$(GO) generate ./amqp

check-gen: gen ## fail if the generated code is stale
	git diff --exit-code -- amqp/spec_gen.go

clean: ## remove build output (never ./data)
	rm -rf bin

# PERF_COMPARE_FLAGS passes more flags, e.g. PERF_COMPARE_FLAGS='--pairs 1 --time 3s --scenarios 1,6'.
.PHONY: perf-compare
perf-compare: ## compare Warren with a private RabbitMQ node (port 5674), every scenario, medians and ratios
	$(GO) run ./scripts/perfcompare $(PERF_COMPARE_FLAGS)
