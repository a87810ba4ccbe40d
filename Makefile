# The README's two commands: `make demo` and `make test`.
GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
FUZZTIME    ?= 10s

.PHONY: all build test lint unit perf cross demo bench fuzz clean

all: build

## build: the tools and the demo's mock upstream into bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/... ./scripts/mockupstream

## test: vet, staticcheck, and every test (unit, SDK, end-to-end) under the race detector
test: lint unit

lint: $(STATICCHECK)
	$(GO) vet ./...
	$(STATICCHECK) ./...

# The record encoder has an amd64 assembly escaper; its pure-Go fallback
# (other CPUs and architectures) is tested too.
unit:
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -tags purego ./pkg/record

## perf: the tests' performance bars (back-pressure p99, heap growth), which make test
## leaves out because a loaded machine may miss them
perf:
	LLMTAP_PERF=1 $(GO) test -count=1 -run 'BackPressure|MemoryBounded|LargeRequestBody|HugeResponse' ./pkg/proxy ./cmd/llmtap

## cross: the tools build for other systems and word sizes (the hot path has unix-only
## system calls and amd64 assembly, each with a fallback); about a minute on a cold cache
cross:
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/...
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/...
	GOOS=linux GOARCH=386 $(GO) build -o /dev/null ./cmd/... ./internal/...
	GOOS=linux GOARCH=arm64 $(GO) vet ./pkg/record ./pkg/proxy

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

## demo: llmtap in front of a bundled mock upstream, offline, a few requests, the records printed
demo: build
	scripts/demo.sh

## bench: llmtap against the upstream direct, a bare Go reverse proxy, nginx and the original script,
## then llmgrep against jq, llmstat against llmmd and jq -s (on a 200 MB file), then llmreplay's
## rate, peak against vegeta and memory (about 3 + 1 + 1 + 2 minutes on 2 cores; see BENCHMARKS.md)
bench:
	scripts/bench.sh
	scripts/bench-grep.sh 200
	scripts/bench-stat.sh 200
	scripts/bench-replay.sh

## fuzz: each fuzz target for FUZZTIME (default 10s): make fuzz FUZZTIME=5m
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

## soak: 10,000 exchanges through llmtap with faults injected, then every record checked (see scripts/soak)
soak:
	$(GO) run ./scripts/soak

clean:
	rm -rf bin demo-out
