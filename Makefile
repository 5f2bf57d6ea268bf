# Ferrodesk. Two commands on a fresh Debian machine with Rust and Node.js:
#   make run    installs what is missing, builds, and serves http://127.0.0.1:3000 (embedded storage)
#   make test   installs what is missing, then runs every test: Rust (per package) and the browser suite
# Installing is idempotent: a tool already at the right version is left alone.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Builds go here; CI points it outside the clone so a repeat run starts warm.
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR

CARGO_LEPTOS_VERSION := 0.3.10
# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)
# wasm-opt (for release builds) comes from npm's binaryen, pinned in end2end/package-lock.json.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Playwright drives Debian's chromium; it must never try to download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# npm from PATH when it runs; where it is missing or broken (a Node.js without it, or an npm upgrade that was
# cut off and left its package half replaced), this version, fetched from the npm registry into the cache and
# checked against the registry's published sha512.
NPM_VERSION := 10.9.2
NPM_SHA512 := iriPEPIkoMYUy3F6f3wwSZAU93E0Eg6cHwIR6jzzOXWSy+SD/rOODEs74cVONHKSx2obXtuUoyidVEhISrisgQ==
NPM_HOME := $(HOME)/.cache/ferrodesk/npm-$(NPM_VERSION)
# Decided on first use and then kept, so a make that never runs npm does not start it.
NPM = $(eval NPM := $(shell npm --version >/dev/null 2>&1 && echo npm || echo node $(NPM_HOME)/package/bin/npm-cli.js))$(NPM)

SITE_ROOT := $(CARGO_TARGET_DIR)/site
SERVER_BIN := $(CARGO_TARGET_DIR)/server-release/ferrodesk
# The initial wasm budget: 250 KB brotli for the whole app.
WASM_BUDGET_BROTLI := 256000

.PHONY: help setup tools npm node build run test test-rust test-e2e lint wasm-size bench bench-tickets

help:
	@echo "make run    build and serve http://127.0.0.1:3000 with the embedded default storage"
	@echo "make test   run every test (Rust per package, then Playwright in Debian's chromium)"
	@echo "make lint   cargo fmt --check and clippy -D warnings for both the server and the wasm build"
	@echo "make bench  storage benchmark: workspace creation, cold open, warm lookup, RSS (SQLite, PostgreSQL)"
	@echo "make bench-tickets TICKETS=100000 BACKEND=sqlite|postgres   ticket list, page, counts, search, throughput, RSS"

setup: tools node

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -qF "$(CARGO_LEPTOS_VERSION)" \
	  || cargo install cargo-leptos --locked --version $(CARGO_LEPTOS_VERSION)
	@# Not --locked: its lockfile names a crate version the registry no longer has.
	@wasm-bindgen --version 2>/dev/null | grep -qF "$(WASM_BINDGEN_VERSION)" \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@# SQLCipher (bundled in libsqlite3-sys) builds against the system's OpenSSL.
	@missing=$$(for p in chromium libssl-dev pkg-config; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $$missing; fi

npm:
	@$(NPM) --version >/dev/null 2>&1 || { \
	  echo "npm does not run here; fetching npm $(NPM_VERSION) from the npm registry"; \
	  tgz=$$(mktemp); trap 'rm -f "$$tgz"' EXIT; \
	  curl -fsSL -o "$$tgz" https://registry.npmjs.org/npm/-/npm-$(NPM_VERSION).tgz; \
	  [ "$$(openssl dgst -sha512 -binary "$$tgz" | base64 -w0)" = "$(NPM_SHA512)" ] \
	    || { echo "npm $(NPM_VERSION): checksum mismatch"; exit 1; }; \
	  rm -rf $(NPM_HOME); mkdir -p $(NPM_HOME); tar -xzf "$$tgz" -C $(NPM_HOME); \
	  node $(NPM_HOME)/package/bin/npm-cli.js --version >/dev/null; }

node: end2end/node_modules/.installed

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json | npm
	cd end2end && $(NPM) ci --no-audit --no-fund
	@touch $@

# `--split`: each lazy route's code becomes a chunk the browser fetches when the route is visited.
build: setup
	cargo leptos build --release --split

run: build
	FERRODESK_SITE_ROOT=$(SITE_ROOT) $(SERVER_BIN) serve

# Runs each stage in turn and prints its wall time.
stage = start=$$(date +%s); $(MAKE) --no-print-directory $(1); echo "== stage $(1): $$(( $$(date +%s) - start )) s"

test:
	@$(call stage,setup)
	@$(call stage,test-rust)
	@$(call stage,build)
	@$(call stage,wasm-size)
	@$(call stage,test-e2e)

# Per package: `app` with ssr and `frontend` (hydrate) must never be built together in one cargo call.
# Storage tests run on SQLite, and on PostgreSQL when one answers at TEST_DATABASE_URL (default: local);
# FERRODESK_REQUIRE_POSTGRES=1 turns a missing server into a failure (CI sets it).
test-rust:
	cargo test --release -p app --features ssr
	cargo test --release -p domain
	cargo test --release -p server

test-e2e: node
	cd end2end && tsc -p .
	cd end2end && FERRODESK_BIN=$(SERVER_BIN) FERRODESK_SITE_ROOT=$(SITE_ROOT) playwright test

# Prints the size of the release wasm (raw, gzip, brotli) and fails over the budget. The budget is for the
# main module, which every page loads; each lazy route's own chunks (loaded when it is visited) are listed.
wasm-size:
	@brotli() { node -e 'const z=require("zlib"),f=require("fs");console.log(z.brotliCompressSync(f.readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length)' "$$1"; }; \
	wasm=$$(ls $(SITE_ROOT)/pkg/ferrodesk.*.wasm | head -n1); \
	raw=$$(stat -c %s "$$wasm"); \
	gz=$$(gzip -9 -c "$$wasm" | wc -c); \
	br=$$(brotli "$$wasm"); \
	echo "main wasm $$(basename $$wasm): raw $$raw B, gzip $$gz B, brotli $$br B (budget $(WASM_BUDGET_BROTLI) B brotli)"; \
	for route in $(SITE_ROOT)/pkg/split_*.wasm; do \
	  [ -e "$$route" ] && echo "  lazy route $$(basename $$route | sed 's/^split___//; s/_route_view.*//'): brotli $$(brotli "$$route") B"; \
	done; \
	echo "  shared chunks: $$(ls $(SITE_ROOT)/pkg/chunk_*.wasm 2>/dev/null | wc -l) files, $$(cat $(SITE_ROOT)/pkg/chunk_*.wasm 2>/dev/null | wc -c) B raw in all"; \
	[ "$$br" -le $(WASM_BUDGET_BROTLI) ] || { echo "the main wasm is over its brotli budget"; exit 1; }

bench: tools
	cargo bench -p domain --bench tenancy

# The ticket benchmark over HTTP: `make bench-tickets TICKETS=1000000 BACKEND=postgres`.
TICKETS ?= 100000
BACKEND ?= sqlite
bench-tickets: tools
	cargo bench -p server --bench tickets -- --tickets $(TICKETS) --backend $(BACKEND)

lint:
	cargo fmt --all --check
	cargo clippy --release -p app --features ssr --all-targets -- -D warnings
	cargo clippy --release -p domain --all-targets -- -D warnings
	cargo clippy --release -p server --all-targets -- -D warnings
	cargo clippy --release -p frontend --target wasm32-unknown-unknown -- -D warnings
