# Airlock — make targets are the project's vocabulary.
GO       ?= go
BIN      := bin
PKGS     := ./...
CLANG    ?= clang
export CGO_ENABLED ?= 0

.PHONY: all build generate generate-check test fuzz test-unit lint demo deps-demo deps-test e2e-node bench bench-smoke screenshots clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/airlockd ./cmd/airlock

# Each of the README's commands installs what it needs first (as root; quick
# and silent when everything is present): see scripts/install-deps.sh.
deps-demo deps-test:
	@scripts/install-deps.sh $(@:deps-%=%)

# Rebuild the committed eBPF objects with Debian's clang.
generate: deps-test
	BPF_CLANG=$(CLANG) $(GO) generate ./intercept/...

# CI: regenerating must not change the committed objects.
generate-check: generate
	@git diff --exit-code --stat -- intercept/ || { echo "generated eBPF objects differ from the committed ones: run 'make generate' and commit"; exit 1; }

# The README's test command. Privileged tests need root; with
# AIRLOCK_REQUIRE_PRIVILEGED=1 (CI) they fail instead of skipping.
test: deps-test e2e-node
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 40m $(PKGS)

# The official TypeScript SDK, the Claude Agent SDK and Claude Code that the
# end-to-end tests run (e2e/node), installed from the npm registry exactly as the
# committed lock file says, into a cache outside the tree; `npm ci` runs only
# when the lock file changed.
E2E_NODE_DIR ?= $(HOME)/.cache/airlock/e2e-node
export AIRLOCK_E2E_NODE_DIR := $(E2E_NODE_DIR)

e2e-node:
	@mkdir -p $(E2E_NODE_DIR)
	@cp e2e/node/client.mjs e2e/node/agent.mjs $(E2E_NODE_DIR)/
	@if ! cmp -s e2e/node/package-lock.json $(E2E_NODE_DIR)/package-lock.json || \
	    [ ! -f $(E2E_NODE_DIR)/node_modules/@anthropic-ai/sdk/package.json ] || \
	    [ ! -x $(E2E_NODE_DIR)/node_modules/.bin/claude ]; then \
		cp e2e/node/package.json e2e/node/package-lock.json $(E2E_NODE_DIR)/ && \
		{ cd $(E2E_NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error; } || \
		echo "e2e-node: npm ci failed: the TypeScript SDK tests will say so (needs nodejs, npm and the npm registry)" >&2; \
	fi

# The README's first command: as root, builds, starts the fake Claude API and
# airlockd on this machine (child cgroup, private mount namespace, loopback
# only), runs unmodified clients, shows what happened, and cleans up.
demo: deps-demo
	GO=$(GO) scripts/demo.sh

# Side-by-side benchmarks (needs root for the eBPF capture path; installs nginx,
# mitmproxy and nghttp2-client from Debian) -> BENCHMARKS.md. bench-smoke is the
# seconds-long direct-vs-Airlock run that `make test` also covers (internal/bench/smoke_test.go).
bench:
	scripts/bench.sh

bench-smoke:
	scripts/bench.sh --smoke

# Every fuzz target in the repository for FUZZTIME each (CI: a short pass).
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) scripts/fuzz.sh $(FUZZTIME)

# The README's console pictures: the browser test saves each page it visits
# (headless chromium) to docs/console/*.png.
screenshots:
	AIRLOCK_SCREENSHOTS=1 $(GO) test -count=1 -run TestConsoleInBrowser ./console

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	# The CLI's offline commands (policy check, policy test, masking list) are of use off Linux: keep it building there.
	GOOS=darwin $(GO) build -o /dev/null ./cmd/airlock

clean:
	rm -rf $(BIN)
