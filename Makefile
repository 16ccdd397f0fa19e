# meshmeet — the commands the README gives. Each one installs what it needs first.
#   make run    build and serve on the embedded default config (http://127.0.0.1:8080/)
#   make test   type-check, unit + integration tests, browser end-to-end tests
#   make bench  benchmarks → a table on stdout and bench/results.json
#   make turn   coturn for this relay in the foreground; then: make run CONFIG=config/turn.toml

SHELL := /bin/bash
.DEFAULT_GOAL := run
NODE_DEPS := node_modules/.package-lock.json
E2E := unshare -n bash scripts/netns-run.sh

.PHONY: deps build run turn test test-unit test-components test-e2e typecheck bench clean

# npm ci writes node_modules/.package-lock.json; it is our "installed" stamp.
$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NODE_DEPS)

build: deps
	npx tsx scripts/build.ts

# CONFIG: a TOML file laid over the embedded default (else config/meshmeet.toml, if present).
run: build
	node dist/server/main.js $(CONFIG)

turn:
	bash scripts/turn.sh

typecheck: deps
	npx tsc --noEmit -p .

# The Jellyfin fixture makes its media with ffmpeg, which ensure-chromium.sh installs too.
test-unit: deps
	bash scripts/ensure-chromium.sh
	npx vitest run

# lit components in Chromium (web-test-runner), inside the namespace like every browser test.
test-components: deps
	bash scripts/ensure-chromium.sh
	$(E2E) bash scripts/run-component-tests.sh

test-e2e: build
	bash scripts/ensure-chromium.sh
	$(E2E) npx vitest run -c vitest.e2e.config.ts

test: typecheck test-unit test-components test-e2e

# Inside the namespace too: the browser benchmarks need it, and the relay one stays on loopback.
bench: build
	bash scripts/ensure-chromium.sh
	$(E2E) npx tsx bench/run.ts

clean:
	rm -rf dist
