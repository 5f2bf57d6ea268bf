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

# detect-secrets (PyPI) for `make secrets`, with its dependencies pinned, in a virtualenv under the cache.
FERRODESK_CACHE_DIR := $(or $(FERRODESK_CACHE_DIR),$(HOME)/.cache/ferrodesk)
DETECT_SECRETS_VERSION := 1.5.0
DETECT_SECRETS_PINS := detect-secrets==$(DETECT_SECRETS_VERSION) PyYAML==6.0.4 requests==2.34.2 \
  certifi==2026.10.19.post1 charset-normalizer==3.5.3 idna==3.21 urllib3==2.8.0
DETECT_SECRETS_HOME := $(FERRODESK_CACHE_DIR)/detect-secrets-$(DETECT_SECRETS_VERSION)
DETECT_SECRETS := $(DETECT_SECRETS_HOME)/bin/detect-secrets

.PHONY: help setup tools npm node build run test test-rust test-e2e lint wasm-size bench bench-tickets durability secrets secrets-tool secrets-baseline

help:
	@echo "make run    build and serve http://127.0.0.1:3000 with the embedded default storage"
	@echo "make test   run every test (Rust per package, then Playwright in Debian's chromium)"
	@echo "make lint   cargo fmt --check and clippy -D warnings for both the server and the wasm build"
	@echo "make secrets   scan the tracked files for committed secrets (detect-secrets against .secrets.baseline)"
	@echo "make bench  storage benchmark: workspace creation, cold open, warm lookup, RSS (SQLite, PostgreSQL)"
	@echo "make bench-tickets TICKETS=100000 BACKEND=sqlite|postgres   ticket list, page, counts, search, throughput, RSS"
	@echo "make durability ROUNDS=100   kill -9 the release server at random moments under 8 writing clients, ROUNDS"
	@echo "           times per backend; every acknowledged ticket and reply must be stored whole (docs/security.md row 39)"

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
	cargo test --release -p vocab
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

# The durability harness (docs/security.md row 39, server/tests/durability/): eight clients open tickets and reply
# while the release server is killed with SIGKILL at random moments and restarted; after every kill each
# acknowledged write must be stored whole and nothing half-written. `make test` runs 10 rounds per backend; this
# runs ROUNDS, on SQLite and on PostgreSQL (when one answers at TEST_DATABASE_URL; FERRODESK_REQUIRE_POSTGRES=1
# makes it required). FERRODESK_DURABILITY_SEED=<seed> repeats a run's schedule.
ROUNDS ?= 100
durability: tools
	FERRODESK_DURABILITY_ROUNDS=$(ROUNDS) cargo test --release -p server --test durability -- --nocapture --test-threads=1

lint:
	cargo fmt --all --check
	cargo clippy --release -p app --features ssr --all-targets -- -D warnings
	cargo clippy --release -p domain --all-targets -- -D warnings
	cargo clippy --release -p server --all-targets -- -D warnings
	cargo clippy --release -p vocab -p testkit --all-targets --all-features -- -D warnings
	cargo clippy --release -p frontend --target wasm32-unknown-unknown -- -D warnings

# Committed secrets. detect-secrets scans every tracked file, and every new file git does not ignore, against
# .secrets.baseline, the allow-list: a finding passes only when the baseline holds it audited as no secret
# ("is_secret": false), which is for test fixtures and documented test values. Anything else fails: a new
# finding, one added to the baseline but never audited, one audited as real. The scan runs on a copy of the
# baseline, so moved line numbers need no update; --no-verify: nothing found is sent anywhere to be checked.
# Lockfiles, target/ and node_modules/ are excluded (the patterns are kept in the baseline). A new finding
# that is a test value: `make secrets-baseline`, label it with `$(DETECT_SECRETS) audit .secrets.baseline`,
# and commit the baseline.
secrets: secrets-tool
	@baseline=$$(mktemp); trap 'rm -f "$$baseline"' EXIT; cp .secrets.baseline "$$baseline"; \
	$(secrets_files); \
	$(DETECT_SECRETS) scan --no-verify --baseline "$$baseline" "$${files[@]}"; \
	$(DETECT_SECRETS_HOME)/bin/python -c "$$SECRETS_VERDICT" "$$baseline" .secrets.baseline "$${#files[@]}"

# Re-catalogues .secrets.baseline in place: audit labels are kept, new findings come in unaudited.
secrets-baseline: secrets-tool
	@$(secrets_files); \
	$(DETECT_SECRETS) scan --no-verify --baseline .secrets.baseline "$${files[@]}"; \
	echo "updated .secrets.baseline; label what is new with: $(DETECT_SECRETS) audit .secrets.baseline"

# Installed once into a fresh virtualenv, again only when the pins change.
secrets-tool:
	@[ "$$(cat $(DETECT_SECRETS_HOME)/.pins 2>/dev/null)" = "$(DETECT_SECRETS_PINS)" ] || { \
	  echo "installing $(DETECT_SECRETS_PINS) into $(DETECT_SECRETS_HOME)"; \
	  rm -rf $(DETECT_SECRETS_HOME); python3 -m venv $(DETECT_SECRETS_HOME); \
	  $(DETECT_SECRETS_HOME)/bin/pip install --quiet --disable-pip-version-check $(DETECT_SECRETS_PINS); \
	  echo "$(DETECT_SECRETS_PINS)" > $(DETECT_SECRETS_HOME)/.pins; }

# The files to scan, into the bash array `files`: tracked or new and not ignored, and present in the work tree.
secrets_files = mapfile -d '' listed < <(git ls-files -z --cached --others --exclude-standard --deduplicate); \
	files=(); for f in "$${listed[@]}"; do if [ -f "$$f" ]; then files+=("$$f"); fi; done; \
	[ $${\#files[@]} -gt 0 ] || { echo "secrets: no files to scan (not a git work tree?)"; exit 1; }

# Reads the scan's results (argv[1]) and fails on every one the committed baseline (argv[2]) does not clear.
define SECRETS_VERDICT
import json, sys
results = json.load(open(sys.argv[1]))["results"]
listed = {(name, s["hashed_secret"], s["type"]) for name, found in json.load(open(sys.argv[2]))["results"].items() for s in found}
findings = [(name, s) for name, found in sorted(results.items()) for s in found]
bad = [(name, s) for name, s in findings if s.get("is_secret") is not False]
for name, s in bad:
    if s.get("is_secret"):
        why = "audited as a real secret"
    elif (name, s["hashed_secret"], s["type"]) in listed:
        why = "in .secrets.baseline but never audited"
    else:
        why = "new, not in .secrets.baseline"
    print("%s:%s: %s, %s" % (name, s["line_number"], s["type"], why))
if bad:
    print("secrets: %d finding(s) above; remove the secret (and rotate it), or if it is a test value, "
          "run make secrets-baseline and audit it (see the Makefile)" % len(bad))
    sys.exit(1)
print("secrets: %s files scanned, %d finding(s), all audited test values in .secrets.baseline"
      % (sys.argv[3], len(findings)))
endef
export SECRETS_VERDICT
