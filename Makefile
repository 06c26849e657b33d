# Airlock — make targets are the project's vocabulary.
GO       ?= go
BIN      := bin
PKGS     := ./...
CLANG    ?= clang
export CGO_ENABLED ?= 0

.PHONY: all build generate generate-check test test-unit lint demo bench bench-smoke clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/airlockd ./cmd/airlock

# Rebuild the committed eBPF objects with Debian's clang (apt-get install clang llvm libbpf-dev).
generate:
	BPF_CLANG=$(CLANG) $(GO) generate ./intercept/...

# CI: regenerating must not change the committed objects.
generate-check: generate
	@git diff --exit-code --stat -- intercept/ || { echo "generated eBPF objects differ from the committed ones: run 'make generate' and commit"; exit 1; }

# The README's test command. Privileged tests need root; with
# AIRLOCK_REQUIRE_PRIVILEGED=1 (CI) they fail instead of skipping.
test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 40m $(PKGS)

# Side-by-side benchmarks (needs root for the eBPF capture path; installs nginx,
# mitmproxy and nghttp2-client from Debian) -> BENCHMARKS.md. bench-smoke is the
# seconds-long direct-vs-Airlock run that `make test` also covers (bench/smoke_test.go).
bench:
	scripts/bench.sh

bench-smoke:
	scripts/bench.sh --smoke

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

clean:
	rm -rf $(BIN)
