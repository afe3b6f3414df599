# asynctrace developer commands. `make help` lists them.

GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
BENCHOUT  ?= bench.out

.PHONY: help run test test-short lint fmt bench fuzz proto services e2e ci

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## run the pipeline example on embedded brokers and print its trace
	$(GO) run ./examples/pipeline

test: ## all tests with the race detector (broker tests skip when their server is down)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short: ## tests without the race detector, for a quick loop
	$(GO) test -count=1 $(PKGS)

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

bench: ## benchmarks (ns/op, B/op, allocs/op, msgs/s) into $(BENCHOUT)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS) | tee $(BENCHOUT)

fuzz: ## explore the carrier's extraction and pulsartest's decoders and admin API with the fuzzer
	$(GO) test -run '^$$' -fuzz FuzzExtract -fuzztime 60s ./carrier
	$(GO) test -run '^$$' -fuzz 'FuzzDecode$$' -fuzztime 30s ./pulsartrace/pulsartest
	$(GO) test -run '^$$' -fuzz 'FuzzFrames$$' -fuzztime 30s ./pulsartrace/pulsartest
	$(GO) test -run '^$$' -fuzz 'FuzzAdmin$$' -fuzztime 30s ./pulsartrace/pulsartest

proto: ## regenerate pulsartest's protocol types (needs protoc: apt-get install protobuf-compiler)
	$(GO) generate ./pulsartrace/pulsartest/internal/pulsarproto

services: ## start PostgreSQL, Redis, RabbitMQ and NATS on loopback if they are down
	bash scripts/services.sh

e2e: ## the pipeline's services as separate processes, traced into a real Jaeger and checked through its API
	bash scripts/e2e.sh

ci: ## what CI runs
	bash .ci/run
