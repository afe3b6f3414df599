# asynctrace developer commands. `make help` lists them.

# pipefail: a recipe that pipes into tee fails when the command does.
SHELL       := bash
.SHELLFLAGS := -o pipefail -ec

GO        ?= go
PKGS      ?= ./...
# Every Go module of the repository: the library, its examples, the
# integration tests over real servers, and the Jaeger build wrapper. Given
# packages (make test PKGS=./carrier/) are looked for in the library module
# only, unless MODULES names others (make test MODULES=examples PKGS=./echo/).
ifeq ($(origin PKGS),file)
MODULES   ?= . $(patsubst %/go.mod,%,$(shell git ls-files '*/go.mod'))
else
MODULES   ?= .
endif
BENCHTIME ?= 1s
BENCHOUT  ?= bench.out

.PHONY: help run test test-short lint api fmt bench bench-ab fuzz proto services e2e ci

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## run the pipeline example on embedded brokers and print its trace
	cd examples && $(GO) run ./pipeline

# each runs $(1) in every module that has packages (tools/jaeger only pins a build).
each = set -e; for m in $(MODULES); do \
	pkgs=$$(cd $$m && $(GO) list $(PKGS) 2>/dev/null) || { echo "== $$m: go list failed"; (cd $$m && $(GO) list $(PKGS)); exit 1; }; \
	if [ -z "$$pkgs" ]; then echo "== $$m: no packages"; continue; fi; \
	echo "== $$m"; (cd $$m && $(1)); done

test: ## all tests of every module with the race detector (broker tests skip when their server is down)
	@$(call each,$(GO) test -race -count=1 -timeout 20m $(PKGS))

test-short: ## tests without the race detector, for a quick loop
	@$(call each,$(GO) test -count=1 $(PKGS))

lint: ## gofmt, go vet and staticcheck on every module; the recorded API matches the code
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) build -o $(CURDIR)/bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	@$(call each,$(GO) vet $(PKGS) && $(CURDIR)/bin/staticcheck $(PKGS))
	@$(GO) run ./internal/cmd/apidump | diff -u api/asynctrace.txt - || { echo "The exported API changed: if that is deliberate, run make api, say so in CHANGELOG.md and commit api/asynctrace.txt."; exit 1; }

api: ## write the exported API to api/asynctrace.txt (checked by make lint)
	$(GO) run ./internal/cmd/apidump > api/asynctrace.txt

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

bench: ## benchmarks of every module (ns/op, B/op, allocs/op, msgs/s) into $(BENCHOUT)
	@$(call each,$(GO) test -run '^$$$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)) | tee $(BENCHOUT)

ROUNDS    ?= 8
SCALE     ?= 1

bench-ab: ## the library against hand-written tracing, interleaved rounds by CPU per op, into docs/benchmarks.md (ROUNDS, SCALE; Redis for the Watermill export row)
	$(GO) run ./internal/cmd/benchab -rounds $(ROUNDS) -scale $(SCALE)

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
